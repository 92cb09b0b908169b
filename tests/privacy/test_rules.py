"""Pure authentication rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from machi.core.clock import JST
from machi.privacy import rules


def test_password_rule_examples() -> None:
    assert rules.password_strong_enough("abcdefghijk1")
    assert not rules.password_strong_enough("abcdefghij1")  # 11 characters
    assert not rules.password_strong_enough("abcdefghijkl")  # no digit
    assert not rules.password_strong_enough("123456789012")  # no letter


@given(st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=20))
def test_lock_happens_exactly_at_the_max_th_failure(failed_so_far: int, max_failed: int) -> None:
    assert rules.locks_after_failure(failed_so_far, max_failed) == (failed_so_far + 1 >= max_failed)


@given(st.integers(min_value=0, max_value=7200))
def test_idle_boundary(seconds: int) -> None:
    t0 = datetime(2026, 11, 30, 9, 0, tzinfo=JST)
    assert rules.idle_expired(t0, t0 + timedelta(seconds=seconds), timedelta(minutes=10)) == (
        seconds >= 600
    )
