"""Pure rules for staff authentication (controls.md: 利用者認証, パスワード管理)."""

from __future__ import annotations

from datetime import datetime, timedelta

MIN_PASSWORD_LENGTH = 12


def password_strong_enough(password: str) -> bool:
    """At least 12 characters with letters and digits (NISC 統一基準 and common municipal
    security policies ask for length and mixed character classes)."""
    return (
        len(password) >= MIN_PASSWORD_LENGTH
        and any(c.isascii() and c.isalpha() for c in password)
        and any(c.isdigit() for c in password)
    )


def locks_after_failure(failed_so_far: int, max_failed: int) -> bool:
    """Whether the failure being recorded now locks the account: the ``max_failed``-th
    failure in a row locks it, so the next attempt, right or wrong, is refused."""
    return failed_so_far + 1 >= max_failed


def idle_expired(last_seen_at: datetime, now: datetime, idle: timedelta) -> bool:
    return now - last_seen_at >= idle
