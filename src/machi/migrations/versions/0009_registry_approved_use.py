"""Approvals that a request consumes: ``used_at`` / ``used_by`` on pending_approval.

Revision ID: 0009_registry_approved_use
Revises: 0008_registry_search_speed

REG-CTRL-10 (a request by a public agency or a third party runs only on a recorded legal
basis and approval) and REG-CTRL-36 (a bulk export needs prior approval by the 管理責任者)
reuse the four-eyes table of the 職権 drafts: the request is a ``pending_approval`` row
whose ``action`` names what it allows (rules.ApprovedUse), a second person approves it, and
the run that relies on it sets ``used_at`` in its own transaction: one approval, one run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_registry_approved_use"
down_revision = "0008_registry_search_speed"
branch_labels = None
depends_on = None

USED_ONCE_SQL = """
CREATE FUNCTION registry.pending_approval_used_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.used_at IS NOT NULL AND (NEW.used_at IS DISTINCT FROM OLD.used_at
     OR NEW.used_by IS DISTINCT FROM OLD.used_by) THEN
    RAISE EXCEPTION 'approval % is already used', OLD.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER pending_approval_used_once BEFORE UPDATE ON registry.pending_approval
  FOR EACH ROW EXECUTE FUNCTION registry.pending_approval_used_once();
"""


def upgrade() -> None:
    op.add_column(
        "pending_approval",
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        schema="registry",
    )
    op.add_column(
        "pending_approval",
        sa.Column("used_by", sa.UUID(), nullable=True),
        schema="registry",
    )
    op.create_check_constraint(
        op.f("ck_pending_approval_used_when_approved"),
        "pending_approval",
        "used_at IS NULL OR status = 'approved'",
        schema="registry",
    )
    op.execute(USED_ONCE_SQL)


def downgrade() -> None:
    op.execute("DROP TRIGGER pending_approval_used_once ON registry.pending_approval")
    op.execute("DROP FUNCTION registry.pending_approval_used_once()")
    op.drop_constraint(
        op.f("ck_pending_approval_used_when_approved"), "pending_approval", schema="registry"
    )
    op.drop_column("pending_approval", "used_by", schema="registry")
    op.drop_column("pending_approval", "used_at", schema="registry")
