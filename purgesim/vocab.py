"""The closed vocabularies of purgesim: codes stored in arrays and names shown to users.

Arrays hold small integer codes (a byte per person); tables and reports show the names. The
order of each tuple is the code, so never reorder, only append.
"""

from __future__ import annotations

OCCUPATIONS: tuple[str, ...] = (
    "peasant",
    "worker",
    "specialist",
    "manager",
    "official_local",
    "official_regional",
    "official_republic",
    "officer",
    "nkvd",
    "clergy",
    "prisoner",
    "other",
)
OCC = {name: code for code, name in enumerate(OCCUPATIONS)}
OFFICIALS = (OCC["official_local"], OCC["official_regional"], OCC["official_republic"])

WORKPLACE_TYPES: tuple[str, ...] = (
    "leadership",
    "kolkhoz",
    "factory",
    "office",
    "army_unit",
    "nkvd_unit",
    "camp",
)
WP = {name: code for code, name in enumerate(WORKPLACE_TYPES)}

# Taint record: one bit each in a byte per person.
TAINTS: tuple[str, ...] = (
    "kulak",
    "other_party",
    "oppositionist",
    "foreign_links",
    "diaspora",
    "believer",
    "prior_conviction",
    "troublemaker",
)
TAINT_BIT = {name: 1 << i for i, name in enumerate(TAINTS)}

# Other per-person facts, one bit each in a byte per person.
FLAGS: tuple[str, ...] = ("card_file", "party", "guilty", "informant", "delegate", "cc_member",
                          "remarked")
FLAG = {name: 1 << i for i, name in enumerate(FLAGS)}

OPERATIONS: tuple[str, ...] = (
    "ordinary",
    "kulak_00447",
    "german_00439",
    "polish_00485",
    "harbin_00593",
    "latvian",
    "other_national",
    "elite",
)
OP = {name: code for code, name in enumerate(OPERATIONS)}

SOURCES: tuple[str, ...] = (
    "named",
    "denunciation",
    "remark",
    "sabotage",
    "card_file",
    "family",
    "elite",
)
SRC = {name: code for code, name in enumerate(SOURCES)}

SENTENCES: tuple[str, ...] = ("cat1", "cat2", "released")
SENT = {name: code for code, name in enumerate(SENTENCES)}
PENDING = -1

# Where each person is, one byte per person. Only FREE people can be arrested.
FREE, HELD, SHOT, CAMP, RELEASED, DIED = range(6)
STATUSES: tuple[str, ...] = ("free", "held", "shot", "camp", "released", "died")
