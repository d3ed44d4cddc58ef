"""Assemble synthetic people into households that look like Japan's.

The population is drawn first, as counts per (sex, age) from the census-shaped table, and then
assembled into households by taking people out of that pool. Because every person placed comes
from the pool, the age and sex structure of the result is the table's whatever the household
mix, and the generator produces exactly the number of residents asked for.

Households follow the 2020 census mix of general households (approximately): one person 38 %,
couple only 20 %, couple with children 25 %, single parent with children 9 %, three generations
and others 8 %. Parents are 18–45 years older than their children, spouses are of the opposite
sex and of similar age (the husband two years older on average), everyone shares the head's
family name, and a household's members share one address.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from operator import mul
from typing import Final

from jukinet.domain.register import Relationship
from jukinet.seed.addresses import AddressBook, address_book
from jukinet.seed.demography import (
    ADULT_AGE,
    MAX_AGE,
    SEXES,
    birth_date_for_age,
    insurance_for,
    sample_ages,
)
from jukinet.seed.model import SyntheticHousehold, SyntheticPerson
from jukinet.seed.names import NamePart, NameTables, name_tables

__all__ = ["HOUSEHOLD_MIX", "generate_households", "generate_population"]

MALE: Final = 0
FEMALE: Final = 1

#: Target shares of household types (2020 census, general households, approximate).
HOUSEHOLD_MIX: Final[dict[str, float]] = {
    "single": 38.0,
    "couple": 20.0,
    "couple_with_children": 25.0,
    "single_parent": 9.0,
    "three_generations": 8.0,
}
_KINDS: Final = tuple(HOUSEHOLD_MIX)
_KIND_CUM_WEIGHTS: Final = tuple(accumulate(HOUSEHOLD_MIX.values()))

#: Share of foreign-resident households (no family-register domicile); about 2 % of residents.
FOREIGN_SHARE: Final = 0.02
#: Gap between parent and child, in years.
MIN_PARENT_GAP: Final = 18
MAX_PARENT_GAP: Final = 45
#: Minors as a share of all child places, tuned so the minors last until the pool is empty.
_MINOR_PULL: Final = 3.3


class _Pool:
    """People not yet placed, as counts per (sex, age)."""

    def __init__(self, counts: list[list[int]]) -> None:
        self.counts = counts
        self._inverse_initial = [[1.0 / max(c, 1) for c in row] for row in counts]
        self.minors = sum(c[a] for c in counts for a in range(ADULT_AGE))
        self.total = sum(sum(c) for c in counts)

    @property
    def adults(self) -> int:
        return self.total - self.minors

    def _take(self, sex: int, age: int) -> tuple[int, int]:
        self.counts[sex][age] -= 1
        self.total -= 1
        if age < ADULT_AGE:
            self.minors -= 1
        return sex, age

    def give_back(self, person: tuple[int, int]) -> None:
        """Return someone taken by a draft that could not be completed."""
        sex, age = person
        self.counts[sex][age] += 1
        self.total += 1
        if age < ADULT_AGE:
            self.minors += 1

    def take_random(
        self, rng: random.Random, lo: int, hi: int, sex: int | None = None
    ) -> tuple[int, int] | None:
        """A random person aged ``lo``..``hi`` (each remaining person equally likely)."""
        lo, hi = max(lo, 0), min(hi, MAX_AGE)
        if lo > hi:
            return None
        # Slices and accumulate run in C: this is the generator's hottest loop.
        male = self.counts[MALE][lo : hi + 1] if sex != FEMALE else []
        female = self.counts[FEMALE][lo : hi + 1] if sex != MALE else []
        cumulative = list(accumulate(male + female))
        total = cumulative[-1]
        if not total:
            return None
        index = bisect_right(cumulative, rng.random() * total)
        if index < len(male):
            return self._take(MALE, lo + index)
        return self._take(FEMALE, lo + index - len(male))

    def take_balanced(self, rng: random.Random, lo: int, hi: int) -> tuple[int, int] | None:
        """A random person aged ``lo``..``hi``, favouring ages the household types used least.

        Each (sex, age) weighs ``remaining² / initial``: an age whose people are all still in the
        pool weighs as its count, one already half placed half as much per person. This keeps
        what is left shaped like the whole, so the last households are not all old people living
        alone.
        """
        lo, hi = max(lo, 0), min(hi, MAX_AGE)
        if lo > hi:
            return None
        # map() with operator functions keeps the per-cell arithmetic in C.
        counts = self.counts[MALE][lo : hi + 1] + self.counts[FEMALE][lo : hi + 1]
        inverse = (
            self._inverse_initial[MALE][lo : hi + 1] + self._inverse_initial[FEMALE][lo : hi + 1]
        )
        cumulative = list(accumulate(map(mul, map(mul, counts, counts), inverse)))
        total = cumulative[-1]
        if not total:
            return None
        index = min(bisect_right(cumulative, rng.random() * total), len(cumulative) - 1)
        width = hi - lo + 1
        if index < width:
            return self._take(MALE, lo + index)
        return self._take(FEMALE, lo + index - width)

    def take_near(
        self, rng: random.Random, target: int, lo: int, hi: int, sex: int | None = None
    ) -> tuple[int, int] | None:
        """The remaining person aged ``lo``..``hi`` nearest to ``target``."""
        lo, hi = max(lo, 0), min(hi, MAX_AGE)
        if lo > hi:
            return None
        target = min(max(target, lo), hi)
        sexes = (MALE, FEMALE) if sex is None else (sex,)
        for distance in range(hi - lo + 1):
            ages = (target - distance, target + distance)
            if rng.random() < 0.5:
                ages = (ages[1], ages[0])
            for age in ages:
                if not lo <= age <= hi:
                    continue
                available = [(s, self.counts[s][age]) for s in sexes if self.counts[s][age]]
                if not available:
                    continue
                if len(available) == 1:
                    return self._take(available[0][0], age)
                male_count, female_count = available[0][1], available[1][1]
                chosen = MALE if rng.random() * (male_count + female_count) < male_count else FEMALE
                return self._take(chosen, age)
        return None


@dataclass(slots=True)
class _Draft:
    """A member before names and dates: who they are relative to the head."""

    sex: int
    age: int
    relationship: Relationship
    koseki: int = 0
    allowance: bool = False
    given: NamePart = ("", "")


@dataclass(slots=True)
class _Koseki:
    """A family register some members belong to: its head lives here or not."""

    head: _Draft | None = None
    #: Sex of the 筆頭者 who does not live here (a parent, a late spouse).
    absent_head_sex: int = MALE
    #: A domicile of its own rather than the household's main one.
    own_place: bool = False


@dataclass(slots=True)
class _Plan:
    members: list[_Draft]
    registers: list[_Koseki] = field(default_factory=lambda: [_Koseki()])


def _gauss_int(rng: random.Random, mean: float, sd: float, lo: int, hi: int) -> int:
    return min(max(round(rng.gauss(mean, sd)), lo), hi)


class _Generator:
    def __init__(
        self, rng: random.Random, pool: _Pool, names: NameTables, book: AddressBook, today: date
    ) -> None:
        self.rng = rng
        self.pool = pool
        self.names = names
        self.book = book
        self.today = today

    # -- drawing people -------------------------------------------------------------------

    def _minor_share(self) -> float:
        return min(1.0, _MINOR_PULL * self.pool.minors / max(1, self.pool.total))

    def _first_child(self, adult_hi: int) -> tuple[int, int] | None:
        """The child a family is built around: a minor, or an adult child still at home.

        Adult children reach into middle age: in Japan a widowed mother living with her unmarried
        son of fifty is a typical "single parent and child" household.
        """
        pool, rng = self.pool, self.rng
        if pool.minors and rng.random() < self._minor_share():
            return pool.take_random(rng, 0, ADULT_AGE - 1)
        return pool.take_balanced(rng, ADULT_AGE, adult_hi) or pool.take_random(
            rng, 0, ADULT_AGE - 1
        )

    def _spouse(self, person: tuple[int, int], lo: int, hi: int) -> tuple[int, int] | None:
        """An opposite-sex spouse of similar age (husbands two years older on average)."""
        sex, age = person
        gap = _gauss_int(self.rng, 2.0, 3.0, -8, 15)
        if sex == MALE:
            target, window = age - gap, (max(lo, age - 15), min(hi, age + 8))
        else:
            target, window = age + gap, (max(lo, age - 8), min(hi, age + 15))
        return self.pool.take_near(self.rng, target, max(window[0], ADULT_AGE), window[1], 1 - sex)

    def _children_window(self, parents: list[_Draft]) -> tuple[int, int]:
        return (
            max(p.age for p in parents) - MAX_PARENT_GAP,
            min(p.age for p in parents) - MIN_PARENT_GAP,
        )

    def _more_children(
        self, first: int, count: int, window: tuple[int, int], relationship: Relationship
    ) -> list[_Draft]:
        found: list[_Draft] = []
        for _ in range(count):
            target = first + _gauss_int(self.rng, 0.0, 3.5, -12, 12)
            person = self.pool.take_near(self.rng, target, max(window[0], 0), window[1])
            if person is None:
                break
            found.append(_Draft(person[0], person[1], relationship))
        return found

    # -- household types ------------------------------------------------------------------

    def single(self) -> _Plan | None:
        person = self.pool.take_balanced(self.rng, ADULT_AGE, MAX_AGE)
        if person is None:
            return None
        return self._single_of(person)

    def _single_of(self, person: tuple[int, int]) -> _Plan:
        head = _Draft(person[0], person[1], Relationship.HEAD)
        roll = self.rng.random()
        if head.age < 30 and roll < 0.7:
            # Still on the parents' family register.
            register = _Koseki(absent_head_sex=MALE, own_place=False)
        elif head.sex == FEMALE and head.age >= 70 and roll < 0.6:
            # A widow on her late husband's register.
            register = _Koseki(absent_head_sex=MALE)
        else:
            register = _Koseki(head=head)
        return _Plan([head], [register])

    def couple(self) -> _Plan | None:
        first = self.pool.take_balanced(self.rng, 20, MAX_AGE)
        if first is None:
            return None
        second = self._spouse(first, ADULT_AGE, MAX_AGE)
        if second is None:
            return self._single_of(first)
        members = self._married_couple(first, second)
        return _Plan(members, [_Koseki(head=self._register_head(members))])

    def _married_couple(self, a: tuple[int, int], b: tuple[int, int]) -> list[_Draft]:
        """Head first: the husband in 95 % of couples."""
        husband, wife = (a, b) if a[0] == MALE else (b, a)
        if self.rng.random() < 0.95:
            return [
                _Draft(husband[0], husband[1], Relationship.HEAD),
                _Draft(wife[0], wife[1], Relationship.WIFE),
            ]
        return [
            _Draft(wife[0], wife[1], Relationship.HEAD),
            _Draft(husband[0], husband[1], Relationship.HUSBAND),
        ]

    def _register_head(self, couple: list[_Draft]) -> _Draft:
        """The 筆頭者 of a married couple's register: the husband in 96 % of marriages."""
        husband = next(m for m in couple if m.sex == MALE)
        wife = next(m for m in couple if m.sex == FEMALE)
        return husband if self.rng.random() < 0.96 else wife

    def family(self, *, two_parents: bool, grandparents: bool = False) -> _Plan | None:
        """Parents (or one parent) with children; optionally the head's own parents too."""
        rng, pool = self.rng, self.pool
        # With the head's parents in the house the children are young; otherwise they may be
        # middle-aged children of old parents.
        child = self._first_child(25 if grandparents else 59)
        if child is None:
            return None
        c_age = child[1]
        lo, hi = c_age + MIN_PARENT_GAP, c_age + MAX_PARENT_GAP
        target = c_age + _gauss_int(rng, 31.0, 4.5, MIN_PARENT_GAP, MAX_PARENT_GAP)
        first_sex = FEMALE if two_parents or rng.random() < 0.85 else MALE
        parent = pool.take_near(rng, target, lo, hi, first_sex) or pool.take_near(
            rng, target, lo, hi, 1 - first_sex
        )
        if parent is None:
            pool.give_back(child)
            return None
        spouse = self._spouse(parent, lo, hi) if two_parents else None
        if spouse is not None:
            parents = self._married_couple(parent, spouse)
            registers = [_Koseki(head=self._register_head(parents))]
        else:
            parents = [_Draft(parent[0], parent[1], Relationship.HEAD)]
            widow = parents[0].sex == FEMALE and parents[0].age >= 60 and rng.random() < 0.6
            registers = [_Koseki(absent_head_sex=MALE) if widow else _Koseki(head=parents[0])]
        counts = (1, 2, 3, 4)
        extra = rng.choices(counts, weights=(45, 42, 11, 2) if spouse else (60, 32, 7, 1))[0] - 1
        children = [_Draft(child[0], child[1], Relationship.CHILD)]
        children += self._more_children(
            c_age, extra, self._children_window(parents), Relationship.CHILD
        )
        members = parents + children
        if any(c.age < ADULT_AGE for c in children):
            parents[0].allowance = True
        if grandparents:
            members += self._heads_parents(parents[0], registers)
        return _Plan(members, registers)

    def _heads_parents(self, head: _Draft, registers: list[_Koseki]) -> list[_Draft]:
        """The head's father and/or mother, on their own family register."""
        rng, pool = self.rng, self.pool
        lo, hi = head.age + MIN_PARENT_GAP, head.age + MAX_PARENT_GAP
        target = head.age + _gauss_int(rng, 30.0, 4.0, MIN_PARENT_GAP, MAX_PARENT_GAP)
        roll = rng.random()
        wanted = (MALE, FEMALE) if roll < 0.5 else (FEMALE,) if roll < 0.85 else (MALE,)
        found: list[_Draft] = []
        for sex in wanted:
            near = found[0].age + (-2 if sex == FEMALE else 2) if found else target
            person = pool.take_near(rng, near, lo, hi, sex)
            if person is not None:
                relationship = Relationship.FATHER if sex == MALE else Relationship.MOTHER
                found.append(_Draft(person[0], person[1], relationship, koseki=len(registers)))
        if found:
            father = next((p for p in found if p.sex == MALE), None)
            registers.append(_Koseki(head=father, own_place=rng.random() < 0.3))
        return found

    def elder_led(self) -> _Plan | None:
        """An older head (and spouse) with an adult child and the child's children."""
        rng, pool = self.rng, self.pool
        grandchild = self._first_child(30)
        if grandchild is None:
            return None
        g_age = grandchild[1]
        lo, hi = g_age + MIN_PARENT_GAP, g_age + MAX_PARENT_GAP
        target = g_age + _gauss_int(rng, 31.0, 4.5, MIN_PARENT_GAP, MAX_PARENT_GAP)
        child_sex = FEMALE if rng.random() < 0.6 else MALE
        child = pool.take_near(rng, target, lo, hi, child_sex) or pool.take_near(
            rng, target, lo, hi, 1 - child_sex
        )
        if child is None:
            pool.give_back(grandchild)
            return None
        p_lo, p_hi = child[1] + MIN_PARENT_GAP, child[1] + MAX_PARENT_GAP
        p_target = child[1] + _gauss_int(rng, 30.0, 4.0, MIN_PARENT_GAP, MAX_PARENT_GAP)
        elder_sex = MALE if rng.random() < 0.6 else FEMALE
        elder = pool.take_near(rng, p_target, p_lo, p_hi, elder_sex) or pool.take_near(
            rng, p_target, p_lo, p_hi, 1 - elder_sex
        )
        adult = _Draft(child[0], child[1], Relationship.CHILD, koseki=1)
        kids = [_Draft(grandchild[0], grandchild[1], Relationship.GRANDCHILD, koseki=1)]
        extra = rng.choices((0, 1, 2), weights=(55, 35, 10))[0]
        kids += self._more_children(
            g_age,
            extra,
            (adult.age - MAX_PARENT_GAP, adult.age - MIN_PARENT_GAP),
            Relationship.GRANDCHILD,
        )
        for kid in kids:
            kid.koseki = 1
        if elder is None:
            # No one of the right age is left: the adult child heads a single-parent household.
            adult.relationship, adult.koseki = Relationship.HEAD, 0
            for kid in kids:
                kid.relationship, kid.koseki = Relationship.CHILD, 0
            adult.allowance = any(k.age < ADULT_AGE for k in kids)
            return _Plan([adult, *kids], [_Koseki(head=adult)])
        spouse = self._spouse(elder, p_lo, p_hi) if rng.random() < 0.6 else None
        if spouse is not None:
            elders = self._married_couple(elder, spouse)
            registers = [_Koseki(head=self._register_head(elders))]
        else:
            elders = [_Draft(elder[0], elder[1], Relationship.HEAD)]
            widow = elders[0].sex == FEMALE and rng.random() < 0.6
            registers = [_Koseki(absent_head_sex=MALE) if widow else _Koseki(head=elders[0])]
        registers.append(_Koseki(head=adult, own_place=rng.random() < 0.5))
        adult.allowance = any(k.age < ADULT_AGE for k in kids)
        return _Plan([*elders, adult, *kids], registers)

    def minors_first(self) -> _Plan | None:
        """Place children who are left when adults run short (ends of small populations)."""
        rng, pool = self.rng, self.pool
        child = pool.take_random(rng, 0, ADULT_AGE - 1)
        if child is None:
            return None
        c_age = child[1]
        relationship = Relationship.CHILD
        adult = pool.take_near(rng, c_age + 30, c_age + MIN_PARENT_GAP, c_age + MAX_PARENT_GAP)
        if adult is None:
            relationship = Relationship.GRANDCHILD
            adult = pool.take_near(rng, c_age + 60, c_age + 2 * MIN_PARENT_GAP, c_age + 90)
        if adult is None:
            adult = pool.take_random(rng, ADULT_AGE, MAX_AGE)
            if adult is None:
                # Nobody left to live with: the last child is entered as a young adult. Only
                # populations of a handful of people ever get here.
                return self._single_of((child[0], ADULT_AGE))
            relationship = (
                Relationship.SIBLING
                if adult[1] - c_age < MIN_PARENT_GAP
                else Relationship.OTHER_RELATIVE
            )
        head = _Draft(adult[0], adult[1], Relationship.HEAD)
        if relationship is Relationship.CHILD:
            window = (head.age - MAX_PARENT_GAP, head.age - MIN_PARENT_GAP)
        elif relationship is Relationship.GRANDCHILD:
            window = (head.age - 90, head.age - 2 * MIN_PARENT_GAP)
        else:
            window = (0, ADULT_AGE - 1)
        window = (window[0], min(window[1], ADULT_AGE - 1))
        per_adult = math.ceil(pool.minors / max(1, pool.adults))
        kids = [_Draft(child[0], child[1], relationship)]
        kids += self._more_children(c_age, min(per_adult, 4), window, relationship)
        head.allowance = True
        if relationship is Relationship.CHILD:
            return _Plan([head, *kids], [_Koseki(head=head)])
        for kid in kids:
            kid.koseki = 1
        registers = [_Koseki(head=head), _Koseki(absent_head_sex=MALE, own_place=True)]
        if relationship is Relationship.SIBLING:
            # Siblings share their late parents' register.
            head.koseki = 1
        return _Plan([head, *kids], registers)

    # -- the loop ---------------------------------------------------------------------------

    def next_plan(self) -> _Plan | None:
        pool, rng = self.pool, self.rng
        if pool.minors and pool.minors >= pool.adults:
            return self.minors_first()
        kind = _KINDS[bisect_right(_KIND_CUM_WEIGHTS, rng.random() * _KIND_CUM_WEIGHTS[-1])]
        plan: _Plan | None
        if kind == "single":
            plan = self.single()
        elif kind == "couple":
            plan = self.couple()
        elif kind == "couple_with_children":
            plan = self.family(two_parents=True)
        elif kind == "single_parent":
            plan = self.family(two_parents=False)
        elif rng.random() < 0.5:
            plan = self.family(two_parents=True, grandparents=True)
        else:
            plan = self.elder_led()
        return plan or self.single() or self.minors_first()

    def households(self) -> Iterator[SyntheticHousehold]:
        while self.pool.total:
            plan = self.next_plan()
            if plan is None:  # pragma: no cover - the pool is not empty, so someone was placed
                break
            yield self.finish(plan)

    # -- names, dates, registers ----------------------------------------------------------

    def finish(self, plan: _Plan) -> SyntheticHousehold:
        rng, today = self.rng, self.today
        family, family_kana = self.names.family_name(rng)
        taken: set[str] = set()
        for member in plan.members:
            for _ in range(20):
                given = self.names.given_name(rng, SEXES[member.sex])
                if given[0] not in taken:
                    break
            taken.add(given[0])
            member.given = given

        foreign = rng.random() < FOREIGN_SHARE
        registers: list[tuple[str, str] | None] = []
        if foreign:
            registers = [None] * len(plan.registers)
        else:
            main_place = self.book.domicile(rng)
            for register in plan.registers:
                place = self.book.domicile(rng) if register.own_place else main_place
                if register.head is not None:
                    head_name = family + register.head.given[0]
                else:
                    head_name = (
                        family + self.names.given_name(rng, SEXES[register.absent_head_sex])[0]
                    )
                registers.append((place, head_name))

        head = plan.members[0]
        address = self.book.address(rng)
        years_here = rng.expovariate(1 / 12)
        since = today - timedelta(days=int(years_here * 365.25) + 1)
        moved_within: date | None = None
        if rng.random() < 0.25:
            span = (today - since).days
            moved_within = since + timedelta(days=int(rng.random() * max(span, 1)))
        came_from = self.book.address_elsewhere(rng)
        old_local = self.book.address(rng)
        household_nhi = head.age >= 65 or rng.random() < 0.22

        people: list[SyntheticPerson] = []
        for member in plan.members:
            born = birth_date_for_age(rng, member.age, today)
            became = max(since, born)
            if moved_within is not None and born < moved_within:
                previous: str | None = old_local
                address_since = moved_within
            else:
                previous = came_from if became > born else None
                address_since = became
            entry = registers[member.koseki]
            people.append(
                SyntheticPerson(
                    family_name=family,
                    given_name=member.given[0],
                    family_name_kana=family_kana,
                    given_name_kana=member.given[1],
                    birth_date=born,
                    sex=SEXES[member.sex],
                    relationship=member.relationship,
                    became_resident_on=became,
                    address_since=address_since,
                    previous_address=previous,
                    domicile=entry[0] if entry else None,
                    domicile_head=entry[1] if entry else None,
                    insurance=insurance_for(
                        member.age, household_nhi=household_nhi, child_allowance=member.allowance
                    ),
                )
            )
        return SyntheticHousehold(address=address, members=tuple(people), foreign=foreign)


def generate_households(
    municipality_code: str, residents: int, *, today: date, seed: int | None = None
) -> Iterator[SyntheticHousehold]:
    """Households with exactly ``residents`` people in total, living in ``municipality_code``.

    Deterministic for a given ``seed`` and ``today`` (``seed=None`` draws a fresh one). Birth
    dates are derived from ages on ``today``; residence dates lie in the past. Lazy: households
    are produced as they are consumed, so memory stays flat however many are asked for.
    """
    if residents < 0:
        raise ValueError("residents must not be negative")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    names = name_tables()
    book = address_book(municipality_code)
    pool = _Pool(sample_ages(rng, residents))
    return _Generator(rng, pool, names, book, today).households()


def generate_population(
    municipality_code: str, residents: int, *, today: date, seed: int | None = None
) -> list[SyntheticHousehold]:
    """Like :func:`generate_households`, as a list."""
    return list(generate_households(municipality_code, residents, today=today, seed=seed))
