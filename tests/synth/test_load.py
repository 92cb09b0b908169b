"""Loading the synthetic town into PostgreSQL (schema synth) as the application role."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from machi.core.clock import JST, FixedClock
from machi.core.db import Base, make_sessions
from machi.core.errors import DomainError
from machi.core.uow import UnitOfWork
from machi.privacy.actor import Actor
from machi.synth import services
from machi.synth.errors import SynthError
from machi.synth.models import TABLE_NAMES

AS_OF = date(2025, 6, 1)


OPERATOR = Actor.operator()


def uow_on(engine: Engine) -> UnitOfWork:
    return UnitOfWork(make_sessions(engine), FixedClock(datetime(2025, 6, 1, 9, 0, tzinfo=JST)))


def town_loaded(engine: Engine) -> bool:
    return services.town_loaded(uow_on(engine), OPERATOR)


def clear_town(engine: Engine) -> None:
    services.clear_town(uow_on(engine), OPERATOR)


def load(engine: Engine, *, seed: int = 11, progress: list[int] | None = None) -> object:
    return services.load_town(
        uow_on(engine),
        OPERATOR,
        residents=2_000,
        seed=seed,
        municipality_name="架空市",
        local_government_code="999997",
        as_of=AS_OF,
        on_progress=progress.append if progress is not None else None,
        generated_at=datetime(2025, 6, 1, 9, 0, tzinfo=JST),
    )


def fingerprint(engine: Engine) -> dict[str, str]:
    """An md5 of every synth table's rows in key order (town row without generated_at)."""
    out = {}
    with engine.connect() as conn:
        for table in TABLE_NAMES:
            if table == "town":
                query = (
                    "SELECT md5(string_agg(concat_ws('|', id, name, seed, residents, as_of), '/'))"
                )
                query += " FROM synth.town"
            else:
                order = "person_id, fiscal_year" if table == "income" else "id"
                query = (
                    f"SELECT md5(string_agg(t::text, '/' ORDER BY {order})) FROM synth.{table} t"  # noqa: S608  (constant names)
                )
            out[table] = conn.execute(text(query)).scalar_one()
    return out


@pytest.mark.slow(reason="loads a 2,000-resident town twice into a fresh database")
def test_load_counts_refusal_and_determinism(migrated_engine: Engine) -> None:
    assert not town_loaded(migrated_engine)
    progress: list[int] = []
    report = load(migrated_engine, progress=progress)

    assert town_loaded(migrated_engine)
    assert report.residents == 2_000 and progress[-1] == 2_000
    assert report.rows_per_second > 0 and report.total_rows == sum(report.rows.values())
    with migrated_engine.connect() as conn:
        for table in TABLE_NAMES:
            query = f"SELECT count(*) FROM synth.{table}"  # noqa: S608  (constant names)
            count = conn.execute(text(query)).scalar_one()
            assert count == report.rows[table], table
        assert report.rows["town_area"] == 1
        residents = conn.execute(
            text("SELECT count(*) FROM synth.person WHERE died_on IS NULL AND moved_out_on IS NULL")
        ).scalar_one()
        assert residents == 2_000
        # Every current household has exactly one current 世帯主, the one it points to.
        bad_heads = conn.execute(
            text(
                """SELECT count(*) FROM synth.household h
                   WHERE h.dissolved_on IS NULL AND 1 <> (
                     SELECT count(*) FROM synth.person p
                     WHERE p.household_id = h.id AND p.relationship_code = 'head'
                       AND p.id = h.head_person_id
                       AND p.died_on IS NULL AND p.moved_out_on IS NULL)"""
            )
        ).scalar_one()
        assert bad_heads == 0
        town = conn.execute(text("SELECT seed, residents, as_of FROM synth.town")).one()
        assert tuple(town) == (11, 2_000, AS_OF)

    with pytest.raises(DomainError) as refused:
        load(migrated_engine)
    assert refused.value.code == SynthError.ALREADY_LOADED

    first = fingerprint(migrated_engine)
    clear_town(migrated_engine)
    assert not town_loaded(migrated_engine)
    load(migrated_engine)
    assert fingerprint(migrated_engine) == first

    clear_town(migrated_engine)
    load(migrated_engine, seed=12)
    assert fingerprint(migrated_engine)["person"] != first["person"]


def test_load_rejects_bad_input(migrated_engine: Engine) -> None:
    with pytest.raises(DomainError):
        services.load_town(
            uow_on(migrated_engine),
            OPERATOR,
            residents=10,
            seed=1,
            municipality_name="架空市",
            local_government_code="999990",  # wrong check digit
            as_of=AS_OF,
        )
    with pytest.raises(DomainError):
        services.load_town(
            uow_on(migrated_engine),
            OPERATOR,
            residents=0,
            seed=1,
            municipality_name="架空市",
            local_government_code="999997",
            as_of=AS_OF,
        )
    assert not town_loaded(migrated_engine)


def test_models_match_the_migration(migrated_engine: Engine) -> None:
    """models.py and revision 0002_synth describe the same tables."""
    import machi.synth.models  # noqa: F401  (registers the tables on Base.metadata)

    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, kind, _parents: kind != "schema" or name == "synth",
                "include_object": lambda obj, _name, kind, _reflected, _compare_to: (
                    kind != "table" or obj.schema == "synth"
                ),
                "compare_type": True,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
