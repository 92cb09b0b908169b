"""Unit of work: one business action = one transaction. The domain rows, the history row,
the audit record and the outbox events commit together or not at all."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from machi.core import outbox
from machi.core.clock import Clock
from machi.core.events import DomainEvent


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self._open = False
        self._events: list[DomainEvent] = []

    @property
    def session(self) -> Session:
        if not self._open:
            raise RuntimeError("unit of work is not open: use 'with uow:'")
        return self._session

    def __enter__(self) -> Self:
        if self._open:
            raise RuntimeError("unit of work already open: pass it on, do not nest it")
        self._session = self._sessions()
        self._events = []
        self._open = True
        return self

    def emit(self, event: DomainEvent) -> None:
        """Stage an event; it reaches the outbox only if the action commits."""
        self._events.append(event)

    def commit(self) -> None:
        outbox.stage(self.session, self._events, occurred_at=self.clock.now())
        self.session.commit()
        self._events = []

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Rollback is the default: whatever was not committed explicitly is undone.
        # Objects are detached first so what a read loaded stays readable afterwards.
        try:
            self._session.expunge_all()
            self._session.rollback()
            self._session.close()
        finally:
            self._events = []
            self._open = False

    def fresh(self) -> UnitOfWork:
        """Another unit of work on the same database and clock (e.g. to audit a refusal
        in its own short transaction while the action's transaction rolls back)."""
        return UnitOfWork(self._sessions, self.clock)
