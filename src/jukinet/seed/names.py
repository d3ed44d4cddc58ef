"""Names for synthetic residents, from the ``japanese_personal_name_dataset`` package.

Family names are weighted by their real population count; given names have no counts in the
dataset, so they are weighted by how ordinary their characters are (see :func:`_given`). Kanji
and reading always belong together: every entry is a (spelling, reading) pair of the dataset.
Every entry is checked against the register's own validators once, at load time, so the
generator never produces a name the counter would refuse.
"""

from __future__ import annotations

import functools
import itertools
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import jaconv
from japanese_personal_name_dataset import load_dataset
from japanese_personal_name_dataset.core import FirstNameEntry

from jukinet.data.mj_table import name_identifiers
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import validate_kana, validate_name
from jukinet.domain.register import Sex

__all__ = ["NameTables", "name_tables"]

#: (written form, katakana reading)
NamePart = tuple[str, str]


def _valid(written: str, reading: str, *, family: bool) -> bool:
    suffix = "family" if family else "given"
    try:
        # name_identifiers refuses a kanji with no MJ identifier, as the counter does.
        return (
            validate_name(written, field=f"{suffix}_name") == written
            and validate_kana(reading, field=f"{suffix}_name_kana") == reading
            and name_identifiers(written, field=f"{suffix}_name") is not None
        )
    except ValidationError:
        return False


def _weighted_index(rng: random.Random, cum_weights: tuple[float, ...]) -> int:
    # What random.choices does for one item, without its per-call overhead.
    return bisect_right(cum_weights, rng.random() * cum_weights[-1])


@dataclass(frozen=True, slots=True)
class NameTables:
    """Validated family and given names with cumulative weights for fast weighted choice."""

    family: tuple[NamePart, ...]
    family_cum_weights: tuple[float, ...]
    male: tuple[NamePart, ...]
    male_cum_weights: tuple[float, ...]
    female: tuple[NamePart, ...]
    female_cum_weights: tuple[float, ...]

    def family_name(self, rng: random.Random) -> NamePart:
        """A family name, drawn with population weights."""
        return self.family[_weighted_index(rng, self.family_cum_weights)]

    def given_name(self, rng: random.Random, sex: Sex) -> NamePart:
        """A given name for ``sex`` (see :func:`_given` for the weights)."""
        if sex is Sex.MALE:
            return self.male[_weighted_index(rng, self.male_cum_weights)]
        return self.female[_weighted_index(rng, self.female_cum_weights)]


#: Readings of the package's curated list of popular names ('opti') weigh this much more.
POPULAR_READING_BOOST = 4.0


def _given(
    entries: Mapping[str, FirstNameEntry], popular: Collection[str]
) -> tuple[tuple[NamePart, ...], tuple[float, ...]]:
    """Valid (spelling, reading) pairs and their cumulative weights.

    The dataset has no frequencies for given names, so a spelling's weight is how common its
    rarest character is among all spellings (花子 is common, 琶奈子 is not), times
    :data:`POPULAR_READING_BOOST` when its reading is in the curated popular list. A reading with
    many spellings is thereby more likely than one with a single odd spelling.
    """
    spellings = [(r, w) for r in sorted(entries) for w in entries[r]["kanji"]]
    char_counts: Counter[str] = Counter(
        ch for _reading, written in spellings for ch in set(written)
    )
    pairs: list[NamePart] = []
    weights: list[float] = []
    for reading_hira, written in spellings:
        reading = jaconv.hira2kata(reading_hira)
        if not written or not _valid(written, reading, family=False):
            continue
        weight = float(min(char_counts[ch] for ch in written))
        if reading_hira in popular:
            weight *= POPULAR_READING_BOOST
        pairs.append((written, reading))
        weights.append(weight)
    return tuple(pairs), tuple(itertools.accumulate(weights))


@functools.cache
def name_tables() -> NameTables:
    """The validated name tables (built once per process, under a second)."""
    men, women, last = load_dataset(kind="org", include_last_names=True)
    popular_men, popular_women = load_dataset(kind="opti")
    family: list[NamePart] = []
    weights: list[float] = []
    for written in sorted(last):
        entry = last[written]
        reading = jaconv.hira2kata(entry["reading"])
        count = int(entry["count"])
        if count > 0 and _valid(written, reading, family=True):
            family.append((written, reading))
            weights.append(float(count))
    male, male_weights = _given(men, popular_men)
    female, female_weights = _given(women, popular_women)
    return NameTables(
        family=tuple(family),
        family_cum_weights=tuple(itertools.accumulate(weights)),
        male=male,
        male_cum_weights=male_weights,
        female=female,
        female_cum_weights=female_weights,
    )
