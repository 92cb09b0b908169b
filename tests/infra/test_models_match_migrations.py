"""The SQLAlchemy models and the hand-written Alembic revisions describe the same
tables, columns, types, indexes and constraints, for every context's schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import machi.core.models
import machi.privacy.models
import machi.registry.models
import machi.synth.models  # noqa: F401 — registers every table on Base.metadata
from machi.core.db import SCHEMAS, Base


def test_models_match_the_migrations(connection: Connection) -> None:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": lambda name, kind, _parents: kind != "schema" or name in SCHEMAS,
            "include_object": lambda obj, name, kind, _reflected, _compare_to: (
                not (
                    (kind == "table" and (name == "alembic_version" or obj.schema not in SCHEMAS))
                    # Expression indexes alembic cannot compare; each has a catalog test
                    # (tests/registry/test_search_indexes.py).
                    or (kind == "index" and str(name).endswith("_variant_trgm"))
                )
            ),
            "compare_type": True,
        },
    )
    diff = compare_metadata(context, Base.metadata)
    assert [_short(d) for d in diff] == []


def _short(d: object) -> str:
    item = d[0] if isinstance(d, list) else d
    return f"{item[0]} {getattr(item[1], 'name', item[1])}"[:100]  # type: ignore[index]
