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

from dataclasses import dataclass, field

import numpy as np

from purgesim.population.blocks import block_index, find_block, uniform_in_blocks
from purgesim.population.kernels import ids_where
from purgesim.vocab import FLAG, OCC, OCCUPATIONS


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
        self._workplace_index = block_index(self.workplace_offsets)
        self._household_index = block_index(self.household_offsets)

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
        return find_block(self.workplace_offsets, self._workplace_index, ids)

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
        return find_block(self.household_offsets, self._household_index, positions)

    def household_members(self, household: int) -> np.ndarray:
        lo, hi = self.household_offsets[household], self.household_offsets[household + 1]
        positions = np.arange(lo, hi, dtype=np.int64)
        region = self.region_of(positions)  # households never cross regions
        return self._person_at(positions, region)

    def random_household_member(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, one uniformly chosen member of their household (maybe themselves)."""
        ids = np.asarray(ids, dtype=np.int64)
        region = self.region_of(ids)
        house = find_block(self.household_offsets, self._household_index,
                           self._position(ids, region))
        return self._person_at(uniform_in_blocks(self.household_offsets, house, rng), region)

    def random_coworker(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, one uniformly chosen member of their workplace."""
        ids = np.asarray(ids, dtype=np.int64)
        return uniform_in_blocks(self.workplace_offsets, self.workplace_of(ids), rng)

    def random_in_region(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each person, an acquaintance: anyone in the same region, in proportion to the
        real people each agent stands for (a uniform draw over agents would pick the weight-1
        elite ever more often as the scale grows)."""
        ids = np.asarray(ids, dtype=np.int64)
        region = self.region_of(ids)
        elite = self.elite_count[region]
        real = rng.random(len(ids)) * self.region_real[region]  # a real person of the region
        agent = np.where(real < elite, real, elite + (real - elite) / self.scale)
        last = self.region_offsets[region + 1] - 1
        return np.minimum(self.region_offsets[region] + agent.astype(np.int64), last)

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
        return ids_where(self.occupation, wanted, self.flags, flags)

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
            "patron_is_delegate_share": self.patron_is_delegate_share(),
            "megabytes": round(self.nbytes() / 2**20, 1),
        }

    def patron_is_delegate_share(self) -> float:
        """Share of the real managers and local officials whose patron is a Congress delegate
        (drawn by weight, it is the delegates' share of the real regional officials: under one
        percent at every scale)."""
        client = np.isin(self.occupation[self.patron_ids],
                         (OCC["manager"], OCC["official_local"]))
        ids, patron = self.patron_ids[client], self.patron_of[client]
        weight = self.weight(ids).astype(float)
        has = patron >= 0
        delegate = np.zeros(len(ids), dtype=bool)
        delegate[has] = (self.flags[patron[has]] & FLAG["delegate"]) > 0
        total = weight.sum()
        return round(float(weight[delegate].sum() / total), 6) if total else 0.0
