"""Synthetic population: realistic, deterministic residents for demos, tests and benchmarks.

Pure: nothing here touches the register's database. :func:`generate_households` yields
households of :class:`SyntheticPerson`; ``jukinet.services.population.load_population`` enters
them on the register.
"""

from jukinet.seed.demography import AGE_SEX_TABLE
from jukinet.seed.households import HOUSEHOLD_MIX, generate_households, generate_population
from jukinet.seed.model import SyntheticHousehold, SyntheticPerson

__all__ = [
    "AGE_SEX_TABLE",
    "HOUSEHOLD_MIX",
    "SyntheticHousehold",
    "SyntheticPerson",
    "generate_households",
    "generate_population",
]
