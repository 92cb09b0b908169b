"""Tables of schema ``privacy``: staff users, their roles per affair, login sessions and
the append-only, hash-chained audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    FetchedValue,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from machi.core.db import Base


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = {"schema": "privacy"}

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    login_name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)
    # Base32 TOTP secret sealed with the local key (privacy.secrets), never stored plain.
    totp_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Role(Base):
    __tablename__ = "role"
    __table_args__ = {"schema": "privacy"}

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(100))


class RolePermission(Base):
    __tablename__ = "role_permission"
    __table_args__ = {"schema": "privacy"}

    role_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("privacy.role.code"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(100), primary_key=True)


class UserRole(Base):
    """A role granted to a user for one affair (事務): the same person may be counter staff
    for 住基 and have no right at all in 国保."""

    __tablename__ = "user_role"
    __table_args__ = {"schema": "privacy"}

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("privacy.staff_user.id"), primary_key=True
    )
    role_code: Mapped[str] = mapped_column(
        String(64), ForeignKey("privacy.role.code"), primary_key=True
    )
    affair: Mapped[str] = mapped_column(String(32), primary_key=True)


class LoginSession(Base):
    """A browser session. Only a hash of the cookie token is stored, so a copy of this
    table does not let anyone log in."""

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_user_id", "user_id"), {"schema": "privacy"})

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("privacy.staff_user.id"))
    # 'password' → waiting for the second factor; 'active'; 'locked' (idle lock screen).
    stage: Mapped[str] = mapped_column(String(16))
    # The affair (事務) the user works in during this session; chosen among their grants.
    affair: Mapped[str | None] = mapped_column(String(32))
    terminal: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only. The app role may INSERT and SELECT only, a trigger refuses UPDATE,
    DELETE and TRUNCATE for everyone, and a BEFORE INSERT trigger chains each row to the
    previous one (prev_hash, row_hash) so an edit by a superuser is detectable.

    Rows hold ids, codes and field names, never personal values."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_user_id", "actor_user_id", "at"),
        {"schema": "privacy"},
    )

    # Assigned by the chain trigger under its lock, so id order is commit order.
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, server_default=FetchedValue()
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    terminal: Mapped[str] = mapped_column(String(64))
    affair: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    subject_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary)


class IndividualNumber(Base):
    """The My Number vault (machi.privacy.vault is the only code that touches it). The
    個人番号 is stored only sealed with AES-256-GCM under the key named in ``key_id``,
    bound to ``subject_id``; ``blind_index`` is an HMAC-SHA256 for exact lookup.

    A number change (番号法 第7条第2項) supersedes the row: ``superseded_at`` is set and a
    new row is inserted; rows are never deleted (the app role has no DELETE). At most one
    current row per subject and per number, enforced by partial unique indexes."""

    __tablename__ = "individual_number"
    __table_args__ = (
        Index(
            "uq_individual_number_current_blind_index",
            "blind_index",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index(
            "uq_individual_number_current_subject_id",
            "subject_id",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
        # Rotation scans for rows not yet on the current key.
        Index("ix_individual_number_key_id", "key_id"),
        {"schema": "privacy"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Whose number: a resident or addressee id owned by another context (no foreign key,
    # so the vault does not depend on their tables).
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))
    blind_index: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditCheckpoint(Base):
    """A signed statement "the audit log up to ``last_audit_id`` holds ``rows`` rows and its
    chain ends in ``head_hash``" (Ed25519, key named by ``key_id``; machi.privacy.checkpoints).
    The chain alone cannot show a rewrite that recomputes every later hash, nor rows cut
    off the end; a checkpoint signed before either does. Append-only like the audit log."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (
        # Verification walks checkpoints in log order.
        Index("ix_audit_checkpoint_last_audit_id", "last_audit_id"),
        {"schema": "privacy"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_audit_id: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary)
    rows: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
