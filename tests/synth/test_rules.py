"""The synthetic town's generators, without a database: determinism, the census shapes the
town is meant to have, internal consistency, and the fictitious 個人番号."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from machi.core.calendar import age_on
from machi.core.numbers import is_valid_individual_number
from machi.synth import rules
from machi.synth.rules import AreaBatch, TownPlan, generate_town, individual_number_for

AS_OF = date(2025, 6, 1)
FULL_WIDTH_KANA = re.compile(r"^[ァ-ヴー]+(\u3000[ァ-ヴー]+)*$")
HALF_WIDTH_KANA = re.compile(r"^[ｦ-ﾟ]+( [ｦ-ﾟ]+)*$")


def plan(residents: int, seed: int = 20250601) -> TownPlan:
    return TownPlan(
        seed=seed,
        residents=residents,
        as_of=AS_OF,
        municipality_name="架空市",
        local_government_code="999997",
    )


def town(p: TownPlan) -> AreaBatch:
    """All areas' rows in one batch."""
    out = AreaBatch()
    for _area, batch in generate_town(p):
        out.addresses += batch.addresses
        out.households += batch.households
        out.persons += batch.persons
        out.life_events += batch.life_events
        out.incomes += batch.incomes
        out.bank_accounts += batch.bank_accounts
        out.residents += batch.residents
    return out


@pytest.fixture(scope="module")
def big() -> AreaBatch:
    return town(plan(20_000))


def current(t: AreaBatch) -> list[rules.PersonRow]:
    return [p for p in t.persons if p.died_on is None and p.moved_out_on is None]


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_same_rows_different_seed_different_rows() -> None:
    first, again, other = town(plan(2_000)), town(plan(2_000)), town(plan(2_000, seed=7))
    assert first == again
    assert rules.town_areas(plan(2_000)) == rules.town_areas(plan(2_000))
    assert first.persons != other.persons
    assert [p.name for p in first.persons[:50]] != [p.name for p in other.persons[:50]]


def test_exact_resident_count(big: AreaBatch) -> None:
    assert big.residents == len(current(big)) == 20_000
    assert len(rules.town_areas(plan(20_000))) == 10  # one 町字 per ~2,000 residents


# --- census shapes --------------------------------------------------------------------------


def test_age_pyramid_close_to_2020_census(big: AreaBatch) -> None:
    ages = [age_on(p.birth_date, AS_OF) for p in current(big)]
    n = len(ages)
    young = sum(a < 15 for a in ages) / n
    old = sum(a >= 65 for a in ages) / n
    # 令和2年国勢調査: 11.9 % / 59.5 % / 28.6 %
    assert young == pytest.approx(0.119, abs=0.02)
    assert 1 - young - old == pytest.approx(0.595, abs=0.025)
    assert old == pytest.approx(0.286, abs=0.025)
    assert max(ages) <= rules.MAX_AGE + 1


def test_household_size_and_families(big: AreaBatch) -> None:
    live = [h for h in big.households if h.dissolved_on is None]
    mean = len(current(big)) / len(live)
    assert 2.0 <= mean <= 2.4
    kinds = Counter(h.kind for h in live)
    assert kinds["single"] / len(live) == pytest.approx(0.38, abs=0.03)
    assert kinds["couple_children"] / len(live) == pytest.approx(0.25, abs=0.03)


def test_every_household_has_exactly_one_head(big: AreaBatch) -> None:
    members: dict[int, list[rules.PersonRow]] = defaultdict(list)
    for p in big.persons:
        members[p.household_id].append(p)
    for h in big.households:
        people = members[h.id]
        live = [p for p in people if p.died_on is None and p.moved_out_on is None]
        # A dissolved household's head is among its removed members.
        heads = [p for p in (people if h.dissolved_on else live) if p.relationship == "世帯主"]
        assert len(heads) == 1, h
        assert heads[0].id == h.head_person_id
        assert sorted(p.display_order for p in people) == list(range(1, len(people) + 1))
        assert all(p.relationship == rules.RELATIONSHIPS[p.relationship_code] for p in people)
        assert (h.dissolved_on is None) == bool(live)


def test_children_share_the_household_surname(big: AreaBatch) -> None:
    heads = {p.household_id: p for p in big.persons if p.relationship_code == "head"}
    children = [p for p in big.persons if p.relationship_code == "child"]
    japanese = [c for c in children if c.nationality_code is None]
    same = sum(c.name.split("\u3000")[0] == heads[c.household_id].name.split("\u3000")[0]
               for c in japanese)  # fmt: skip
    assert same / len(japanese) > 0.95


def test_foreign_residents(big: AreaBatch) -> None:
    people = current(big)
    foreign = [p for p in people if p.nationality_code is not None]
    assert len(foreign) / len(people) == pytest.approx(0.025, abs=0.01)
    for p in foreign:
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)+", p.name), p.name
        assert p.residence_status is not None
        assert p.registered_domicile is None and p.family_register_head is None
        if p.residence_status not in ("永住者", "特別永住者"):
            assert p.residence_expires_on is not None and p.residence_expires_on > AS_OF
    assert any(p.alias_name for p in foreign)


def test_many_surnames_with_a_long_tail(big: AreaBatch) -> None:
    surnames = Counter(p.name.split("\u3000")[0] for p in big.persons if p.nationality_code is None)
    assert len(surnames) > 1_500
    assert surnames.most_common(1)[0][1] / sum(surnames.values()) < 0.03
    assert len(rules.surname_table()) > 3_000


# --- consistency ----------------------------------------------------------------------------


def test_no_event_before_birth_or_after_death(big: AreaBatch) -> None:
    people = {p.id: p for p in big.persons}
    for p in big.persons:
        assert p.birth_date <= p.moved_in_on <= AS_OF
        end = p.died_on or p.moved_out_on
        if end is not None:
            assert p.moved_in_on <= end < AS_OF
        assert (p.moved_in_reason == "birth") == (p.moved_in_on == p.birth_date)
    for e in big.life_events:
        p = people[e.person_id]
        assert p.birth_date <= e.occurred_on <= AS_OF
        if p.died_on is not None:
            assert e.occurred_on <= p.died_on
    kinds = Counter(e.kind for e in big.life_events)
    assert kinds.keys() == {"birth", "move_in", "death", "move_out"}
    assert len(big.life_events) == len(big.persons) + kinds["death"] + kinds["move_out"]


def test_kana_are_full_width_katakana(big: AreaBatch) -> None:
    for p in big.persons:
        assert FULL_WIDTH_KANA.fullmatch(p.name_kana), p.name_kana
        if p.alias_name_kana is not None:
            assert FULL_WIDTH_KANA.fullmatch(p.alias_name_kana), p.alias_name_kana


def test_incomes(big: AreaBatch) -> None:
    people = {p.id: p for p in big.persons}
    keys = [(i.person_id, i.fiscal_year) for i in big.incomes]
    assert len(keys) == len(set(keys))
    assert {i.fiscal_year for i in big.incomes} == {2024, 2025}
    pensions = children_paid = 0
    for i in big.incomes:
        assert isinstance(i.amount, int) and i.amount >= 0
        assert (i.amount == 0) == (i.category == "none")
        age = age_on(people[i.person_id].birth_date, date(i.fiscal_year, 1, 1))
        assert age >= 15
        pensions += age >= 70 and i.category == "pension"
        children_paid += age < 18 and i.amount > 0
    old = sum(age_on(people[i.person_id].birth_date, date(i.fiscal_year, 1, 1)) >= 70
              for i in big.incomes)  # fmt: skip
    assert pensions / old > 0.8
    salaries = sorted(i.amount for i in big.incomes if i.category == "salary")
    assert 2_000_000 < salaries[len(salaries) // 2] < 5_000_000


def test_bank_accounts(big: AreaBatch) -> None:
    live = [h for h in big.households if h.dissolved_on is None]
    heads = {h.id: h.head_person_id for h in live}
    assert len(big.bank_accounts) / len(live) == pytest.approx(0.70, abs=0.03)
    numbers = set()
    for a in big.bank_accounts:
        assert a.person_id == heads[a.household_id]
        assert re.fullmatch(r"9\d{3}", a.bank_code)
        assert re.fullmatch(r"\d{3}", a.branch_code) and re.fullmatch(r"\d{7}", a.account_number)
        assert HALF_WIDTH_KANA.fullmatch(a.holder_kana), a.holder_kana
        numbers.add((a.bank_code, a.branch_code, a.account_type, a.account_number))
    assert len(numbers) == len(big.bank_accounts)


def test_bank_kana_drops_small_kana() -> None:
    assert rules.bank_kana("キョウ\u3000ジュン") == "ｷﾖｳ ｼﾞﾕﾝ"


def test_address_master(big: AreaBatch) -> None:
    areas = rules.town_areas(plan(20_000))
    assert len({a.name for a in areas}) == len(areas)
    assert len({a.postal_code for a in areas}) == len(areas)
    for a in areas:
        assert re.fullmatch(r"\d{7}", a.postal_code) and re.fullmatch(r"\d{4}", a.code)
        assert FULL_WIDTH_KANA.fullmatch(a.name_kana)
    assert any(p.building for p in big.persons)
    assert {x.town_area_id for x in big.addresses} == {a.id for a in areas}


# --- 個人番号 --------------------------------------------------------------------------------


def oracle_check_digit(first11: str) -> int:
    """平成26年総務省令第85号 第5条, written from the text (digits counted from the right)."""
    total = 0
    for n in range(1, 12):
        q = n + 1 if n <= 6 else n - 5
        total += int(first11[-n]) * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(-(2**63), 2**63), index=st.integers(0, 10**11 - 1))
def test_individual_number_is_valid(seed: int, index: int) -> None:
    number = individual_number_for(seed, index)
    assert re.fullmatch(r"\d{12}", number)
    assert is_valid_individual_number(number)
    assert int(number[11]) == oracle_check_digit(number[:11])
    assert individual_number_for(seed, index) == number


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), indices=st.sets(st.integers(0, 10**11 - 1), min_size=2))
def test_individual_numbers_unique_within_a_seed(seed: int, indices: set[int]) -> None:
    numbers = {individual_number_for(seed, i) for i in indices}
    assert len(numbers) == len(indices)


def test_individual_numbers_unique_for_a_town() -> None:
    numbers = {individual_number_for(1, i) for i in range(1, 5_001)}
    assert len(numbers) == 5_000


def test_individual_number_rejects_out_of_range_index() -> None:
    with pytest.raises(ValueError):
        individual_number_for(1, -1)
    with pytest.raises(ValueError):
        individual_number_for(1, 10**11)
