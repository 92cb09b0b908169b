"""Tables of the shared kernel (schema ``core``): the transactional outbox that carries
庁内連携 events between contexts, their deliveries, and the inbox that makes subscribers
idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from machi.core.db import Base


class OutboxEvent(Base):
    """An event staged in the same transaction as the action that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay only ever looks for rows not yet dispatched.
        Index("ix_outbox_pending", "id", postgresql_where=text("dispatched_at IS NULL")),
        {"schema": "core"},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Set once every subscriber known to the relay has the event.
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One (event, consumer) pair: attempts, the last error and when to retry are rows,
    so a failed delivery is visible and retried instead of lost in a log line."""

    __tablename__ = "delivery"
    __table_args__ = {"schema": "core"}

    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxEntry(Base):
    """A subscriber writes this in its own transaction; a second delivery finds it and
    does nothing (at-least-once delivery, exactly-once effect)."""

    __tablename__ = "inbox"
    __table_args__ = {"schema": "core"}

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
