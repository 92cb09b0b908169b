"""基本4情報 search: kana partial/fuzzy match on normalised keys, 異体字, birth date or year,
address part, sex, the two-item rule (REG-CTRL-29), 除票 and past dates, no 個人番号 in
results (DISP-04), one audit row, and at most one SELECT plus the audit INSERT.
All names and numbers are fictitious."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event

from machi.bootstrap import Runtime
from machi.core.errors import CoreError, DomainError
from machi.core.text import normalize_kana, normalize_name
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.permissions import Affair
from machi.registry import queries
from machi.registry.errors import RegistryError
from machi.registry.queries import SearchCriteria
from registry.test_queries import NUMBER, Registry, audit_rows, clerk


@dataclass(frozen=True)
class Town:
    taro: uuid.UUID  # 山田 太郎
    hanako: uuid.UUID  # 山田 花子
    saburo: uuid.UUID  # 山田 三郎, moved out 2025-06-01
    takahashi: uuid.UUID  # 高橋 一郎
    takahashi_old: uuid.UUID  # 髙橋 花子
    watanabe: uuid.UUID  # 渡邊 健
    saito: uuid.UUID  # 齋藤 修
    kim: uuid.UUID  # 通称 金田 一


@pytest.fixture
def town(rt: Runtime) -> Town:
    b = Registry(rt)
    chuo = b.address("架空町", "1丁目2番3号")
    sakura = b.address("桜台", "3番地5")
    return Town(
        taro=b.person(
            "山田 太郎", "ヤマダ タロウ", birth_date=date(1980, 5, 5), sex=1, address_id=chuo
        ),
        hanako=b.person(
            "山田 花子", "ヤマダ ハナコ", birth_date=date(1980, 11, 11), sex=2, address_id=chuo
        ),
        saburo=b.person(
            "山田 三郎",
            "ヤマダ サブロウ",
            birth_date=date(1980, 2, 2),
            sex=1,
            address_id=chuo,
            removed_on=date(2025, 6, 1),
        ),
        takahashi=b.person(
            "高橋 一郎", "タカハシ イチロウ", birth_date=date(1975, 3, 10), sex=1, address_id=sakura
        ),
        takahashi_old=b.person(
            "髙橋 花子", "タカハシ ハナコ", birth_date=date(1978, 7, 20), sex=2, address_id=sakura
        ),
        watanabe=b.person(
            "渡邊 健",
            "ワタナベ ケン",
            birth_date=date(1990, 1, 15),
            sex=1,
            address_id=chuo,
            building="架空ハイツ101",
        ),
        saito=b.person(
            "齋藤 修", "サイトウ オサム", birth_date=date(1985, 8, 8), sex=1, address_id=sakura
        ),
        kim=b.person(
            "KIM MINJUN",
            "キム ミンジュン",
            birth_date=date(1988, 4, 4),
            sex=1,
            address_id=sakura,
            foreign_resident=True,
            nationality="KR",
            foreign_resident_class="special_permanent_resident",
            residence_card_no="AB12345678CD",
            became_foreign_resident_on=date(1988, 4, 4),
            registered_domicile=None,
            family_register_head=None,
            alias_name="金田 一",
            alias_name_kana="カネダ ハジメ",
        ),
    )


def ids(result: queries.SearchResult) -> list[uuid.UUID]:
    return [r.resident_id for r in result.rows]


def search(rt: Runtime, **criteria: object) -> queries.SearchResult:
    as_of = criteria.pop("as_of", None)
    return queries.search_residents(
        rt.uow(),
        clerk(),
        SearchCriteria(**criteria),  # type: ignore[arg-type]
        as_of=as_of,  # type: ignore[arg-type]
    )


# -- name and フリガナ ---------------------------------------------------------------------


def test_partial_kana_finds_full_names_ordered_by_kana(rt: Runtime, town: Town) -> None:
    result = search(rt, name_kana="ヤマダ", birth_year=1980)
    assert ids(result) == [town.taro, town.hanako]  # ヤマダタロウ < ヤマダハナコ; 三郎 left
    assert result.total == 2 and not result.truncated
    assert result.rows[0].name == "山田 太郎" and result.rows[0].address_text == "架空町1丁目2番3号"


@pytest.mark.parametrize("typed", ["やまだ たろう", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", "たろう"])
def test_hiragana_half_width_and_spaced_input_is_normalised(
    rt: Runtime, town: Town, typed: str
) -> None:
    assert ids(search(rt, name_kana=typed, address="架空町")) == [town.taro]


def test_exact_kana_ranks_before_partial_and_a_typo_is_still_found(rt: Runtime, town: Town) -> None:
    assert ids(search(rt, name_kana="ハナコ", address="架空町")) == [town.hanako]
    # オ for ウ: no LIKE match, found by trigram similarity.
    assert ids(search(rt, name_kana="ヤマダタロオ", birth_year=1980)) == [town.taro]


def test_alias_name_and_its_kana_find_a_foreign_resident(rt: Runtime, town: Town) -> None:
    assert ids(search(rt, name_kana="カネダ", birth_year=1988)) == [town.kim]
    assert ids(search(rt, name="金田", address="桜台")) == [town.kim]
    assert ids(search(rt, name="kim minjun", address="桜台")) == [town.kim]


@pytest.mark.parametrize(
    ("typed", "first"),
    [("高橋", "takahashi"), ("髙橋", "takahashi_old")],
)
def test_kanji_variants_find_each_other_spelling_as_typed_first(
    rt: Runtime, town: Town, typed: str, first: str
) -> None:
    result = search(rt, name=typed, address="桜台")
    assert set(ids(result)) == {town.takahashi, town.takahashi_old}
    assert ids(result)[0] == getattr(town, first)


@pytest.mark.parametrize("typed", ["渡辺", "渡邉", "渡邊 健", "渡辺健"])
def test_watanabe_in_any_spelling(rt: Runtime, town: Town, typed: str) -> None:
    assert ids(search(rt, name=typed, birth_date=date(1990, 1, 15))) == [town.watanabe]


@pytest.mark.parametrize("typed", ["斎藤", "斉藤", "齊藤", "齋藤"])
def test_saito_family_is_folded(rt: Runtime, town: Town, typed: str) -> None:
    assert ids(search(rt, name=typed, address="桜台")) == [town.saito]


def test_variant_map_folds_in_one_pass_and_is_safe_as_sql_literal() -> None:
    variants = queries._VARIANT_KANJI
    assert all(len(k) == 1 and len(v) == 1 for k, v in variants.items())
    assert not set(variants.values()) & set(variants)  # no chains: one translate() suffices
    # Keys must survive normalize_name, or the stored key would never contain them.
    assert all(normalize_name(k) == k for k in variants)
    assert not {"'", "\\"} & set(queries._VARIANT_FROM + queries._VARIANT_TO)


# -- birth date, address, sex ------------------------------------------------------------


def test_birth_year_narrows(rt: Runtime, town: Town) -> None:
    assert ids(search(rt, name_kana="タカハシ", birth_year=1978)) == [town.takahashi_old]
    assert ids(search(rt, name_kana="タカハシ", birth_date=date(1975, 3, 10))) == [town.takahashi]


@pytest.mark.parametrize("part", ["1丁目2番", "１丁目２番", "架空町 1丁目", "架空ハイツ", "ﾊｲﾂ101"])
def test_address_part_matches_town_lot_and_building(rt: Runtime, town: Town, part: str) -> None:
    assert town.watanabe in ids(search(rt, address=part, birth_year=1990))


def test_sex_narrows(rt: Runtime, town: Town) -> None:
    assert ids(search(rt, name_kana="ヤマダ", birth_year=1980, sex=2)) == [town.hanako]


# -- REG-CTRL-29: two items other than 性別 -------------------------------------------------


@pytest.mark.parametrize(
    "criteria",
    [
        {"name_kana": "ヤマダ", "sex": 1},
        {"birth_date": date(1980, 5, 5), "sex": 1},  # the acceptance case of REG-CTRL-29
        {"name": "山田", "name_kana": "ヤマダ"},  # 氏名 twice is still one item
        {"name_kana": "・ ", "birth_year": 1980},  # normalises to nothing
        {},
    ],
)
def test_fewer_than_two_items_besides_sex_are_refused(
    rt: Runtime, town: Town, criteria: dict[str, object]
) -> None:
    with pytest.raises(DomainError) as err:
        search(rt, **criteria)
    assert (err.value.code, err.value.field) == (
        RegistryError.SEARCH_CRITERIA_INSUFFICIENT,
        "criteria",
    )
    assert audit_rows(rt, "registry.search_residents") == []  # refused before any read


@pytest.mark.parametrize(
    "criteria",
    [
        {"name": "山田", "birth_date": date(1980, 5, 5)},
        {"name_kana": "ヤマダ", "address": "架空町"},
        {"birth_year": 1980, "address": "架空町", "sex": 1},
    ],
)
def test_two_items_are_accepted(rt: Runtime, town: Town, criteria: dict[str, object]) -> None:
    assert town.taro in ids(search(rt, **criteria))


@pytest.mark.parametrize(
    "criteria",
    [
        {"name_kana": "ヤマダ", "birth_date": date(1980, 5, 5), "birth_year": 1980},
        {"name_kana": "ヤマダ", "birth_year": 80},
        {"name_kana": "ヤマダ", "birth_year": 1980, "sex": 3},
    ],
)
def test_malformed_criteria_are_refused(criteria: dict[str, object], rt: Runtime) -> None:
    with pytest.raises(DomainError) as err:
        search(rt, **criteria)
    assert err.value.code == CoreError.INVALID_INPUT


def test_limit_is_bounded_and_total_counts_all_matches(rt: Runtime, town: Town) -> None:
    actor = clerk()
    criteria = SearchCriteria(name_kana="ヤマダ", birth_year=1980)
    page = queries.search_residents(rt.uow(), actor, criteria, limit=1)
    assert (page.total, ids(page), page.truncated) == (2, [town.taro], True)
    with pytest.raises(DomainError):
        queries.search_residents(rt.uow(), actor, criteria, limit=queries.MAX_SEARCH_LIMIT + 1)


# -- similar names only without a literal match (issue 6) ----------------------------------


def test_similar_names_are_listed_only_when_no_name_contains_the_input(
    rt: Runtime, town: Town
) -> None:
    # ヤマダサブロウ and ヤマダタロウ share 4 of their 8 and 7 trigrams: similarity
    # 4 / (8 + 7 - 4) ≈ 0.36, above pg_trgm's default threshold of 0.3.
    literal = search(rt, name_kana="ヤマダサブロウ", birth_year=1980, include_removed=True)
    assert ids(literal) == [town.saburo]  # 太郎 is merely similar: not listed
    # Without the 除票 in scope no name contains the input, so the similar one is found.
    assert ids(search(rt, name_kana="ヤマダサブロウ", birth_year=1980)) == [town.taro]


def test_a_misspelt_kanji_name_is_found_by_similarity(rt: Runtime, town: Town) -> None:
    # 朗 for 郎: 山田太朗 shares 3 of 5 + 5 trigrams with 山田太郎 (3/7 ≈ 0.43) and 2 with
    # 山田花子 (2/8 = 0.25, below the threshold).
    assert ids(search(rt, name="山田太朗", birth_year=1980)) == [town.taro]


def test_with_both_names_a_literal_match_needs_both(rt: Runtime, town: Town) -> None:
    # ヤマダ is contained in 太郎's and 花子's フリガナ, 山田太朗 in nobody's 氏名: no literal
    # match, so each name may match literally or by similarity, and only 太郎 has both.
    result = search(rt, name_kana="ヤマダ", name="山田太朗", birth_year=1980)
    assert ids(result) == [town.taro]


# -- names too short for trigrams, with 生年月日 or 生年 (the index-only id query) ------------


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"name_kana": "ヤマ", "birth_year": 1980}, {"taro", "hanako"}),
        ({"name_kana": "やま", "birth_year": 1980, "sex": 2}, {"hanako"}),
        (
            {"name_kana": "ヤマ", "birth_year": 1980, "include_removed": True},
            {"taro", "hanako", "saburo"},
        ),
        # On 2024-01-01 三郎 still lived here: his closed row is found, not his 除票.
        (
            {"name_kana": "ヤマ", "birth_year": 1980, "as_of": date(2024, 1, 1)},
            {"taro", "hanako", "saburo"},
        ),
        ({"name_kana": "ハナ", "birth_year": 1978}, {"takahashi_old"}),
        ({"name": "山田", "birth_year": 1980}, {"taro", "hanako"}),
        ({"name": "髙橋", "birth_year": 1975}, {"takahashi"}),  # 高橋 一郎, 異体字 folded
        ({"name": "金田", "birth_date": date(1988, 4, 4)}, {"kim"}),  # 通称
        ({"name": "山田", "name_kana": "ハナ", "birth_year": 1980}, {"hanako"}),
    ],
)
def test_a_short_name_with_a_birth_date_or_year(
    rt: Runtime, town: Town, criteria: dict[str, object], expected: set[str]
) -> None:
    assert set(ids(search(rt, **criteria))) == {getattr(town, k) for k in expected}


def test_the_page_is_cut_after_the_addressee_number_orders_equal_matches(rt: Runtime) -> None:
    b = Registry(rt)
    place = b.address("架空町", "9番地")
    twins = [
        b.person("架空 双子", "カクウ フタゴ", birth_date=date(2001, 2, 3), sex=1, address_id=place)
        for _ in range(3)
    ]
    criteria = SearchCriteria(name_kana="カクウフタゴ", birth_year=2001)
    full = queries.search_residents(rt.uow(), clerk(), criteria)
    assert set(ids(full)) == set(twins) and full.total == 3
    numbers = [r.addressee_no for r in full.rows]
    assert numbers == sorted(numbers)  # equal on every other order key
    for limit in (1, 2):
        page = queries.search_residents(rt.uow(), clerk(), criteria, limit=limit)
        assert (page.total, ids(page), page.truncated) == (3, ids(full)[:limit], True)


# -- 除票 and past dates ------------------------------------------------------------------


def test_removed_records_only_when_asked_or_as_of_when_resident(rt: Runtime, town: Town) -> None:
    assert town.saburo not in ids(search(rt, name_kana="ヤマダサブロウ", birth_year=1980))
    asked = search(rt, name_kana="ヤマダサブロウ", birth_year=1980, include_removed=True)
    assert [(r.resident_id, r.removed) for r in asked.rows] == [(town.saburo, True)]
    back_then = search(rt, name_kana="ヤマダサブロウ", birth_year=1980, as_of=date(2024, 1, 1))
    assert [(r.resident_id, r.removed) for r in back_then.rows] == [(town.saburo, False)]
    assert back_then.as_of == date(2024, 1, 1)
    # Before anyone moved in there was nobody to find.
    assert search(rt, name_kana="ヤマダ", birth_year=1980, as_of=date(2009, 1, 1)).total == 0


# -- privacy: no number, 支援措置, audit, query count ----------------------------------------


def test_results_never_carry_the_individual_number(rt: Runtime, town: Town) -> None:
    with rt.uow() as uow:
        vault.store_number(uow, Actor.operator(affair=Affair.JUKI), rt.keys, town.taro, NUMBER)
        uow.commit()
    result = search(rt, name_kana="ヤマダタロウ", birth_year=1980)
    assert ids(result) == [town.taro]
    names = {f.name for f in fields(queries.SearchRow)}
    assert not {n for n in names if "number" in n}
    assert NUMBER not in repr(result) and vault.MASK not in repr(result)


def test_protected_residents_are_listed_and_flagged_for_staff(rt: Runtime, town: Town) -> None:
    Registry(rt).protect(town.hanako)
    result = search(rt, name_kana="ヤマダ", birth_year=1980)
    assert [(r.resident_id, r.protected) for r in result.rows] == [
        (town.taro, False),
        (town.hanako, True),
    ]
    (row,) = audit_rows(rt, "registry.search_residents")
    assert row.detail["protected_rows"] == 1


def test_one_audit_row_with_returned_ids_and_criterion_names_only(rt: Runtime, town: Town) -> None:
    actor = clerk()
    queries.search_residents(
        rt.uow(), actor, SearchCriteria(name_kana="ヤマダ", birth_year=1980, sex=2)
    )
    (row,) = audit_rows(rt, "registry.search_residents")
    assert (row.outcome, row.actor_user_id) == ("ok", actor.user_id)
    assert row.subject_ids == [str(town.hanako)]
    assert row.detail == {
        "criteria": ["name_kana", "birth_year", "sex"],
        "total": 1,
        "returned": 1,
        "limit": 50,
        "as_of_given": 0,
        "include_removed": 0,
        "protected_rows": 0,
    }
    assert "ヤマダ" not in json.dumps(row.detail, ensure_ascii=False)
    assert "1980" not in json.dumps(row.detail)


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # Savepoints are how the test harness nests the unit of work, not the query's.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


@pytest.mark.parametrize(
    "criteria",
    [
        SearchCriteria(name_kana="ヤマダ", birth_year=1980),
        SearchCriteria(name="髙橋", address="桜台", sex=2, include_removed=True),
        SearchCriteria(birth_date=date(1990, 1, 15), address="架空ハイツ"),
    ],
)
def test_a_search_is_one_select_plus_the_audit_insert(
    rt: Runtime, town: Town, statements: list[str], criteria: SearchCriteria
) -> None:
    result = queries.search_residents(rt.uow(), clerk(), criteria)
    assert result.total >= 1
    kinds = [s.lstrip().split()[0].upper() for s in statements]
    assert kinds.count("SELECT") <= 2  # the brief's budget; one is used
    assert kinds == ["SELECT", "INSERT"], statements
    assert "privacy.audit_log" in statements[1]


# -- idempotence of input normalisation ----------------------------------------------------

KANA = "やまだたろうはなこヤマダタロウハナコﾔﾏﾀﾞﾀﾛｳﾊﾅｺ ・　"
KANJI = "山田太郎花子高髙橋渡辺邊邉崎﨑 　"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kana=st.text(alphabet=KANA, min_size=1, max_size=6), kanji=st.text(KANJI, max_size=4))
def test_normalising_the_input_first_changes_nothing(
    rt: Runtime, town: Town, kana: str, kanji: str
) -> None:
    """search(x) == search(normalize(x)): the search applies the same normalisation as the
    stored keys, and applying it twice is applying it once."""

    def found(name_kana: str, name: str) -> list[uuid.UUID] | str:
        try:
            return ids(search(rt, name_kana=name_kana, name=name or None, address="町"))
        except DomainError as e:
            return str(e.code)  # refused: the name normalised to nothing

    assert found(kana, kanji) == found(normalize_kana(kana), normalize_name(kanji))


@pytest.mark.parametrize("wildcard", ["%", "_", "\\"])
def test_like_wildcards_in_the_input_are_literal(rt: Runtime, town: Town, wildcard: str) -> None:
    assert search(rt, address=wildcard, birth_year=1990).total == 0
    # Two characters: below the trigram length, so only LIKE could match.
    assert search(rt, name_kana=f"ダ{wildcard}", birth_year=1980).total == 0
