"""Japan's population structure as the generator needs it: age and sex, household types, dates.

Pure data and small helpers; no I/O. The table is an approximation and is labelled as such: the
generator only has to produce a population whose *shape* looks like Japan's, not official
statistics.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from jukinet.domain.register import Insurance, Sex

__all__ = [
    "AGE_BANDS",
    "AGE_SEX_TABLE",
    "MAX_AGE",
    "SEXES",
    "age_on",
    "band_of",
    "birth_date_for_age",
    "insurance_for",
]

MAX_AGE: Final = 100
ADULT_AGE: Final = 18

#: Population in thousands by 5-year age band (the last band, "100", means 100 and over and is
#: generated as exactly 100), male and female. **Approximate** figures shaped after the 2020
#: census of Japan (令和2年国勢調査, 不詳補完値): rounded from memory of the published tables,
#: total about 124 million, 12 % under 15 and 28 % aged 65 or more. Good enough for realistic
#: synthetic data; not a statistic to quote.
AGE_SEX_TABLE: Final[tuple[tuple[int, int, int], ...]] = (
    # (band start, male, female)
    (0, 2322, 2219),
    (5, 2577, 2454),
    (10, 2736, 2605),
    (15, 2876, 2725),
    (20, 3062, 2906),
    (25, 3103, 2965),
    (30, 3387, 3260),
    (35, 3818, 3706),
    (40, 4306, 4209),
    (45, 4912, 4819),
    (50, 4356, 4315),
    (55, 3888, 3902),
    (60, 3682, 3754),
    (65, 3940, 4152),
    (70, 4349, 4831),
    (75, 3143, 3784),
    (80, 2232, 3038),
    (85, 1263, 2209),
    (90, 448, 1210),
    (95, 87, 400),
    (100, 9, 71),
)

AGE_BANDS: Final = tuple(start for start, _male, _female in AGE_SEX_TABLE)
SEXES: Final = (Sex.MALE, Sex.FEMALE)


def band_of(age: int) -> int:
    """The start of the 5-year band ``age`` falls in (100 and over share one band)."""
    return min(age // 5 * 5, MAX_AGE)


def _band_width(start: int) -> int:
    return 1 if start >= MAX_AGE else 5


def sample_ages(rng: random.Random, count: int) -> list[list[int]]:
    """``count`` people drawn from :data:`AGE_SEX_TABLE`, as counts indexed ``[sex][age]``.

    Sex index 0 is male, 1 female (the order of :data:`SEXES`).
    """
    cells: list[tuple[int, int]] = []
    weights: list[int] = []
    for start, male, female in AGE_SEX_TABLE:
        cells += [(0, start), (1, start)]
        weights += [male, female]
    counts = [[0] * (MAX_AGE + 1) for _ in SEXES]
    if count <= 0:
        return counts
    random_ = rng.random
    for sex, start in rng.choices(cells, weights=weights, k=count):
        counts[sex][start + int(random_() * _band_width(start))] += 1
    return counts


def _same_day(year: int, month: int, day: int) -> date:
    # 29 February in a year without one becomes 28 February (the legal convention for ages).
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, day - 1)


def birth_date_for_age(rng: random.Random, age: int, today: date) -> date:
    """A uniformly random birth date of someone who is exactly ``age`` on ``today``."""
    latest = _same_day(today.year - age, today.month, today.day)
    earliest = _same_day(today.year - age - 1, today.month, today.day) + timedelta(days=1)
    span = (latest - earliest).days
    return earliest + timedelta(days=int(rng.random() * (span + 1)))


def age_on(birth_date: date, today: date) -> int:
    """Age in completed years on ``today``."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def insurance_for(age: int, *, household_nhi: bool, child_allowance: bool = False) -> Insurance:
    """Insurance flags consistent with ``age`` (approximate rules, good enough for demo data).

    National pension (category 1) from 20 to 59; long-term care (category 1) from 65; late-elderly
    medical insurance from 75, which replaces national health insurance; national health
    insurance for the under-75s of households that are on it (self-employed, retired).
    """
    return Insurance(
        national_health_insurance=household_nhi and age < 75,
        late_elderly_insurance=age >= 75,
        long_term_care_insurance=age >= 65,
        national_pension=20 <= age <= 59,
        child_allowance=child_allowance,
    )
