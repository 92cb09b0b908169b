"""Covering index for a short name with a birth date or year in the 4情報 search (issue 6).

Revision ID: 0008_registry_search_speed
Revises: 0007_registry_closed_at

A name of one or two characters (「ヤマ」, 「佐藤」) has no trigram, so the trigram indexes
cannot serve ``LIKE '%ヤマ%'``: with 生年 the search read every row of the birth year from
the heap (~13,000 at 1,000,000 residents, one page each) only to test LIKE on its keys,
17–78 ms of SQL. ``machi.registry.queries`` now takes the ids of that birth range whose keys
contain the name from this index alone (an index-only scan, the LIKE evaluated on the
index tuples) and reads only those rows: 2–6 ms.

birth_date is the key; the four search keys and the id are INCLUDEd (the LIKE needs them,
the join back needs the id). Only rows not superseded (``superseded_at IS NULL``): the
search always has that predicate (``queries._in_force`` without an as-recorded instant),
and corrected rows are history nobody searches. Mirrors the ``Index`` of the same name in
``ResidentVersion.__table_args__``; tests/registry/test_search_indexes.py checks that the
search's id query is answered from it index-only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_registry_search_speed"
down_revision = "0007_registry_closed_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_resident_version_live_birth_names",
        "resident_version",
        ["birth_date"],
        unique=False,
        schema="registry",
        postgresql_include=[
            "name_kana_key",
            "alias_name_kana_key",
            "name_key",
            "alias_name_key",
            "id",
        ],
        postgresql_where=sa.text("superseded_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_resident_version_live_birth_names", table_name="resident_version", schema="registry"
    )
