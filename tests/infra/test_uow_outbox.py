"""Unit of work and transactional outbox (design.md: cross-cutting mechanisms)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

import pytest
from sqlalchemy import func, select

from machi.core import outbox
from machi.core.events import DomainEvent, from_payload
from machi.core.models import Delivery, InboxEntry, OutboxEvent
from machi.core.uow import UnitOfWork


@dataclass(frozen=True, kw_only=True)
class SampleHappened(DomainEvent):
    name: ClassVar[str] = "test.sample_happened"
    version: ClassVar[int] = 1
    subject_id: uuid.UUID


@dataclass(frozen=True, kw_only=True)
class FlakyHappened(DomainEvent):
    name: ClassVar[str] = "test.flaky_happened"
    version: ClassVar[int] = 1
    subject_id: uuid.UUID


SEEN: list[uuid.UUID] = []
FLAKY_FAILURES_LEFT: list[int] = [0]


@outbox.subscribe(SampleHappened, consumer="test.sample_recorder")
def record_sample(uow: UnitOfWork, event: SampleHappened) -> None:
    with uow:
        if outbox.already_handled(uow.session, "test.sample_recorder", event):
            return
        SEEN.append(event.subject_id)
        outbox.mark_handled(uow.session, "test.sample_recorder", event, uow.clock.now())
        uow.commit()


@outbox.subscribe(FlakyHappened, consumer="test.flaky")
def flaky(uow: UnitOfWork, event: FlakyHappened) -> None:
    if FLAKY_FAILURES_LEFT[0] > 0:
        FLAKY_FAILURES_LEFT[0] -= 1
        raise RuntimeError("subscriber down")
    with uow:
        outbox.mark_handled(uow.session, "test.flaky", event, uow.clock.now())
        uow.commit()


def _count(uow: UnitOfWork, model: type) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_nothing_persists_without_commit(uow: UnitOfWork) -> None:
    with uow:
        uow.emit(SampleHappened(subject_id=uuid.uuid4()))
    assert _count(uow, OutboxEvent) == 0


def test_error_rolls_back_the_events(uow: UnitOfWork) -> None:
    with pytest.raises(ZeroDivisionError), uow:
        uow.emit(SampleHappened(subject_id=uuid.uuid4()))
        uow.session.flush()
        _ = 1 / 0
    assert _count(uow, OutboxEvent) == 0


def test_commit_stages_events_in_the_same_transaction(uow: UnitOfWork) -> None:
    sid = uuid.uuid4()
    with uow:
        uow.emit(SampleHappened(subject_id=sid))
        uow.commit()
    with uow:
        row = uow.session.scalars(select(OutboxEvent)).one()
        assert row.name == "test.sample_happened" and row.version == 1
        assert from_payload(row.name, row.version, row.event_id, row.payload) == SampleHappened(
            event_id=row.event_id, subject_id=sid
        )


def test_units_of_work_do_not_nest(uow: UnitOfWork) -> None:
    with uow, pytest.raises(RuntimeError, match="nest"):
        uow.__enter__()


def test_relay_delivers_once_and_redelivery_changes_nothing(uow: UnitOfWork) -> None:
    SEEN.clear()
    sid = uuid.uuid4()
    with uow:
        uow.emit(SampleHappened(subject_id=sid))
        uow.commit()
    report = outbox.relay(uow.fresh())
    assert report.delivered == 1 and report.failed == 0
    assert [sid] == SEEN
    assert outbox.relay(uow.fresh()).delivered == 0  # dispatched: not offered again
    # At-least-once: simulate a redelivery of the same event; the inbox absorbs it.
    with uow:
        row = uow.session.scalars(select(OutboxEvent)).one()
        event = from_payload(row.name, row.version, row.event_id, row.payload)
    record_sample(uow.fresh(), event)
    assert [sid] == SEEN
    assert _count(uow, InboxEntry) == 1


def test_failed_delivery_is_a_row_and_is_retried_later(uow: UnitOfWork, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    FLAKY_FAILURES_LEFT[0] = 1
    with uow:
        uow.emit(FlakyHappened(subject_id=uuid.uuid4()))
        uow.commit()
    first = outbox.relay(uow.fresh())
    assert (first.delivered, first.failed) == (0, 1)
    with uow:
        d = uow.session.scalars(select(Delivery)).one()
        assert d.attempts == 1 and d.last_error == "RuntimeError" and d.delivered_at is None
    assert outbox.relay(uow.fresh()).delivered == 0  # not due yet: backoff
    clock.advance(timedelta(minutes=5))
    assert outbox.relay(uow.fresh()).delivered == 1
    with uow:
        d = uow.session.scalars(select(Delivery)).one()
        assert d.attempts == 2 and d.delivered_at is not None


def test_relay_thread_delivers_committed_events(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    """The loop `machi serve` runs: a committed event reaches its subscriber on its own."""
    import time

    from machi.core.clock import SystemClock
    from machi.core.db import make_sessions

    SEEN.clear()
    make_uow = lambda: UnitOfWork(make_sessions(migrated_engine), SystemClock())  # noqa: E731
    sid = uuid.uuid4()
    with make_uow() as uow:
        uow.emit(SampleHappened(subject_id=sid))
        uow.commit()
    stop = outbox.start_relay_thread(make_uow)
    try:
        deadline = time.monotonic() + 10
        while [sid] != SEEN and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert [sid] == SEEN
