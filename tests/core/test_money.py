"""Money is whole yen. Rounding down to a unit follows 地方税法 第20条の4の2: 課税標準 below
1,000 yen is cut (第1項), a tax amount below 100 yen is cut (第3項)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.core.money import floor_to, format_yen, yen


def test_examples_from_the_fraction_rules() -> None:
    # 課税標準額 1,234,567円 → 1,234,000円 (千円未満切捨て, 第20条の4の2 第1項)
    assert floor_to(yen(1_234_567), 1_000) == 1_234_000
    # 税額 98,765円 → 98,700円 (百円未満切捨て, 第20条の4の2 第3項)
    assert floor_to(yen(98_765), 100) == 98_700
    assert floor_to(yen(99), 100) == 0
    assert format_yen(yen(1_234_000)) == "1,234,000円"


@pytest.mark.parametrize("bad", [1.5, "100", True, None])
def test_only_integers_are_money(bad: object) -> None:
    with pytest.raises(ValueError):
        yen(bad)  # type: ignore[arg-type]


def test_bad_units_and_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError):
        floor_to(yen(100), 0)
    with pytest.raises(ValueError):
        floor_to(yen(-100), 100)


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([1, 10, 100, 1000]))
def test_floor_is_a_multiple_not_above_and_within_one_unit(amount: int, unit: int) -> None:
    cut = floor_to(yen(amount), unit)
    assert cut % unit == 0 and cut <= amount < cut + unit
