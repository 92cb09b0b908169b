"""The indexes the 4情報 search relies on, and the plans that use them.

- The kanji-variant search is served by an index whose expression is exactly the one the
  query builds (else PostgreSQL silently falls back to a full scan).
- A short name (no trigram) with a birth date or year is filtered index-only on
  ix_resident_version_live_birth_names (migration 0008): alembic compares neither its
  INCLUDE list nor its WHERE, so the definition is checked here, and the plan on a
  vacuumed database.
- With a literal match the trigram-similarity part of the statement never runs; without
  one it does (the one-time filter of queries._search_statement)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core.clock import FixedClock
from machi.core.db import autocommit, make_engine
from machi.core.settings import Settings
from machi.registry import queries
from machi.registry.queries import SearchCriteria
from registry.test_queries import Registry, clerk
from support import FreshDatabase


def test_variant_index_uses_the_same_fold_as_the_query(connection: Connection) -> None:
    definitions = dict(
        connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'registry' "
                "AND indexname LIKE '%variant_trgm'"
            )
        ).all()
    )
    assert set(definitions) == {
        "ix_resident_version_name_key_variant_trgm",
        "ix_resident_version_alias_name_key_variant_trgm",
    }
    for definition in definitions.values():
        assert f"'{queries._VARIANT_FROM}'" in definition
        assert f"'{queries._VARIANT_TO}'" in definition
        assert "gin_trgm_ops" in definition


def test_the_birth_index_covers_the_four_keys_of_live_rows(connection: Connection) -> None:
    definition = connection.execute(
        text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'registry'"
            " AND indexname = 'ix_resident_version_live_birth_names'"
        )
    ).scalar_one()
    assert definition == (
        "CREATE INDEX ix_resident_version_live_birth_names ON registry.resident_version"
        " USING btree (birth_date)"
        " INCLUDE (name_kana_key, alias_name_kana_key, name_key, alias_name_key, id)"
        " WHERE (superseded_at IS NULL)"
    )


# -- plans, on a database of its own (real commits, VACUUM ANALYZE as the owner) ------------


@pytest.fixture
def town(fresh_db: FreshDatabase, test_settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    rt = bootstrap.build(test_settings, fresh_db.app_url, clock=clock)
    b = Registry(rt)
    place = b.address("架空町", "1丁目2番3号")
    names = [
        ("山田 太郎", "ヤマダ タロウ"),
        ("山田 花子", "ヤマダ ハナコ"),
        ("佐藤 一郎", "サトウ イチロウ"),
        ("髙橋 次郎", "タカハシ ジロウ"),
        ("中山 三郎", "ナカヤマ サブロウ"),
    ]
    for year in range(1978, 1983):  # each name once a year
        for month, (name, kana) in enumerate(names, 1):
            b.person(name, kana, birth_date=date(year, month, 1), sex=1, address_id=place)
    owner = make_engine(fresh_db.owner_url)
    with autocommit(owner) as conn:
        # The test server commits asynchronously, and VACUUM marks no page all-visible
        # before the inserts' commit records are on disk: one synchronous commit flushes
        # them all.
        conn.exec_driver_sql("SET synchronous_commit = on")
        conn.exec_driver_sql("SELECT txid_current()")
        conn.exec_driver_sql("VACUUM ANALYZE registry.resident_version")
    owner.dispose()
    yield rt
    rt.engine.dispose()


def _explained(rt: Runtime, criteria: SearchCriteria, *settings: str) -> tuple[Any, dict[str, Any]]:
    """Run the search, then EXPLAIN ANALYZE the very statement it sent."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: object, _cursor: object, statement: str, params: Any, *_: object) -> None:
        if "count(*) OVER ()" in statement:
            sent.append((statement, params))

    event.listen(rt.engine, "before_cursor_execute", keep)
    try:
        result = queries.search_residents(rt.uow(), clerk(), criteria)
    finally:
        event.remove(rt.engine, "before_cursor_execute", keep)
    ((statement, params),) = sent
    with rt.engine.connect() as conn:
        for setting in settings:
            conn.exec_driver_sql(setting)
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params
        ).scalar_one()
    return result, plan[0]["Plan"]


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (
            SearchCriteria(name_kana="ヤマ", birth_year=1978),
            {"山田 太郎", "山田 花子", "中山 三郎"},
        ),
        # 異体字: 高橋 finds 髙橋, folded by translate() on the index tuple.
        (SearchCriteria(name="高橋", birth_year=1981), {"髙橋 次郎"}),
    ],
)
def test_a_short_name_with_a_birth_year_is_filtered_index_only(
    town: Runtime, criteria: SearchCriteria, expected: set[str]
) -> None:
    # The table is small, so the planner would rather scan it whole: forbid that, and see
    # that the index it then uses answers the id query alone.
    result, plan = _explained(
        town, criteria, "SET enable_seqscan = off", "SET enable_bitmapscan = off"
    )
    assert {r.name for r in result.rows} == expected
    only = [
        n
        for n in _nodes(plan)
        if n["Node Type"] == "Index Only Scan"
        and n.get("Index Name") == "ix_resident_version_live_birth_names"
    ]
    assert len(only) == 1 and only[0]["Heap Fetches"] == 0
    assert "~~" in only[0]["Filter"]  # the LIKE, tested on the index tuples


def _similarity_loops(plan: dict[str, Any]) -> list[int]:
    """Loops of the plan nodes that test trigram similarity (``key % 'input'``)."""
    return [
        n["Actual Loops"]
        for n in _nodes(plan)
        if any(" % '" in str(n.get(k, "")) for k in ("Index Cond", "Recheck Cond", "Filter"))
    ]


def test_the_similarity_scan_runs_only_without_a_literal_match(town: Runtime) -> None:
    exact, plan = _explained(town, SearchCriteria(name_kana="ヤマダタロウ", address="架空町"))
    assert exact.total == 5
    loops = _similarity_loops(plan)
    assert loops and set(loops) == {0}  # planned, never started
    typo, plan = _explained(town, SearchCriteria(name_kana="ヤマダタロオ", address="架空町"))
    assert {r.name for r in typo.rows} == {"山田 太郎"}
    assert max(_similarity_loops(plan)) >= 1
