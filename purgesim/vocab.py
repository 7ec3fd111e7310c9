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
                          "remarked", "discharged")
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
NATIONAL_OPERATIONS: tuple[str, ...] = ("german_00439", "polish_00485", "harbin_00593", "latvian",
                                        "other_national")

OPERATION_LABELS: dict[str, str] = {
    "ordinary": "ordinary NKVD work", "kulak_00447": "Order 00447 (kulak)",
    "german_00439": "German (00439)", "polish_00485": "Polish (00485)",
    "harbin_00593": "Harbin (00593)", "latvian": "Latvian", "other_national": "other national",
    "elite": "elite",
}

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
SOURCE_LABELS: dict[str, str] = {
    "named": "named under interrogation", "denunciation": "denounced", "remark": "remark reported",
    "sabotage": "blamed for sabotage", "card_file": "card-file sweep", "family": "family member",
    "elite": "elite purge",
}

SENTENCES: tuple[str, ...] = ("cat1", "cat2", "released")
SENT = {name: code for code, name in enumerate(SENTENCES)}
SENTENCE_LABELS: dict[str, str] = {"cat1": "shot (category 1)", "cat2": "camp (category 2)",
                                   "released": "released unconvicted"}
PENDING = -1

# Dated events a scenario's calendar may hold (data/calendar.csv gives the sources of most).
EVENTS: tuple[str, ...] = (
    "yezhov_appointed",
    "wrecking_review",
    "plenum_feb_1937",
    "red_army_purge",
    "physical_methods",
    "order_00439",
    "order_00447",
    "order_00485",
    "order_00486",
    "order_00593",
    "latvian_operation",
    "limits_extension_1938",
    "ukraine_raise_1938",
    "national_operations_end",
    "order_00606",
    "order_00689",
    "stop_decree",
    "beria_appointed",
)

# Where each person is, one byte per person. Only FREE people can be arrested.
FREE, HELD, SHOT, CAMP, RELEASED, DIED = range(6)
STATUSES: tuple[str, ...] = ("free", "held", "shot", "camp", "released", "died")
