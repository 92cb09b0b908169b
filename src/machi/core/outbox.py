"""The transactional outbox (庁内連携): events are written in the action's transaction
and relayed afterwards, at least once, to idempotent subscribers.

A subscriber is registered with :func:`subscribe`; it receives its own unit of work and
must use :func:`already_handled` / :func:`mark_handled` so a redelivery changes nothing.
The relay claims rows with ``FOR UPDATE SKIP LOCKED`` so several relays can run at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from machi.core.events import DomainEvent, from_payload
from machi.core.models import Delivery, InboxEntry, OutboxEvent

if TYPE_CHECKING:
    from machi.core.uow import UnitOfWork

log = logging.getLogger("machi.outbox")
E = TypeVar("E", bound=DomainEvent)
Handler = Callable[["UnitOfWork", Any], None]


@dataclass(frozen=True)
class Subscription:
    event_name: str
    consumer: str
    handler: Handler


_SUBSCRIPTIONS: dict[str, dict[str, Subscription]] = {}


def subscribe(event: type[E], *, consumer: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``event`` under a stable consumer name (it keys the inbox)."""

    def register(handler: Handler) -> Handler:
        by_consumer = _SUBSCRIPTIONS.setdefault(event.name, {})
        known = by_consumer.get(consumer)
        if known is not None and known.handler is not handler:
            raise ValueError(f"consumer {consumer} already subscribed to {event.name}")
        by_consumer[consumer] = Subscription(event.name, consumer, handler)
        return handler

    return register


def subscriptions(event_name: str) -> list[Subscription]:
    return list(_SUBSCRIPTIONS.get(event_name, {}).values())


def stage(session: Session, events: Sequence[DomainEvent], *, occurred_at: datetime) -> None:
    for event in events:
        session.add(
            OutboxEvent(
                event_id=event.event_id,
                name=event.name,
                version=event.version,
                payload=event.to_payload(),
                occurred_at=occurred_at,
            )
        )


def already_handled(session: Session, consumer: str, event: DomainEvent) -> bool:
    return session.get(InboxEntry, (consumer, event.event_id)) is not None


def mark_handled(session: Session, consumer: str, event: DomainEvent, at: datetime) -> None:
    session.add(InboxEntry(consumer=consumer, event_id=event.event_id, handled_at=at))


@dataclass(frozen=True)
class RelayReport:
    delivered: int
    failed: int


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 2 ** min(attempts, 12)))


def relay(uow: UnitOfWork, *, batch: int = 100) -> RelayReport:
    """Deliver due events to their subscribers once. Returns what was done; call again
    (the ``machi`` CLI and the web server run it in a loop) until nothing is left."""
    delivered = failed = 0
    with uow:
        session = uow.session
        now = uow.clock.now()
        rows = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            pending = False
            for sub in subscriptions(row.name):
                state = session.get(Delivery, (row.id, sub.consumer))
                if state is not None and state.delivered_at is not None:
                    continue
                if state is not None and state.next_attempt_at and state.next_attempt_at > now:
                    pending = True
                    continue
                event = from_payload(row.name, row.version, row.event_id, row.payload)
                error: str | None = None
                try:
                    sub.handler(uow.fresh(), event)
                except Exception as exc:
                    # The type only: an exception text may carry personal data.
                    error = type(exc).__name__
                attempts = (state.attempts if state else 0) + 1
                session.execute(
                    insert(Delivery)
                    .values(
                        outbox_id=row.id,
                        consumer=sub.consumer,
                        attempts=attempts,
                        last_error=error,
                        next_attempt_at=now + _backoff(attempts) if error else None,
                        delivered_at=None if error else now,
                    )
                    .on_conflict_do_update(
                        index_elements=["outbox_id", "consumer"],
                        set_={
                            "attempts": attempts,
                            "last_error": error,
                            "next_attempt_at": now + _backoff(attempts) if error else None,
                            "delivered_at": None if error else now,
                        },
                    )
                )
                if error:
                    failed += 1
                    pending = True
                else:
                    delivered += 1
            if not pending:
                row.dispatched_at = now
        uow.commit()
    return RelayReport(delivered, failed)


def relay_forever(
    make_uow: Callable[[], UnitOfWork], stop: threading.Event, *, idle_seconds: float = 1.0
) -> None:
    """Relay until ``stop`` is set: drain while there is work, then wait ``idle_seconds``.
    A failing database is waited out, never allowed to end the loop silently."""
    while not stop.is_set():
        try:
            report = relay(make_uow())
        except Exception:
            log.warning("outbox relay failed; retrying")
            stop.wait(idle_seconds * 5)
            continue
        if report.delivered == 0 and report.failed == 0:
            stop.wait(idle_seconds)


def start_relay_thread(make_uow: Callable[[], UnitOfWork]) -> threading.Event:
    """Run :func:`relay_forever` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(
        target=relay_forever, args=(make_uow, stop), name="outbox-relay", daemon=True
    ).start()
    return stop
