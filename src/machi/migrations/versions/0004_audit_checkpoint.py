"""Signed checkpoints of the audit log: privacy.audit_checkpoint, append-only.
Mirrors AuditCheckpoint in src/machi/privacy/models.py (docs/audit.md).

Revision ID: 0004_audit_checkpoint
Revises: 0003_vault
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_checkpoint"
down_revision = "0003_vault"
branch_labels = None
depends_on = None

# Same guard as the audit log: a checkpoint that could be edited or removed would prove
# nothing. The app role gets INSERT and SELECT only; the trigger also stops the owner.
GUARD_SQL = r"""
CREATE FUNCTION privacy.audit_checkpoint_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'privacy.audit_checkpoint is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE OR DELETE ON privacy.audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION privacy.audit_checkpoint_refuse();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON privacy.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION privacy.audit_checkpoint_refuse();

GRANT SELECT, INSERT ON privacy.audit_checkpoint TO machi_app;
GRANT USAGE ON SEQUENCE privacy.audit_checkpoint_id_seq TO machi_app;
"""


def upgrade() -> None:
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_audit_id", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        # An empty log has no head (0, ''); otherwise a SHA-256. Ed25519 signatures are 64 bytes.
        sa.CheckConstraint(
            "last_audit_id >= 0 AND rows >= 0 AND octet_length(head_hash) IN (0, 32)",
            name=op.f("ck_audit_checkpoint_head"),
        ),
        sa.CheckConstraint(
            "octet_length(signature) = 64", name=op.f("ck_audit_checkpoint_signature")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        schema="privacy",
    )
    op.create_index(
        "ix_audit_checkpoint_last_audit_id",
        "audit_checkpoint",
        ["last_audit_id"],
        schema="privacy",
    )
    op.execute(GUARD_SQL)


def downgrade() -> None:
    raise NotImplementedError("audit checkpoints are evidence and are never dropped")
