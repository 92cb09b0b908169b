"""Core and privacy schemas: outbox, staff users, roles, sessions, audit log.

Revision ID: 0001_core_privacy
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

revision = "0001_core_privacy"
down_revision = None
branch_labels = None
depends_on = None

# The chain is computed in the database so that no client, however written, can append
# a row without linking it. The advisory lock makes id order equal commit order, so the
# chain has no forks; the canonical text is shared with `machi audit verify`.
AUDIT_SQL = r"""
CREATE SEQUENCE privacy.audit_log_id_seq;

CREATE FUNCTION privacy.audit_canonical(r privacy.audit_log) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT concat_ws(chr(31),
    r.id::text,
    to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce(r.actor_user_id::text, ''),
    r.terminal, coalesce(r.affair, ''), coalesce(r.purpose, ''), r.action,
    array_to_string(r.subject_ids, ','), r.outcome, r.detail::text)
$$;

CREATE FUNCTION privacy.audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE prev bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('privacy.audit_log'));
  NEW.id := nextval('privacy.audit_log_id_seq');
  SELECT row_hash INTO prev FROM privacy.audit_log ORDER BY id DESC LIMIT 1;
  NEW.prev_hash := coalesce(prev, '\x'::bytea);
  NEW.row_hash := sha256(NEW.prev_hash || convert_to(privacy.audit_canonical(NEW), 'UTF8'));
  RETURN NEW;
END $$;

CREATE FUNCTION privacy.audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'privacy.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON privacy.audit_log
  FOR EACH ROW EXECUTE FUNCTION privacy.audit_log_chain();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON privacy.audit_log
  FOR EACH ROW EXECUTE FUNCTION privacy.audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON privacy.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION privacy.audit_log_refuse();
"""

GRANTS_SQL = """
GRANT USAGE ON SCHEMA core, privacy, synth TO machi_app;
GRANT SELECT ON core.alembic_version TO machi_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON core.outbox, core.delivery, core.inbox TO machi_app;
GRANT SELECT, INSERT, UPDATE ON privacy.staff_user, privacy.login_session, privacy.role
  TO machi_app;
GRANT SELECT, INSERT, DELETE ON privacy.user_role, privacy.role_permission TO machi_app;
GRANT SELECT, INSERT ON privacy.audit_log TO machi_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA core, privacy TO machi_app;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for schema in ("core", "privacy", "synth"):
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    op.create_table(
        "delivery",
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("outbox_id", "consumer", name=op.f("pk_delivery")),
        schema="core",
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        schema="core",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema="core",
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.UUID(), nullable=True),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("affair", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject_ids", postgresql.ARRAY(Text()), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=True),
        sa.Column("row_hash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema="privacy",
    )
    op.create_table(
        "role",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_ja", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_role")),
        schema="privacy",
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("login_name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("login_name", name=op.f("uq_staff_user_login_name")),
        schema="privacy",
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("affair", sa.String(length=32), nullable=True),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["privacy.staff_user.id"], name=op.f("fk_login_session_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
        schema="privacy",
    )
    op.create_table(
        "role_permission",
        sa.Column("role_code", sa.String(length=64), nullable=False),
        sa.Column("permission", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_code"], ["privacy.role.code"], name=op.f("fk_role_permission_role_code_role")
        ),
        sa.PrimaryKeyConstraint("role_code", "permission", name=op.f("pk_role_permission")),
        schema="privacy",
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role_code", sa.String(length=64), nullable=False),
        sa.Column("affair", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_code"], ["privacy.role.code"], name=op.f("fk_user_role_role_code_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["privacy.staff_user.id"], name=op.f("fk_user_role_user_id_staff_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "role_code", "affair", name=op.f("pk_user_role")),
        schema="privacy",
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        schema="core",
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema="privacy")
    op.create_index(
        "ix_audit_log_actor_user_id", "audit_log", ["actor_user_id", "at"], schema="privacy"
    )
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"], schema="privacy")
    op.execute(AUDIT_SQL)
    op.execute(GRANTS_SQL)


def downgrade() -> None:
    raise NotImplementedError("the audit log is never dropped by a migration")
