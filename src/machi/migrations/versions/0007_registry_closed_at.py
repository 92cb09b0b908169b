"""When a resident_version row was closed: ``closed_at`` beside ``valid_to``.

Revision ID: 0007_registry_closed_at
Revises: 0006_registry_variant_search

A 異動 closes the open row (sets ``valid_to``) and inserts the next. Without the instant of
that close, "what did the registry say at T" would read a row closed after T as closed,
and a backdated 異動 (a late notice) would make the old state vanish from reads as
recorded before it (docs/decisions/0009-closing-a-version.md). ``closed_at`` is that
instant; the row's valid time as recorded at T has ``valid_to`` only if ``closed_at <= T``.

The trigger makes the three mutable columns write-once: ``valid_to`` and ``closed_at`` go
from NULL to a value together, ``superseded_at`` from NULL to a value, and nothing else
ever changes (the column grants of 0005 already refuse every other column to the app).

Rows closed before this revision get the ``recorded_at`` of the row that followed them
(the same resident's next history_no), which is when the closing 異動 was recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_registry_closed_at"
down_revision = "0006_registry_variant_search"
branch_labels = None
depends_on = None

BACKFILL_SQL = """
UPDATE registry.resident_version v
SET closed_at = coalesce(
  (SELECT min(n.recorded_at) FROM registry.resident_version n
   WHERE n.resident_id = v.resident_id AND n.history_no > v.history_no
     AND n.recorded_at >= v.recorded_at),
  v.recorded_at)
WHERE v.valid_to IS NOT NULL
"""

TRIGGER_SQL = """
CREATE FUNCTION registry.resident_version_write_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.valid_to IS NOT NULL AND NEW.valid_to IS DISTINCT FROM OLD.valid_to
     OR OLD.closed_at IS NOT NULL AND NEW.closed_at IS DISTINCT FROM OLD.closed_at THEN
    RAISE EXCEPTION 'resident_version % is already closed', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.superseded_at IS NOT NULL AND NEW.superseded_at IS DISTINCT FROM OLD.superseded_at THEN
    RAISE EXCEPTION 'resident_version % is already superseded', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER resident_version_write_once BEFORE UPDATE ON registry.resident_version
  FOR EACH ROW EXECUTE FUNCTION registry.resident_version_write_once();
GRANT UPDATE (closed_at) ON registry.resident_version TO machi_app;
"""


def upgrade() -> None:
    op.add_column(
        "resident_version",
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        schema="registry",
    )
    op.execute(BACKFILL_SQL)
    op.create_check_constraint(
        op.f("ck_resident_version_closed_pair"),
        "resident_version",
        "(valid_to IS NULL) = (closed_at IS NULL) AND (closed_at IS NULL OR closed_at >= recorded_at)",
        schema="registry",
    )
    op.execute(TRIGGER_SQL)


def downgrade() -> None:
    op.execute("DROP TRIGGER resident_version_write_once ON registry.resident_version")
    op.execute("DROP FUNCTION registry.resident_version_write_once()")
    op.drop_constraint(
        op.f("ck_resident_version_closed_pair"), "resident_version", schema="registry"
    )
    op.drop_column("resident_version", "closed_at", schema="registry")
