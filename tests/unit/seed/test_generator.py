"""The synthetic population: deterministic, valid, and shaped like Japan."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from jukinet.data.catalog import neighbourhoods
from jukinet.domain.names import PersonName
from jukinet.domain.register import (
    Relationship,
    Sex,
    validate_address,
    validate_birth_date,
    validate_domicile,
)
from jukinet.seed import AGE_SEX_TABLE, SyntheticHousehold, generate_population
from jukinet.seed.demography import age_on, band_of
from jukinet.seed.names import name_tables

TODAY = date(2026, 11, 26)
MUNICIPALITY = "132292"  # 西東京市


@pytest.fixture(scope="module")
def population() -> list[SyntheticHousehold]:
    """20,000 residents of Nishitokyo, generated once for the module."""
    return generate_population(MUNICIPALITY, 20_000, today=TODAY, seed=2026)


def _age(born: date) -> int:
    return age_on(born, TODAY)


def test_same_seed_same_population() -> None:
    first = generate_population(MUNICIPALITY, 1_500, today=TODAY, seed=7)
    second = generate_population(MUNICIPALITY, 1_500, today=TODAY, seed=7)
    assert first == second


def test_different_seed_different_population() -> None:
    first = generate_population(MUNICIPALITY, 500, today=TODAY, seed=7)
    other = generate_population(MUNICIPALITY, 500, today=TODAY, seed=8)
    assert first != other


@pytest.mark.parametrize("count", [0, 1, 2, 5, 17, 333])
def test_exactly_the_number_asked_for(count: int) -> None:
    households = generate_population(MUNICIPALITY, count, today=TODAY, seed=count)
    assert sum(len(h.members) for h in households) == count
    for household in households:
        heads = [m for m in household.members if m.relationship is Relationship.HEAD]
        assert len(heads) == 1
        assert _age(heads[0].birth_date) >= 18


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        generate_population(MUNICIPALITY, -1, today=TODAY, seed=1)


def test_count_and_one_adult_head_per_household(population: list[SyntheticHousehold]) -> None:
    assert sum(len(h.members) for h in population) == 20_000
    for household in population:
        heads = [m for m in household.members if m.relationship is Relationship.HEAD]
        assert len(heads) == 1
        assert household.members[0] is heads[0]
        assert _age(heads[0].birth_date) >= 18


def test_every_person_passes_the_register_validators(
    population: list[SyntheticHousehold],
) -> None:
    for household in population:
        assert validate_address(household.address) == household.address
        for person in household.members:
            name = PersonName.create(
                family=person.family_name,
                given=person.given_name,
                family_kana=person.family_name_kana,
                given_kana=person.given_name_kana,
            )
            assert name == PersonName(
                person.family_name,
                person.given_name,
                person.family_name_kana,
                person.given_name_kana,
            )
            validate_birth_date(person.birth_date, today=TODAY)
            assert validate_domicile(person.domicile, person.domicile_head) == (
                person.domicile,
                person.domicile_head,
            )
            assert person.birth_date <= person.became_resident_on
            assert person.became_resident_on <= person.address_since <= TODAY
            if person.previous_address is not None:
                validate_address(person.previous_address, field="previous_address")
            assert 0 <= _age(person.birth_date) <= 100


def test_name_tables_keep_kanji_and_reading_together() -> None:
    tables = name_tables()
    # The dataset spells たろう as 太郎 (among others); the pair must survive as a pair.
    assert ("太郎", "タロウ") in tables.male
    assert ("花子", "ハナコ") in tables.female
    assert ("佐藤", "サトウ") in tables.family
    assert all(reading.isascii() is False for _written, reading in tables.family[:50])


def test_spouses_share_the_name_and_are_of_opposite_sex(
    population: list[SyntheticHousehold],
) -> None:
    couples = 0
    for household in population:
        head = household.members[0]
        family = {m.family_name for m in household.members}
        assert family == {head.family_name}  # everyone carries the head's family name
        for member in household.members:
            if member.relationship in (Relationship.WIFE, Relationship.HUSBAND):
                couples += 1
                assert member.sex is not head.sex
                expected = Sex.FEMALE if member.relationship is Relationship.WIFE else Sex.MALE
                assert member.sex is expected
                assert abs(_age(member.birth_date) - _age(head.birth_date)) <= 15
    assert couples > 2_000


def test_children_are_18_to_45_years_younger_than_their_parents(
    population: list[SyntheticHousehold],
) -> None:
    checked = 0
    for household in population:
        head = household.members[0]
        parents = [
            m
            for m in household.members
            if m.relationship in (Relationship.HEAD, Relationship.WIFE, Relationship.HUSBAND)
        ]
        children = [m for m in household.members if m.relationship is Relationship.CHILD]
        grandchildren = [m for m in household.members if m.relationship is Relationship.GRANDCHILD]
        for child in children:
            for parent in parents:
                assert 18 <= _age(parent.birth_date) - _age(child.birth_date) <= 45
                checked += 1
        for grandchild in grandchildren:
            assert _age(head.birth_date) - _age(grandchild.birth_date) >= 36
            if children:
                assert any(
                    18 <= _age(c.birth_date) - _age(grandchild.birth_date) <= 45 for c in children
                )
        for member in household.members:
            if member.relationship in (Relationship.FATHER, Relationship.MOTHER):
                assert 18 <= _age(member.birth_date) - _age(head.birth_date) <= 45
    assert checked > 5_000


def test_age_and_sex_follow_the_table(population: list[SyntheticHousehold]) -> None:
    observed = Counter((band_of(_age(p.birth_date)), p.sex) for h in population for p in h.members)
    total_weight = sum(male + female for _start, male, female in AGE_SEX_TABLE)
    people = sum(observed.values())
    chi_square = 0.0
    for start, male, female in AGE_SEX_TABLE:
        for sex, weight in ((Sex.MALE, male), (Sex.FEMALE, female)):
            expected = people * weight / total_weight
            chi_square += (observed[(start, sex)] - expected) ** 2 / expected
    # 42 cells, 41 degrees of freedom: the 99.99th percentile is about 84.
    assert chi_square < 84, chi_square
    minors = sum(1 for h in population for p in h.members if _age(p.birth_date) < 18)
    assert 0.12 < minors / people < 0.18
    elderly = sum(1 for h in population for p in h.members if _age(p.birth_date) >= 65)
    assert 0.25 < elderly / people < 0.32


def test_household_mix_is_realistic(population: list[SyntheticHousehold]) -> None:
    sizes = Counter(len(h.members) for h in population)
    singles = sizes[1] / len(population)
    assert 0.33 < singles < 0.45
    average = sum(len(h.members) for h in population) / len(population)
    assert 2.0 < average < 2.5
    three_generations = sum(
        1
        for h in population
        if {m.relationship for m in h.members}
        & {Relationship.GRANDCHILD, Relationship.FATHER, Relationship.MOTHER}
    )
    assert three_generations / len(population) > 0.03


def test_addresses_belong_to_the_municipality(population: list[SyntheticHousehold]) -> None:
    towns = tuple(t.full_name for t in neighbourhoods(MUNICIPALITY))
    used: Counter[str] = Counter()
    for household in population:
        assert household.address.startswith(towns), household.address
        # The longest match: ひばりが丘 is a prefix of ひばりが丘北.
        used[max((t for t in towns if household.address.startswith(t)), key=len)] += 1
        suffix = household.address[len("東京都西東京市") :]
        assert "丁目" in suffix or "番地" in suffix
    assert len(used) == len(towns)  # every town gets residents


def test_designated_city_addresses_span_its_wards() -> None:
    households = generate_population("141003", 3_000, today=TODAY, seed=3)
    wards = {h.address.split("市", 1)[1].split("区", 1)[0] for h in households}
    assert all(h.address.startswith("神奈川県横浜市") for h in households)
    assert len(wards) > 10


def test_foreign_residents_have_no_domicile(population: list[SyntheticHousehold]) -> None:
    foreign = [h for h in population if h.foreign]
    assert 0.01 < len(foreign) / len(population) < 0.035
    for household in population:
        for person in household.members:
            if household.foreign:
                assert person.domicile is None
                assert person.domicile_head is None
            else:
                assert person.domicile
                assert person.domicile_head
                assert person.domicile_head.startswith(person.family_name)
                assert person.domicile.endswith("番地")


def test_insurance_is_consistent_with_age(population: list[SyntheticHousehold]) -> None:
    for household in population:
        for person in household.members:
            age = _age(person.birth_date)
            insurance = person.insurance
            assert insurance.national_pension == (20 <= age <= 59)
            assert insurance.late_elderly_insurance == (age >= 75)
            assert insurance.long_term_care_insurance == (age >= 65)
            if age >= 75:
                assert not insurance.national_health_insurance
            if insurance.child_allowance:
                assert any(_age(m.birth_date) < 18 for m in household.members if m is not person)
