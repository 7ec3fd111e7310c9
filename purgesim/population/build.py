"""Building the population of a scenario: a short list of named steps (MODEL.md section 2).

Every step draws from the one generator of the build, ``stream(seed, "population")``, so the
order of the steps in :func:`build_population` is part of the population: moving a step, or a
draw within one, changes every array built after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from purgesim import datasets
from purgesim.engine.random import sparse_bernoulli, sparse_bernoulli_chunks, stream
from purgesim.population.blocks import block_members
from purgesim.population.kernels import (
    assign_occupations,
    count_party_and_rank,
    finish_taint,
    flag_adults,
    ids_by_slot,
    join_rank_and_file,
    register_card_file,
)
from purgesim.population.params import PopulationParams
from purgesim.population.people import Population
from purgesim.population.sizes import CHUNK, block_sizes, coprime_multiplier, household_sizes, split
from purgesim.vocab import FLAG, OCC, OCCUPATIONS, TAINT_BIT, WP

if TYPE_CHECKING:
    from purgesim.scenario import Scenario

# Probability of party membership by occupation; workers and peasants then fill the party up
# to its 1934 size (history.csv party_members_and_candidates_1934). Assumptions.
PARTY_PROBABILITY = {
    "official_local": 0.9,
    "official_regional": 0.95,
    "official_republic": 1.0,
    "manager": 0.8,
    "officer": 0.6,
    "nkvd": 0.9,
    "specialist": 0.2,
}
# Offices by tier: district, region (oblast), republic. Assumption.
OFFICE_TIERS = (0.75, 0.2, 0.05)
_EVERY_OCCUPATION = tuple(OCC.values())


@dataclass(frozen=True)
class _Regions:
    """The regions as blocks of ids, each headed by its elite (weight-1 agents)."""

    names: tuple[str, ...]
    offsets: np.ndarray  # int64 (R + 1)
    real: np.ndarray  # int64 (R): real people represented
    ordinary: np.ndarray  # int64 (R): agents standing for ``scale`` people each
    delegates: np.ndarray  # int64 (R): Congress delegates, the Central Committee among them
    n_cc: int  # Central Committee members and candidates, at the start of the RSFSR
    scale: int  # real people per ordinary agent

    @property
    def n(self) -> int:
        return int(self.offsets[-1])


@dataclass(frozen=True)
class _Workplaces:
    """The workplaces as blocks of ids, and their kinds (``WP`` codes)."""

    offsets: np.ndarray  # int64 (W + 1)
    kind: np.ndarray  # uint8 (W)

    def of(self, i: int) -> int:
        """The workplace holding id ``i``, where a kernel's walk along the workplaces starts."""
        return int(np.searchsorted(self.offsets, i, side="right")) - 1

    def kind_of(self, ids: np.ndarray) -> np.ndarray:
        """The kind of the workplace holding each id."""
        return self.kind[np.searchsorted(self.offsets, ids, side="right") - 1]


@dataclass(frozen=True)
class _Households:
    """Households as blocks of positions in a per-region affine permutation of the ids."""

    offsets: np.ndarray  # int32 (H + 1; int64 from 2**31 agents)
    mult: np.ndarray  # int64 (R)
    shift: np.ndarray  # int64 (R)
    inverse: np.ndarray  # int64 (R)


@dataclass(frozen=True)
class _Patronage:
    """Patron-client links of the officials and managers, and their clients as a CSR."""

    patron_ids: np.ndarray  # int64 (P), sorted
    patron_of: np.ndarray  # int64 (P), -1 for none
    client_offsets: np.ndarray  # int64 (P + 1)
    client_ids: np.ndarray  # int64


def build_population(scenario: Scenario) -> Population:
    """Build the population of ``scenario`` (deterministic in its seed and scale)."""
    p = scenario.population
    rng = stream(scenario.seed, "population")
    regions = _regions(scenario.scale)
    workplaces = _workplaces(regions, p, rng)
    occupation = _occupations(regions.n, workplaces, p, rng)
    _office_tiers(occupation, regions, workplaces, rng)
    flags = _elite(regions, occupation)
    _clergy(occupation, p, rng)
    nation = _nationalities(regions, rng)
    taint, n_tainted = _taint(regions, occupation, nation, workplaces, p, rng)
    card_file = _card_file(taint, occupation, flags, workplaces, n_tainted, p, rng)
    card_file = _registered_nationals(card_file, nation, occupation, flags, workplaces,
                                      stream(scenario.seed, "population.registers"))
    _ground_truth_and_informants(flags, occupation, workplaces, p, rng)
    _party(regions, occupation, flags, rng)
    households = _households(regions, p, rng)
    patronage = _patron_client(regions, occupation, flags, rng)
    return Population(
        scale=scenario.scale,
        region_names=regions.names,
        region_offsets=regions.offsets,
        region_real=regions.real,
        elite_count=regions.delegates,
        workplace_offsets=workplaces.offsets,
        workplace_kind=workplaces.kind,
        household_offsets=households.offsets,
        household_mult=households.mult,
        household_shift=households.shift,
        household_inverse=households.inverse,
        occupation=occupation,
        taint=taint,
        flags=flags,
        nation=nation,
        patron_ids=patronage.patron_ids,
        patron_of=patronage.patron_of,
        client_offsets=patronage.client_offsets,
        client_ids=patronage.client_ids,
        card_file=card_file,
    )


def _regions(scale: int) -> _Regions:
    """The regions' sizes in agents, with the elite: one agent per person at every scale."""
    regions = datasets.regions()
    names = tuple(r.name for r in regions)
    real = np.array([r.population for r in regions], dtype=np.int64)
    # Central Committee members sit in Moscow (the RSFSR); the other delegates are spread by
    # population over the republics
    n_cc = int(datasets.figure("cc17_members") + datasets.figure("cc17_candidates"))
    n_delegates = int(datasets.figure("congress17_delegates"))
    republics = np.array([r.name != "Gulag" for r in regions])
    delegates = np.zeros(len(regions), dtype=np.int64)
    delegates[republics] = split(n_delegates - n_cc, real[republics].astype(float))
    delegates[names.index("RSFSR")] += n_cc
    ordinary = np.maximum(np.rint((real - delegates) / scale).astype(np.int64), 1)
    offsets = np.concatenate([[0], np.cumsum(ordinary + delegates)]).astype(np.int64)
    return _Regions(names=names, offsets=offsets, real=ordinary * scale + delegates, scale=scale,
                    ordinary=ordinary, delegates=delegates, n_cc=n_cc)


def _workplaces(regions: _Regions, p: PopulationParams,
                rng: np.random.Generator) -> _Workplaces:
    """Workplaces as contiguous blocks of heavy-tailed sizes, the leadership first in each
    region, then kolkhozes, factories, offices, army and NKVD units (camps in the Gulag)."""
    wp_sizes, wp_kinds = [], []
    kinds = ("factory", "office", "army_unit", "nkvd_unit")
    for r, name in enumerate(regions.names):
        ordinary = regions.ordinary[r]
        if regions.delegates[r] > 0:
            wp_sizes.append(np.array([regions.delegates[r]]))
            wp_kinds.append(np.array([WP["leadership"]]))
        if name == "Gulag":
            s = block_sizes(int(ordinary), p.camp_size_median, 0.5, 5000, rng)
            wp_sizes.append(s)
            wp_kinds.append(np.full(len(s), WP["camp"]))
            continue
        targets = {k: int(round(p.workplaces[k].share * ordinary)) for k in kinds}
        targets["kolkhoz"] = int(ordinary) - sum(targets.values())
        for kind in ("kolkhoz", *kinds):
            w = p.workplaces[kind]
            s = block_sizes(targets[kind], w.size_median, w.size_sigma, w.size_max, rng)
            wp_sizes.append(s)
            wp_kinds.append(np.full(len(s), WP[kind]))
    wp_size = np.concatenate(wp_sizes).astype(np.int64)
    kind_of = np.concatenate(wp_kinds).astype(np.uint8)
    offsets = np.concatenate([[0], np.cumsum(wp_size)]).astype(np.int64)
    assert offsets[-1] == regions.n
    return _Workplaces(offsets=offsets, kind=kind_of)


def _occupations(n: int, workplaces: _Workplaces, p: PopulationParams,
                 rng: np.random.Generator) -> np.ndarray:
    """Occupations (uint8) from the kind of workplace and the rank within it."""
    n_kinds = len(WP)
    head = np.full(n_kinds, OCC["other"], dtype=np.uint8)
    staff = np.full(n_kinds, OCC["other"], dtype=np.uint8)
    rank = np.full(n_kinds, OCC["other"], dtype=np.uint8)
    staff_share = np.zeros(n_kinds, dtype=np.float32)
    dependents = np.full(n_kinds, p.dependent_share, dtype=np.float32)
    for kind, (h, s, k) in {
        "kolkhoz": ("manager", "specialist", "peasant"),
        "factory": ("manager", "specialist", "worker"),
        "office": ("official_local", "official_local", "other"),
        "army_unit": ("officer", "officer", "other"),
        "nkvd_unit": ("nkvd", "nkvd", "nkvd"),
    }.items():
        code = WP[kind]
        head[code], staff[code], rank[code] = OCC[h], OCC[s], OCC[k]
        staff_share[code] = p.workplaces[kind].staff_share
    for kind in ("army_unit", "nkvd_unit", "leadership"):
        dependents[WP[kind]] = 0.0
    head[WP["camp"]] = staff[WP["camp"]] = rank[WP["camp"]] = OCC["prisoner"]
    dependents[WP["camp"]] = 0.0

    # one uniform per person decides staff, rank and file or dependent; drawn in chunks (the
    # same numbers as one big draw) so no per-person temporary is ever built
    occupation = np.empty(n, dtype=np.uint8)
    keep_below = (1.0 - dependents).astype(np.float32)
    u = np.empty(min(n, CHUNK), dtype=np.float32)
    for start in range(0, n, CHUNK):
        chunk = rng.random(min(CHUNK, n - start), dtype=np.float32, out=u[: n - start])
        assign_occupations(occupation, start, chunk, workplaces.of(start), workplaces.offsets,
                           workplaces.kind, head, staff, rank, staff_share, keep_below,
                           OCC["other"])
    return occupation


def _office_tiers(occupation: np.ndarray, regions: _Regions, workplaces: _Workplaces,
                  rng: np.random.Generator) -> None:
    """Officials hold their office's level: of each republic's officials, in offices taken in
    a random order, the first share stay local (district), the next are regional and the last
    republic-level (``OFFICE_TIERS``). Shares of people, not of offices: at coarse scales a
    republic has only a few offices, and a tier drawn per office left some without any
    regional official at all."""
    offices = np.flatnonzero(workplaces.kind == WP["office"])
    region = np.searchsorted(regions.offsets, workplaces.offsets[offices], side="right") - 1
    order = np.lexsort((rng.random(len(offices)), region))
    offices, region = offices[order], region[order]
    cuts = np.cumsum(OFFICE_TIERS)[:2]
    for r in range(len(regions.names)):
        members = block_members(workplaces.offsets, offices[region == r])
        officials = members[occupation[members] == OCC["official_local"]]
        first, second = np.rint(cuts * len(officials)).astype(np.int64)
        occupation[officials[first:second]] = OCC["official_regional"]
        occupation[officials[second:]] = OCC["official_republic"]


def _elite(regions: _Regions, occupation: np.ndarray) -> np.ndarray:
    """The flags (uint8), with the delegates and the Central Committee marked, and their
    occupations."""
    flags = np.zeros(regions.n, dtype=np.uint8)
    for r in range(len(regions.names)):
        lo = regions.offsets[r]
        flags[lo: lo + regions.delegates[r]] |= FLAG["delegate"]
        occupation[lo: lo + regions.delegates[r]] = OCC["official_regional"]
    rsfsr = regions.offsets[regions.names.index("RSFSR")]
    flags[rsfsr: rsfsr + regions.n_cc] |= FLAG["cc_member"]
    occupation[rsfsr: rsfsr + regions.n_cc] = OCC["official_republic"]
    return flags


def _clergy(occupation: np.ndarray, p: PopulationParams, rng: np.random.Generator) -> None:
    """Clergy among the rank and file of kolkhozes and factories."""
    clergy = sparse_bernoulli(len(occupation), p.clergy_share, rng)
    clergy = clergy[np.isin(occupation[clergy], (OCC["peasant"], OCC["worker"]))]
    occupation[clergy] = OCC["clergy"]


def _flag_adults(target: np.ndarray, bit: int, ids: np.ndarray, occupation: np.ndarray,
                 workplaces: _Workplaces,
                 occupations: tuple[int, ...] = _EVERY_OCCUPATION) -> None:
    """``target[ids[adult[ids] & isin(occupation[ids], occupations)]] |= bit``.

    Adults are everyone in work, and soldiers and clerks too (everyone outside a kolkhoz): the
    kernel tells them by their occupation and workplace, so no per-person array is built."""
    if len(ids) == 0:
        return
    allowed = np.zeros(len(OCCUPATIONS), dtype=np.bool_)
    allowed[list(occupations)] = True
    flag_adults(target, bit, ids, workplaces.of(ids[0]), allowed, occupation, workplaces.offsets,
                workplaces.kind, OCC["other"], WP["kolkhoz"])


def _nationalities(regions: _Regions, rng: np.random.Generator) -> np.ndarray:
    """Diaspora nationalities (uint8 codes, 0 for none): census shares over the republics."""
    n = regions.n
    nation = np.zeros(n, dtype=np.uint8)
    census_1939 = datasets.figure("census_1939_population_published")
    names = regions.names
    in_republics = regions.offsets[names.index("Gulag")] if "Gulag" in names else n
    for nat in datasets.diaspora():
        for ids in sparse_bernoulli_chunks(int(in_republics), nat.population / census_1939, rng):
            nation[ids] = nat.code
    return nation


def _taint(regions: _Regions, occupation: np.ndarray, nation: np.ndarray,
           workplaces: _Workplaces, p: PopulationParams,
           rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Taint bits (uint8) as shares of adults, and how many adults carry any."""
    taint = np.zeros(regions.n, dtype=np.uint8)
    for bit, share in p.taint.items():
        # peasants and prisoners carry the kulak bit; anyone the others
        carriers = (OCC["peasant"], OCC["prisoner"]) if bit == "kulak" else _EVERY_OCCUPATION
        for ids in sparse_bernoulli_chunks(regions.n, share, rng):
            _flag_adults(taint, TAINT_BIT[bit], ids, occupation, workplaces, carriers)
    gulag = regions.names.index("Gulag")
    taint[regions.offsets[gulag]: regions.offsets[gulag + 1]] |= TAINT_BIT["prior_conviction"]
    # diaspora nationals and clergy carry their bits
    n_tainted = finish_taint(taint, nation, occupation, workplaces.offsets, workplaces.kind,
                             TAINT_BIT["diaspora"], OCC["clergy"], TAINT_BIT["believer"],
                             OCC["other"], WP["kolkhoz"])
    return taint, n_tainted


def _card_file(taint: np.ndarray, occupation: np.ndarray, flags: np.ndarray,
               workplaces: _Workplaces, n_tainted: int, p: PopulationParams,
               rng: np.random.Generator) -> np.ndarray:
    """The NKVD card file (sorted int64 ids), also marked in ``flags``."""
    # each taint bit registers with its own probability; one uniform per tainted adult, in
    # order of id, drawn a chunk at a time (no list of the tainted)
    bits = np.array([TAINT_BIT[bit] for bit in p.card_file], dtype=np.uint8)
    keep = np.array([1.0 - prob for prob in p.card_file.values()], dtype=np.float64)
    # (room for every tainted adult: only the pages written, the registered, are ever used)
    card_file = np.empty(n_tainted, dtype=np.int64)
    registered, start = 0, 0
    u64 = np.empty(min(n_tainted, CHUNK), dtype=np.float64)
    for done in range(0, n_tainted, CHUNK):
        chunk = rng.random(min(CHUNK, n_tainted - done), out=u64[: n_tainted - done])
        registered, start = register_card_file(card_file, registered, taint, occupation,
                                               workplaces.offsets, workplaces.kind,
                                               OCC["other"], WP["kolkhoz"], start,
                                               workplaces.of(start), chunk, bits, keep)
    card_file = card_file[:registered]
    flags[card_file] |= FLAG["card_file"]
    return card_file


def _registered_nationals(card_file: np.ndarray, nation: np.ndarray, occupation: np.ndarray,
                          flags: np.ndarray, workplaces: _Workplaces,
                          rng: np.random.Generator) -> np.ndarray:
    """The card file with the adults of groups the NKVD had on registers of their own
    (data/diaspora.csv ``registered``: the Harbin returnees were a register, not a census
    nationality), each with that probability; a stream of its own, so nothing else moves."""
    for nat in datasets.diaspora():
        if nat.registered is None:
            continue
        ids = np.flatnonzero(nation == nat.code)
        ids = ids[(workplaces.kind_of(ids) != WP["kolkhoz"]) | (occupation[ids] != OCC["other"])]
        ids = ids[rng.random(len(ids)) < nat.registered]
        # a few thousand names into a sorted file of millions: insert, do not re-sort
        at = np.minimum(np.searchsorted(card_file, ids), max(len(card_file) - 1, 0))
        on_file = card_file[at] == ids if len(card_file) else np.zeros(len(ids), dtype=bool)
        new = ids[~on_file]
        card_file = np.insert(card_file, np.searchsorted(card_file, new), new)
        flags[new] |= FLAG["card_file"]  # the rest were flagged when the file was drawn
    return card_file


def _ground_truth_and_informants(flags: np.ndarray, occupation: np.ndarray,
                                 workplaces: _Workplaces, p: PopulationParams,
                                 rng: np.random.Generator) -> None:
    """The guilty (ground truth) and the informants, more of them in offices, among adults."""
    n = len(flags)
    for ids in sparse_bernoulli_chunks(n, p.guilty_prevalence, rng):
        _flag_adults(flags, FLAG["guilty"], ids, occupation, workplaces)
    for ids in sparse_bernoulli_chunks(n, p.informant_share, rng):
        _flag_adults(flags, FLAG["informant"], ids, occupation, workplaces)
    extra_share = min(1.0, p.informant_share * max(p.informant_office_multiplier - 1.0, 0.0))
    for ids in sparse_bernoulli_chunks(n, extra_share, rng):
        in_office = workplaces.kind[np.searchsorted(workplaces.offsets, ids, "right") - 1]
        _flag_adults(flags, FLAG["informant"], ids[in_office == WP["office"]], occupation,
                     workplaces)


def _party(regions: _Regions, occupation: np.ndarray, flags: np.ndarray,
           rng: np.random.Generator) -> None:
    """Party membership: leaders and cadres first, then workers and peasants up to the
    party's 1934 size."""
    delegates = regions.delegates
    party_share = datasets.figure("party_members_and_candidates_1934") / datasets.figure(
        "census_1937_population")
    target = int(round(party_share * (regions.n - delegates.sum()))) + int(delegates.sum())
    for r in range(len(regions.names)):  # the delegates (and only they) head each region's ids
        lo = regions.offsets[r]
        flags[lo: lo + delegates[r]] |= FLAG["party"]
    # the other cadres, listed by occupation in one pass
    slot = np.full(len(OCCUPATIONS), -1, dtype=np.int64)
    for i, name in enumerate(PARTY_PROBABILITY):
        slot[OCC[name]] = i
    cadre_ids, cadre_offsets = ids_by_slot(occupation, slot, len(PARTY_PROBABILITY), flags,
                                           FLAG["delegate"])
    cadres = {name: cadre_ids[cadre_offsets[i]: cadre_offsets[i + 1]]
              for i, name in enumerate(PARTY_PROBABILITY)}
    expected = sum(len(ids) * PARTY_PROBABILITY[name] for name, ids in cadres.items())
    thin = min(1.0, (target - int(delegates.sum())) / expected) if expected else 1.0
    for name, ids in cadres.items():
        flags[ids[rng.random(len(ids)) < PARTY_PROBABILITY[name] * thin]] |= FLAG["party"]
    del cadres, cadre_ids  # a few percent of the population as int64, freed before the pass
    # workers and peasants (the rank and file) fill the party up to its size; they are
    # counted and then picked by their rank among the rank and file, never listed
    is_rank = np.zeros(len(OCCUPATIONS), dtype=np.bool_)
    is_rank[[OCC["worker"], OCC["peasant"]]] = True
    have, n_rank = count_party_and_rank(flags, occupation, FLAG["party"], is_rank)
    if target > have and n_rank:
        chosen = rng.choice(n_rank, size=min(target - have, n_rank), replace=False)
        join_rank_and_file(flags, occupation, np.sort(chosen), FLAG["party"], is_rank)


def _households(regions: _Regions, p: PopulationParams,
                rng: np.random.Generator) -> _Households:
    """Households: blocks in a per-region affine permutation of the region's ids."""
    n_regions = len(regions.names)
    mult = np.ones(n_regions, dtype=np.int64)
    shift = np.zeros(n_regions, dtype=np.int64)
    inverse = np.ones(n_regions, dtype=np.int64)
    pieces = []
    for r in range(n_regions):
        size = int(regions.offsets[r + 1] - regions.offsets[r])
        mult[r] = coprime_multiplier(size, rng)
        shift[r] = int(rng.integers(0, size))
        inverse[r] = pow(int(mult[r]), -1, size) if size > 1 else 1
        pieces.append(household_sizes(size, p.household_size_mean, rng))
    sizes = np.concatenate(pieces)
    del pieces
    # int32 while ids fit: half the memory (and page faults) of the biggest array built here
    offsets = np.empty(len(sizes) + 1, dtype=np.int32 if regions.n < 2**31 else np.int64)
    offsets[0] = 0
    offsets[1:] = sizes
    np.cumsum(offsets, dtype=offsets.dtype, out=offsets)
    return _Households(offsets=offsets, mult=mult, shift=shift, inverse=inverse)


def _by_weight(pool: np.ndarray, k: int, regions: _Regions, rng: np.random.Generator
               ) -> np.ndarray:
    """``k`` draws from ``pool`` in proportion to the real people each agent stands for (1 for
    the elite, ``scale`` for the others): a real official picks a real patron, so the 1,966
    delegates are not the patrons of a share of the officials that grows with the scale."""
    region = np.searchsorted(regions.offsets, pool, side="right") - 1
    elite = (pool - regions.offsets[region]) < regions.delegates[region]
    cumulative = np.cumsum(np.where(elite, 1.0, float(regions.scale)))
    return pool[np.searchsorted(cumulative, rng.random(k) * cumulative[-1], side="right")]


def _patron_client(regions: _Regions, occupation: np.ndarray, flags: np.ndarray,
                   rng: np.random.Generator) -> _Patronage:
    """Patron-client links: each official or manager has a patron one level up, in the same
    region; the top of the tree is the Central Committee."""
    level_of = np.full(len(OCCUPATIONS), -1, dtype=np.int64)
    level_of[[OCC["manager"], OCC["official_local"]]] = 0
    level_of[OCC["official_regional"]] = 1
    level_of[OCC["official_republic"]] = 2
    level_ids, level_offsets = ids_by_slot(occupation, level_of, 3, flags, 0)
    levels = [level_ids[level_offsets[i]: level_offsets[i + 1]] for i in range(3)]
    rsfsr = regions.offsets[regions.names.index("RSFSR")]
    cc = np.arange(rsfsr, rsfsr + regions.n_cc, dtype=np.int64)
    patron_ids = np.sort(np.concatenate(levels))
    patron_of = np.full(len(patron_ids), -1, dtype=np.int64)
    for level in range(3):
        clients = levels[level]
        if level < 2:
            upper = levels[level + 1]
            # ids are in increasing order within a level and regions are blocks of ids, so
            # each region's clients and patrons are a slice (no pass over every id per region)
            client_at = np.searchsorted(clients, regions.offsets)
            upper_at = np.searchsorted(upper, regions.offsets)
            for r in range(len(regions.names)):
                mine = clients[client_at[r]: client_at[r + 1]]
                pool = upper[upper_at[r]: upper_at[r + 1]]
                if len(pool) == 0:
                    pool = cc
                patron_of[np.searchsorted(patron_ids, mine)] = _by_weight(
                    pool, len(mine), regions, rng)
            if level == 1:
                # the elite's own network: the Congress delegates who led the regions were the
                # clients of the Central Committee, whose members made and unmade them
                delegates = clients[(flags[clients] & FLAG["delegate"]) > 0]
                patron_of[np.searchsorted(patron_ids, delegates)] = cc[
                    rng.integers(0, len(cc), len(delegates))]
        else:
            not_cc = clients[(flags[clients] & FLAG["cc_member"]) == 0]
            patron_of[np.searchsorted(patron_ids, not_cc)] = cc[
                rng.integers(0, len(cc), len(not_cc))]
    # the clients of each patron, as a CSR over patron_ids
    order = np.argsort(patron_of, kind="stable")
    has_patron = patron_of[order] >= 0
    children = patron_ids[order][has_patron]
    parents = patron_of[order][has_patron]
    slot = np.searchsorted(patron_ids, parents)
    counts = np.bincount(slot, minlength=len(patron_ids))
    client_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    client_ids = children[np.argsort(slot, kind="stable")]
    return _Patronage(patron_ids=patron_ids, patron_of=patron_of,
                      client_offsets=client_offsets, client_ids=client_ids)
