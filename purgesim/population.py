"""The synthetic Soviet population of 1937 as a struct of arrays (MODEL.md section 2).

Layout, chosen so that ``scale = 1`` (163 million agents) fits in about a gigabyte:

- Regions and workplaces are contiguous blocks of ids (an offsets array per level), so neither
  is stored per person. Each region's first ids are its Congress delegates and Central
  Committee members (weight 1 at every scale), who form its ``leadership`` workplace.
- Households are contiguous blocks in a per-region pseudo-random order (an affine permutation
  of the region's ids), so family members usually work in different places, and membership
  costs one offsets array instead of a per-person column plus an index.
- Four bytes per person: ``occupation``, ``taint`` (bit set), ``flags`` (card file, party,
  guilty, informant, delegate, Central Committee) and ``nation`` (diaspora code, 0 for none);
  plus ``status``, the one mutable byte, owned by the simulation.
- Patron-client links are sparse: only officials and managers carry them.

Contacts (coworkers, household, patron and clients, acquaintances) are generated on demand from
these arrays, so nothing grows with the square of a workplace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal

import numba
import numpy as np
from pydantic import Field, field_validator, model_validator

from purgesim import datasets
from purgesim.engine.random import sparse_bernoulli, sparse_bernoulli_chunks, stream
from purgesim.params import NonNegative, Probability, Section, Taint
from purgesim.vocab import FLAG, OCC, OCCUPATIONS, TAINT_BIT, TAINTS, WP

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
# Per-person random numbers are drawn this many at a time (the same numbers as one big draw).
_CHUNK = 1 << 20


class WorkplaceKind(Section):
    share: Probability
    """Share of a republic's ordinary agents who belong to this kind of workplace."""
    size_median: Annotated[float, Field(ge=1.0)]
    """Median size in agents (contacts are defined in agents, so they do not change with scale)."""
    size_sigma: NonNegative
    """Log-normal spread of sizes: heavy-tailed workplaces."""
    size_max: Annotated[int, Field(ge=1)]
    staff_share: Probability
    """Share of a workplace's members (after its head) in its skilled or command posts."""


class PopulationParams(Section):
    """The ``[population]`` table of a scenario: how the synthetic population is built."""

    household_size_mean: Annotated[float, Field(ge=1.0)]
    workplaces: dict[Literal["kolkhoz", "factory", "office", "army_unit", "nkvd_unit"],
                     WorkplaceKind]
    camp_size_median: Annotated[float, Field(ge=1.0)]
    dependent_share: Probability
    """Share of the members of a workplace who are dependents (occupation 'other')."""
    clergy_share: Probability
    taint: dict[Taint, Probability]
    """Share of adults with each taint bit (peasants carry the kulak bit only)."""
    card_file: dict[Taint, Probability]
    """Probability that the NKVD card file registers a person with this taint bit."""
    guilty_prevalence: Probability
    """Ground truth: share who really did what such charges alleged. An assumption, never a
    calibration target."""
    informant_share: Probability
    informant_office_multiplier: NonNegative

    @field_validator("taint")
    @classmethod
    def _taint_bits(cls, value: dict[str, float]) -> dict[str, float]:
        if "diaspora" in value:
            raise ValueError(
                "'diaspora' is not set here: it follows the census nationality table "
                "(data/diaspora.csv)"
            )
        missing = [t for t in TAINTS if t not in value and t != "diaspora"]
        if missing:
            raise ValueError(f"missing taint bits {missing}")
        return value

    @field_validator("card_file")
    @classmethod
    def _card_bits(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [t for t in TAINTS if t not in value]
        if missing:
            raise ValueError(f"missing taint bits {missing}; every one of {list(TAINTS)} is needed")
        return value

    @model_validator(mode="after")
    def _shares(self) -> PopulationParams:
        total = sum(k.share for k in self.workplaces.values())
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"population.workplaces shares add up to {total:.3f}; allowed: at most 1 "
                "(the rest of each republic lives in kolkhozes)"
            )
        return self


@dataclass
class Population:
    """One row per person, as arrays; blocks of ids for regions, workplaces and households."""

    scale: int
    region_names: tuple[str, ...]
    region_offsets: np.ndarray  # int64 (R + 1)
    region_real: np.ndarray  # int64 (R): real people represented
    elite_count: np.ndarray  # int64 (R): weight-1 agents at the start of each region
    workplace_offsets: np.ndarray  # int64 (W + 1)
    workplace_kind: np.ndarray  # uint8 (W)
    household_offsets: np.ndarray  # int32 (H + 1; int64 from 2**31 agents), positions in the
    # permuted order
    household_mult: np.ndarray  # int64 (R): affine permutation q = (a * i + b) mod n
    household_shift: np.ndarray  # int64 (R)
    household_inverse: np.ndarray  # int64 (R): a^-1 mod n
    occupation: np.ndarray  # uint8 (N)
    taint: np.ndarray  # uint8 (N)
    flags: np.ndarray  # uint8 (N)
    nation: np.ndarray  # uint8 (N)
    patron_ids: np.ndarray  # int64 (P): officials and managers, sorted
    patron_of: np.ndarray  # int64 (P): their patron, -1 for none
    client_offsets: np.ndarray = field(repr=False)  # CSR over patron_ids: clients of each
    client_ids: np.ndarray = field(repr=False)
    card_file: np.ndarray = field(repr=False)  # int64 sorted ids registered in the card file

    def __post_init__(self) -> None:
        # coarse indexes into the workplace and household offsets, so that finding the block
        # of an id looks at a few neighbouring offsets instead of binary-searching all of them
        self._workplace_index = _block_index(self.workplace_offsets)
        self._household_index = _block_index(self.household_offsets)

    # ------------------------------------------------------------------ sizes and lookups
    @property
    def n(self) -> int:
        return int(self.region_offsets[-1])

    @property
    def n_regions(self) -> int:
        return len(self.region_names)

    @property
    def n_workplaces(self) -> int:
        return len(self.workplace_kind)

    @property
    def n_households(self) -> int:
        return len(self.household_offsets) - 1

    def region_of(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.region_offsets, ids, side="right") - 1

    def workplace_of(self, ids: np.ndarray) -> np.ndarray:
        return _find_block(self.workplace_offsets, self._workplace_index, ids)

    def weight(self, ids: np.ndarray) -> np.ndarray:
        """Real people each agent stands for: 1 for the elite, ``scale`` for everyone else."""
        ids = np.asarray(ids, dtype=np.int64)
        region = self.region_of(ids)
        elite = (ids - self.region_offsets[region]) < self.elite_count[region]
        return np.where(elite, 1, self.scale).astype(np.int64)

    def _position(self, ids: np.ndarray, region: np.ndarray) -> np.ndarray:
        start = self.region_offsets[region]
        size = self.region_offsets[region + 1] - start
        return start + (self.household_mult[region] * (ids - start)
                        + self.household_shift[region]) % size

    def _person_at(self, positions: np.ndarray, region: np.ndarray) -> np.ndarray:
        start = self.region_offsets[region]
        size = self.region_offsets[region + 1] - start
        local = ((positions - start - self.household_shift[region]) % size
                 * self.household_inverse[region]) % size
        return start + local

    def household_of(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        positions = self._position(ids, self.region_of(ids))
        return _find_block(self.household_offsets, self._household_index, positions)

    def household_members(self, household: int) -> np.ndarray:
        lo, hi = self.household_offsets[household], self.household_offsets[household + 1]
        positions = np.arange(lo, hi, dtype=np.int64)
        region = self.region_of(positions)  # households never cross regions
        return self._person_at(positions, region)

    def random_household_member(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, one uniformly chosen member of their household (maybe themselves)."""
        ids = np.asarray(ids, dtype=np.int64)
        region = self.region_of(ids)
        house = _find_block(self.household_offsets, self._household_index,
                            self._position(ids, region))
        return self._person_at(_uniform_in_blocks(self.household_offsets, house, rng), region)

    def random_coworker(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, one uniformly chosen member of their workplace."""
        ids = np.asarray(ids, dtype=np.int64)
        return _uniform_in_blocks(self.workplace_offsets, self.workplace_of(ids), rng)

    def random_in_region(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, an acquaintance: anyone in the same region."""
        ids = np.asarray(ids, dtype=np.int64)
        return _uniform_in_blocks(self.region_offsets, self.region_of(ids), rng)

    def random_patron_or_client(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The patron or one of the clients of each person (uniformly over these links);
        -1 for people with neither."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), -1, dtype=np.int64)
        if len(self.patron_ids) == 0 or len(ids) == 0:
            return out
        k = np.minimum(np.searchsorted(self.patron_ids, ids), len(self.patron_ids) - 1)
        has = self.patron_ids[k] == ids
        k = k[has]
        patron = self.patron_of[k]
        lo = self.client_offsets[k]
        n_clients = self.client_offsets[k + 1] - lo
        links = n_clients + (patron >= 0)
        pick = (rng.random(len(k)) * links).astype(np.int64)
        if len(self.client_ids):
            client = self.client_ids[np.minimum(lo + pick, len(self.client_ids) - 1)]
        else:
            client = np.full(len(k), -1, dtype=np.int64)
        chosen = np.where(pick < n_clients, client, patron)
        chosen[links == 0] = -1
        out[has] = chosen
        return out

    def ids_where(self, occupations: tuple[int, ...] = (), flags: int = 0) -> np.ndarray:
        """Sorted ids of the people with one of ``occupations`` or any of the ``flags`` bits:
        ``np.flatnonzero(np.isin(occupation, occupations) | (self.flags & flags > 0))``, in
        two passes without population-sized temporaries."""
        wanted = np.zeros(256, dtype=np.bool_)
        wanted[list(occupations)] = True
        return _ids_where(self.occupation, wanted, self.flags, flags)

    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))

    def summary(self) -> dict[str, object]:
        occ = np.bincount(self.occupation, minlength=len(OCCUPATIONS))
        return {
            "agents": self.n,
            "real_people": int(self.region_real.sum()),
            "workplaces": self.n_workplaces,
            "households": self.n_households,
            "occupations": {name: int(c) for name, c in zip(OCCUPATIONS, occ, strict=True)},
            "card_file": len(self.card_file),
            "party": int(np.count_nonzero(self.flags & FLAG["party"])),
            "guilty": int(np.count_nonzero(self.flags & FLAG["guilty"])),
            "megabytes": round(self.nbytes() / 2**20, 1),
        }


# ---------------------------------------------------------------------------------- builder


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer parts of ``total`` in proportion to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    parts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - parts), kind="stable")
    parts[order[: total - parts.sum()]] += 1
    return parts


def _block_sizes(total: int, median: float, sigma: float, size_max: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Log-normal block sizes (at least 1) adding up exactly to ``total``."""
    mean = median * math.exp(sigma * sigma / 2)
    return _sizes_adding_to(total, mean, lambda k: np.clip(
        np.rint(rng.lognormal(math.log(median), sigma, k)), 1, size_max))


def _household_sizes(total: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    """1 + Poisson(mean - 1) sizes (uint8) adding up exactly to ``total``, drawn by inverting
    the distribution function: a uniform and a short search each, several times cheaper than
    numpy's Poisson sampler at 40 million households (the tail beyond 40 members, far below
    one in a billion, is cut).

    The same draws as :func:`_sizes_adding_to` would make (batches of uniforms until the sizes
    cover ``total``, the last size trimmed), but the uniforms come a chunk at a time and those
    beyond ``total`` are drawn only to keep the stream in step, never turned into sizes."""
    k = np.arange(40)
    pmf = np.exp(-(mean - 1.0) + k * math.log(max(mean - 1.0, 1e-300)) - np.array(
        [math.lgamma(x + 1) for x in k]))
    cdf = np.cumsum(pmf) / pmf.sum()
    if total <= 0:
        return np.empty(0, dtype=np.uint8)
    pieces, have = [], 0
    u = np.empty(_CHUNK, dtype=np.float32)
    while have < total:
        batch = int((total - have) / max(mean, 1.0) * 1.2) + 8
        for start in range(0, batch, _CHUNK):
            chunk = rng.random(min(_CHUNK, batch - start), dtype=np.float32,
                               out=u[: batch - start])
            if have < total:
                sizes, have = _poisson_sizes(cdf, chunk, total, have)
                pieces.append(sizes)
    return np.concatenate(pieces)


def _sizes_adding_to(total: int, mean: float, draw: Callable[[int], np.ndarray]) -> np.ndarray:
    """Draw block sizes in batches until they cover ``total``; trim the last to fit exactly."""
    if total <= 0:
        return np.empty(0, dtype=np.int64)
    chunks, have = [], 0
    while have < total:
        sizes = draw(int((total - have) / max(mean, 1.0) * 1.2) + 8).astype(np.int64)
        chunks.append(sizes)
        have += int(sizes.sum())
    sizes = np.concatenate(chunks)
    cum = np.cumsum(sizes)
    last = int(np.searchsorted(cum, total))
    sizes = sizes[: last + 1]
    sizes[-1] -= int(cum[last] - total)
    return sizes[sizes > 0]


def _uniform_in_blocks(offsets: np.ndarray, blocks: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """One uniformly chosen position in each of ``blocks`` (an offsets array's blocks)."""
    lo = offsets[blocks]
    return lo + (rng.random(len(blocks)) * (offsets[blocks + 1] - lo)).astype(np.int64)


# Ids per entry of a coarse block index (a power of two): 1/16 byte per id, and a few offsets
# to look at per lookup for workplaces (median 100 ids) and households (4).
_INDEX_SHIFT = 6


def _block_index(offsets: np.ndarray) -> np.ndarray:
    """For every ``2**_INDEX_SHIFT``-th id (and one past the last), the block holding it."""
    n = int(offsets[-1])
    marks = ((n - 1) >> _INDEX_SHIFT) + 2 if n > 0 else 1
    index = np.empty(marks, dtype=np.int32 if len(offsets) < 2**31 else np.int64)
    _fill_block_index(offsets, _INDEX_SHIFT, index)
    return index


def _find_block(offsets: np.ndarray, index: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.searchsorted(offsets, ids, side="right") - 1`` (the block of each id), using the
    coarse ``index`` of :func:`_block_index` for integer ids."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind != "i":
        return np.searchsorted(offsets, ids, side="right") - 1
    return _find_blocks(offsets, index, _INDEX_SHIFT, ids.astype(np.int64, copy=False))


def _coprime_multiplier(n: int, rng: np.random.Generator) -> int:
    if n <= 2:
        return 1
    a = int(rng.integers(n // 3, max(n // 3 + 1, 2 * n // 3))) | 1
    while math.gcd(a, n) != 1:
        a += 2
    return a % n or 1


def build_population(scenario: Scenario) -> Population:
    """Build the population of ``scenario`` (deterministic in its seed and scale)."""
    p = scenario.population
    scale = scenario.scale
    seed = scenario.seed
    rng = stream(seed, "population")
    regions = datasets.regions()
    names = tuple(r.name for r in regions)
    n_regions = len(regions)
    real = np.array([r.population for r in regions], dtype=np.int64)

    # The elite: one agent per person at every scale. Central Committee members sit in Moscow
    # (the RSFSR); the other delegates are spread by population over the republics.
    n_cc = int(datasets.figure("cc17_members") + datasets.figure("cc17_candidates"))
    n_delegates = int(datasets.figure("congress17_delegates"))
    republics = np.array([r.name != "Gulag" for r in regions])
    delegates = np.zeros(n_regions, dtype=np.int64)
    delegates[republics] = _split(n_delegates - n_cc, real[republics].astype(float))
    delegates[names.index("RSFSR")] += n_cc
    ordinary = np.maximum(np.rint((real - delegates) / scale).astype(np.int64), 1)
    sizes = ordinary + delegates
    region_offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    region_real = ordinary * scale + delegates
    n = int(region_offsets[-1])

    # ---- workplaces: contiguous blocks, the leadership first in each region
    wp_sizes, wp_kinds = [], []
    kinds = ("factory", "office", "army_unit", "nkvd_unit")
    for r in range(n_regions):
        if delegates[r] > 0:
            wp_sizes.append(np.array([delegates[r]]))
            wp_kinds.append(np.array([WP["leadership"]]))
        if names[r] == "Gulag":
            s = _block_sizes(int(ordinary[r]), p.camp_size_median, 0.5, 5000, rng)
            wp_sizes.append(s)
            wp_kinds.append(np.full(len(s), WP["camp"]))
            continue
        targets = {k: int(round(p.workplaces[k].share * ordinary[r])) for k in kinds}
        targets["kolkhoz"] = int(ordinary[r]) - sum(targets.values())
        for kind in ("kolkhoz", *kinds):
            w = p.workplaces[kind]
            s = _block_sizes(targets[kind], w.size_median, w.size_sigma, w.size_max, rng)
            wp_sizes.append(s)
            wp_kinds.append(np.full(len(s), WP[kind]))
    wp_size = np.concatenate(wp_sizes).astype(np.int64)
    workplace_kind = np.concatenate(wp_kinds).astype(np.uint8)
    workplace_offsets = np.concatenate([[0], np.cumsum(wp_size)]).astype(np.int64)
    assert workplace_offsets[-1] == n

    # ---- occupations from the kind of workplace and the rank within it
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
    u = np.empty(min(n, _CHUNK), dtype=np.float32)
    for start in range(0, n, _CHUNK):
        chunk = rng.random(min(_CHUNK, n - start), dtype=np.float32, out=u[: n - start])
        w = int(np.searchsorted(workplace_offsets, start, side="right")) - 1
        _assign_occupations(occupation, start, chunk, w, workplace_offsets, workplace_kind,
                            head, staff, rank, staff_share, keep_below, OCC["other"])
    del u

    # office tiers: officials of a regional or republic office hold that level
    offices = np.flatnonzero(workplace_kind == WP["office"])
    tier = rng.choice(3, size=len(offices), p=np.array(OFFICE_TIERS))
    for level, name in ((1, "official_regional"), (2, "official_republic")):
        chosen = offices[tier == level]
        members = _block_members(workplace_offsets, chosen)
        occupation[members[occupation[members] == OCC["official_local"]]] = OCC[name]

    # the elite
    flags = np.zeros(n, dtype=np.uint8)
    for r in range(n_regions):
        lo = region_offsets[r]
        flags[lo: lo + delegates[r]] |= FLAG["delegate"]
        occupation[lo: lo + delegates[r]] = OCC["official_regional"]
    rsfsr = region_offsets[names.index("RSFSR")]
    flags[rsfsr: rsfsr + n_cc] |= FLAG["cc_member"]
    occupation[rsfsr: rsfsr + n_cc] = OCC["official_republic"]

    # clergy among the rank and file of kolkhozes and factories
    clergy = sparse_bernoulli(n, p.clergy_share, rng)
    clergy = clergy[np.isin(occupation[clergy], (OCC["peasant"], OCC["worker"]))]
    occupation[clergy] = OCC["clergy"]

    # Adults are everyone in work, and soldiers and clerks too (everyone outside a kolkhoz):
    # the kernels below tell them by their occupation and workplace, no per-person array.
    def flag_adults(target: np.ndarray, bit: int, ids: np.ndarray,
                    occupations: tuple[int, ...] = tuple(OCC.values())) -> None:
        """``target[ids[adult[ids] & isin(occupation[ids], occupations)]] |= bit``."""
        if len(ids) == 0:
            return
        allowed = np.zeros(len(OCCUPATIONS), dtype=np.bool_)
        allowed[list(occupations)] = True
        w = int(np.searchsorted(workplace_offsets, ids[0], side="right")) - 1
        _flag_adults(target, bit, ids, w, allowed, occupation, workplace_offsets,
                     workplace_kind, OCC["other"], WP["kolkhoz"])

    # ---- diaspora nationalities (census shares, spread over the republics)
    nation = np.zeros(n, dtype=np.uint8)
    census_1939 = datasets.figure("census_1939_population_published")
    in_republics = region_offsets[names.index("Gulag")] if "Gulag" in names else n
    for nat in datasets.diaspora():
        for ids in sparse_bernoulli_chunks(int(in_republics), nat.population / census_1939, rng):
            nation[ids] = nat.code

    # ---- taint bits (shares of adults); peasants and prisoners carry the kulak bit
    taint = np.zeros(n, dtype=np.uint8)
    for bit, share in p.taint.items():
        carriers = (OCC["peasant"], OCC["prisoner"]) if bit == "kulak" else tuple(OCC.values())
        for ids in sparse_bernoulli_chunks(n, share, rng):
            flag_adults(taint, TAINT_BIT[bit], ids, carriers)
    gulag = names.index("Gulag")
    taint[region_offsets[gulag]: region_offsets[gulag + 1]] |= TAINT_BIT["prior_conviction"]
    # diaspora nationals and clergy carry their bits
    n_tainted = _finish_taint(taint, nation, occupation, workplace_offsets, workplace_kind,
                              TAINT_BIT["diaspora"], OCC["clergy"], TAINT_BIT["believer"],
                              OCC["other"], WP["kolkhoz"])

    # ---- card file: each taint bit registers with its own probability; one uniform per
    # tainted adult, in order of id, drawn a chunk at a time (no list of the tainted)
    bits = np.array([TAINT_BIT[bit] for bit in p.card_file], dtype=np.uint8)
    keep = np.array([1.0 - prob for prob in p.card_file.values()], dtype=np.float64)
    # (room for every tainted adult: only the pages written, the registered, are ever used)
    card_file = np.empty(n_tainted, dtype=np.int64)
    registered, start = 0, 0
    u64 = np.empty(min(n_tainted, _CHUNK), dtype=np.float64)
    for done in range(0, n_tainted, _CHUNK):
        chunk = rng.random(min(_CHUNK, n_tainted - done), out=u64[: n_tainted - done])
        w = int(np.searchsorted(workplace_offsets, start, side="right")) - 1
        registered, start = _card_file(card_file, registered, taint, occupation,
                                       workplace_offsets, workplace_kind, OCC["other"],
                                       WP["kolkhoz"], start, w, chunk, bits, keep)
    del u64
    card_file = card_file[:registered]
    flags[card_file] |= FLAG["card_file"]

    # ---- ground truth and informants
    for ids in sparse_bernoulli_chunks(n, p.guilty_prevalence, rng):
        flag_adults(flags, FLAG["guilty"], ids)
    for ids in sparse_bernoulli_chunks(n, p.informant_share, rng):
        flag_adults(flags, FLAG["informant"], ids)
    extra_share = min(1.0, p.informant_share * max(p.informant_office_multiplier - 1.0, 0.0))
    for ids in sparse_bernoulli_chunks(n, extra_share, rng):  # more in offices
        in_office = workplace_kind[np.searchsorted(workplace_offsets, ids, "right") - 1]
        flag_adults(flags, FLAG["informant"], ids[in_office == WP["office"]])

    # ---- party: leaders and cadres first, then workers and peasants up to the 1934 size
    party_share = datasets.figure("party_members_and_candidates_1934") / datasets.figure(
        "census_1937_population")
    target = int(round(party_share * (n - delegates.sum()))) + int(delegates.sum())
    for r in range(n_regions):  # the delegates (and only they) head each region's ids
        lo = region_offsets[r]
        flags[lo: lo + delegates[r]] |= FLAG["party"]
    # the other cadres, listed by occupation in one pass
    slot = np.full(len(OCCUPATIONS), -1, dtype=np.int64)
    for i, name in enumerate(PARTY_PROBABILITY):
        slot[OCC[name]] = i
    cadre_ids, cadre_offsets = _ids_by_slot(occupation, slot, len(PARTY_PROBABILITY), flags,
                                            FLAG["delegate"])
    cadres = {name: cadre_ids[cadre_offsets[i]: cadre_offsets[i + 1]]
              for i, name in enumerate(PARTY_PROBABILITY)}
    expected = sum(len(ids) * PARTY_PROBABILITY[name] for name, ids in cadres.items())
    thin = min(1.0, (target - int(delegates.sum())) / expected) if expected else 1.0
    for name, ids in cadres.items():
        flags[ids[rng.random(len(ids)) < PARTY_PROBABILITY[name] * thin]] |= FLAG["party"]
    del cadres, cadre_ids
    # workers and peasants (the rank and file) fill the party up to its size; they are
    # counted and then picked by their rank among the rank and file, never listed
    is_rank = np.zeros(len(OCCUPATIONS), dtype=np.bool_)
    is_rank[[OCC["worker"], OCC["peasant"]]] = True
    have, n_rank = _count_party_and_rank(flags, occupation, FLAG["party"], is_rank)
    if target > have and n_rank:
        chosen = rng.choice(n_rank, size=min(target - have, n_rank), replace=False)
        _join_rank_and_file(flags, occupation, np.sort(chosen), FLAG["party"], is_rank)

    # ---- households: blocks in a per-region affine permutation of ids
    mult = np.ones(n_regions, dtype=np.int64)
    shift = np.zeros(n_regions, dtype=np.int64)
    inverse = np.ones(n_regions, dtype=np.int64)
    household_sizes = []
    for r in range(n_regions):
        size = int(sizes[r])
        mult[r] = _coprime_multiplier(size, rng)
        shift[r] = int(rng.integers(0, size))
        inverse[r] = pow(int(mult[r]), -1, size) if size > 1 else 1
        household_sizes.append(_household_sizes(size, p.household_size_mean, rng))
    household_sizes = np.concatenate(household_sizes)
    # int32 while ids fit: half the memory (and page faults) of the biggest array built here
    household_offsets = np.empty(len(household_sizes) + 1,
                                 dtype=np.int32 if n < 2**31 else np.int64)
    household_offsets[0] = 0
    household_offsets[1:] = household_sizes
    np.cumsum(household_offsets, dtype=household_offsets.dtype, out=household_offsets)
    del household_sizes

    # ---- patron-client links: each official or manager has a patron one level up, in the
    # same region; the top of the tree is the Central Committee.
    level_of = np.full(len(OCCUPATIONS), -1, dtype=np.int64)
    level_of[[OCC["manager"], OCC["official_local"]]] = 0
    level_of[OCC["official_regional"]] = 1
    level_of[OCC["official_republic"]] = 2
    level_ids, level_offsets = _ids_by_slot(occupation, level_of, 3, flags, 0)
    levels = [level_ids[level_offsets[i]: level_offsets[i + 1]] for i in range(3)]
    cc = np.arange(rsfsr, rsfsr + n_cc, dtype=np.int64)
    patron_ids = np.sort(np.concatenate(levels))
    patron_of = np.full(len(patron_ids), -1, dtype=np.int64)
    region_of_id = np.searchsorted(region_offsets, patron_ids, side="right") - 1
    for level in range(3):
        clients = levels[level]
        if level < 2:
            upper = levels[level + 1]
            upper_region = np.searchsorted(region_offsets, upper, side="right") - 1
            client_region = np.searchsorted(region_offsets, clients, side="right") - 1
            for r in range(n_regions):
                mine = clients[client_region == r]
                pool = upper[upper_region == r]
                if len(pool) == 0:
                    pool = cc
                pick = pool[rng.integers(0, len(pool), len(mine))]
                patron_of[np.searchsorted(patron_ids, mine)] = pick
        else:
            not_cc = clients[(flags[clients] & FLAG["cc_member"]) == 0]
            patron_of[np.searchsorted(patron_ids, not_cc)] = cc[
                rng.integers(0, len(cc), len(not_cc))]
    del region_of_id
    order = np.argsort(patron_of, kind="stable")
    has_patron = patron_of[order] >= 0
    children = patron_ids[order][has_patron]
    parents = patron_of[order][has_patron]
    slot = np.searchsorted(patron_ids, parents)
    counts = np.bincount(slot, minlength=len(patron_ids))
    client_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    client_ids = children[np.argsort(slot, kind="stable")]

    return Population(
        scale=scale,
        region_names=names,
        region_offsets=region_offsets,
        region_real=region_real,
        elite_count=delegates,
        workplace_offsets=workplace_offsets,
        workplace_kind=workplace_kind,
        household_offsets=household_offsets,
        household_mult=mult,
        household_shift=shift,
        household_inverse=inverse,
        occupation=occupation,
        taint=taint,
        flags=flags,
        nation=nation,
        patron_ids=patron_ids,
        patron_of=patron_of,
        client_offsets=client_offsets,
        client_ids=client_ids,
        card_file=card_file.astype(np.int64, copy=False),
    )


def _block_members(offsets: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """All ids of the given blocks (e.g. every member of a set of workplaces)."""
    if len(blocks) == 0:
        return np.empty(0, dtype=np.int64)
    lo = offsets[blocks]
    sizes = offsets[blocks + 1] - lo
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return starts + np.arange(int(sizes.sum()), dtype=np.int64)


# ---------------------------------------------------------------------------------- kernels
# Single passes over the population for the build, instead of chains of whole-population
# numpy temporaries. Each reproduces the numpy expression it replaced exactly (same draws,
# same float32/float64 comparisons, ids in increasing order).


@numba.njit(cache=True, nogil=True)
def _fill_block_index(offsets, shift, index):
    """``index[b] = np.searchsorted(offsets, b << shift, side="right") - 1``, walking the
    offsets once (a binary search per mark would miss the cache at every step)."""
    w = -1  # the last offset at or before the mark
    for b in range(index.shape[0]):
        mark = b << shift
        while w + 1 < offsets.shape[0] and offsets[w + 1] <= mark:
            w += 1
        index[b] = w


@numba.njit(cache=True, nogil=True)
def _find_blocks(offsets, index, shift, ids):
    """``np.searchsorted(offsets, ids, side="right") - 1``: the block of each id (-1 before
    the first, the number of blocks from the end on); ``index[b]`` is the block holding id
    ``b << shift``, so the answer lies between ``index[b]`` and ``index[b + 1]``."""
    out = np.empty(ids.shape[0], dtype=np.int64)
    last = offsets.shape[0] - 1
    end = offsets[last]
    for j in range(ids.shape[0]):
        x = ids[j]
        if x < 0:
            out[j] = -1
        elif x >= end:
            out[j] = last
        else:
            b = x >> shift
            lo = np.int64(index[b])
            hi = np.int64(index[b + 1])
            while lo < hi:  # the last block starting at or before x
                mid = (lo + hi + 1) >> 1
                if offsets[mid] <= x:
                    lo = mid
                else:
                    hi = mid - 1
            out[j] = lo
    return out


@numba.njit(cache=True, nogil=True)
def _ids_where(occupation, wanted, flags, mask):
    """Sorted ids with ``wanted[occupation]`` or ``flags & mask``."""
    count = 0
    for i in range(occupation.shape[0]):
        if wanted[occupation[i]] or (mask != 0 and flags[i] & mask):
            count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(occupation.shape[0]):
        if wanted[occupation[i]] or (mask != 0 and flags[i] & mask):
            out[k] = i
            k += 1
    return out


@numba.njit(cache=True, nogil=True)
def _assign_occupations(occupation, start, u, w, workplace_offsets, workplace_kind, head,
                        staff, rank, staff_share, keep_below, other):
    """Occupations of ids ``start, start + 1, ...`` (from workplace ``w`` on) from their
    uniforms ``u``: the head of a workplace; else a dependent (``u >= keep_below``); else staff
    (``u < staff_share``); else rank and file, each by the kind of workplace."""
    end = start + u.shape[0]
    i = start
    while i < end:
        hi = min(workplace_offsets[w + 1], end)
        k = workplace_kind[w]
        is_staff, is_rank, below, share = staff[k], rank[k], keep_below[k], staff_share[k]
        for j in range(i - start, hi - start):
            x = u[j]
            o = is_staff if x < share else is_rank
            occupation[start + j] = other if x >= below else o
        if i == workplace_offsets[w]:
            occupation[i] = head[k]
        i = hi
        w += 1


@numba.njit(cache=True, nogil=True)
def _flag_adults(target, bit, ids, w, allowed, occupation, workplace_offsets, workplace_kind,
                 other, kolkhoz):
    """``target[i] |= bit`` for the ``ids`` who are adults (in work, or outside a kolkhoz)
    with an ``allowed`` occupation. Walks the workplaces along the ids, which come sorted,
    from ``w``, the workplace of the first."""
    for j in range(ids.shape[0]):
        i = ids[j]
        if j > 0 and i < ids[j - 1]:  # (never, but in case: start the walk again)
            w = 0
        while workplace_offsets[w + 1] <= i:
            w += 1
        o = occupation[i]
        if allowed[o] and (workplace_kind[w] != kolkhoz or o != other):
            target[i] |= bit


@numba.njit(cache=True, nogil=True)
def _finish_taint(taint, nation, occupation, workplace_offsets, workplace_kind, diaspora_bit,
                  clergy, believer_bit, other, kolkhoz):
    """Add the diaspora bit to nationals and the believer bit to clergy; return how many
    adults are tainted."""
    count = 0
    for w in range(workplace_kind.shape[0]):
        outside = workplace_kind[w] != kolkhoz
        for i in range(workplace_offsets[w], workplace_offsets[w + 1]):
            t = taint[i]
            if nation[i] > 0:
                t |= diaspora_bit
            if occupation[i] == clergy:
                t |= believer_bit
            taint[i] = t
            if t != 0 and (outside or occupation[i] != other):
                count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _card_file(out, m, taint, occupation, workplace_offsets, workplace_kind, other, kolkhoz,
               start, w, u, bits, keep):
    """The next ``len(u)`` tainted adults from id ``start`` (in workplace ``w``) on, one
    uniform each: registered when ``u >= miss``, the product of ``keep`` over their bits
    (multiplied in the order of ``bits``), and written to ``out`` from ``m`` on. Returns the
    new end of ``out`` and the id to go on from."""
    j = 0
    i = start
    while j < u.shape[0] and w < workplace_kind.shape[0]:
        hi = workplace_offsets[w + 1]
        outside = workplace_kind[w] != kolkhoz
        while i < hi and j < u.shape[0]:
            t = taint[i]
            if t != 0 and (outside or occupation[i] != other):
                miss = 1.0
                for b in range(bits.shape[0]):
                    if t & bits[b]:
                        miss *= keep[b]
                if u[j] >= miss:
                    out[m] = i
                    m += 1
                j += 1
            i += 1
        if i >= hi:
            w += 1
    return m, i


@numba.njit(cache=True, nogil=True)
def _ids_by_slot(occupation, slot, n_slots, flags, skip):
    """Ids grouped by ``slot[occupation]`` (``-1``: left out), increasing within each group,
    leaving out people with any of the ``skip`` flags; returns the ids and the groups'
    offsets."""
    offsets = np.zeros(n_slots + 1, dtype=np.int64)
    for i in range(occupation.shape[0]):
        s = slot[occupation[i]]
        if s >= 0 and not flags[i] & skip:
            offsets[s + 1] += 1
    for s in range(n_slots):
        offsets[s + 1] += offsets[s]
    fill = offsets[:-1].copy()
    ids = np.empty(offsets[-1], dtype=np.int64)
    for i in range(occupation.shape[0]):
        s = slot[occupation[i]]
        if s >= 0 and not flags[i] & skip:
            ids[fill[s]] = i
            fill[s] += 1
    return ids, offsets


@numba.njit(cache=True, nogil=True)
def _count_party_and_rank(flags, occupation, party, is_rank):
    """Party members, and the rank and file (``is_rank[occupation]``)."""
    members = 0
    rank = 0
    for i in range(flags.shape[0]):
        if flags[i] & party:
            members += 1
        if is_rank[occupation[i]]:
            rank += 1
    return members, rank


@numba.njit(cache=True, nogil=True)
def _join_rank_and_file(flags, occupation, chosen, party, is_rank):
    """The rank and file (``is_rank[occupation]``) at the sorted, distinct ranks ``chosen``
    among them join the party."""
    k = 0
    rank = 0
    for i in range(flags.shape[0]):
        if k == chosen.shape[0]:
            break
        if is_rank[occupation[i]]:
            if rank == chosen[k]:
                flags[i] |= party
                k += 1
            rank += 1


@numba.njit(cache=True, nogil=True)
def _poisson_sizes(cdf, u, total, have):
    """Sizes ``1 + np.searchsorted(cdf, u)`` (a scan from the left, as most are small; at most
    ``len(cdf) + 1``) while they add up to less than ``total``, the one reaching it trimmed;
    returns them and their running sum (from ``have``)."""
    out = np.empty(u.shape[0], dtype=np.uint8)
    m = cdf.shape[0]
    for j in range(u.shape[0]):
        x = np.float64(u[j])
        s = 0
        while s < m and cdf[s] < x:
            s += 1
        size = 1 + s
        if have + size >= total:
            out[j] = total - have
            return out[: j + 1].copy(), total
        out[j] = size
        have += size
    return out, have
