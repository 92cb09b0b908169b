"""The business clock. No code calls ``date.today()`` or ``datetime.now()`` directly:
services take the clock from their unit of work so tests and batch runs can fix the date."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Protocol

JST = timezone(timedelta(hours=9), "JST")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (JST)."""
        ...

    def business_date(self) -> date:
        """The date business rules run on (the municipality's calendar day in JST)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(JST)

    def business_date(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that stands still until told to move; for tests, batch re-runs and demos."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def business_date(self) -> date:
        return self._at.astimezone(JST).date()

    def advance(self, delta: timedelta) -> None:
        self._at += delta
