"""Money is a whole number of yen (``int``). Public charges are assessed and collected in
yen; fractions are cut by the rules of 国税通則法 第118条/第119条 and 地方税法 第20条の4の2,
which the collection context applies where the amount arises."""

from __future__ import annotations

from typing import NewType

Yen = NewType("Yen", int)


def yen(amount: int) -> Yen:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError("金額は円単位の整数で指定してください")
    return Yen(amount)


def floor_to(amount: Yen, unit: int) -> Yen:
    """Cut ``amount`` down to a multiple of ``unit`` (e.g. 100 for 課税標準 under
    地方税法 第20条の4の2 第1項, 1,000 for 地方税法 第20条の4の2 第3項)."""
    if unit <= 0:
        raise ValueError("端数処理の単位は正の整数です")
    if amount < 0:
        raise ValueError("端数処理は負の金額に適用できません")
    return Yen(amount - amount % unit)


def format_yen(amount: Yen) -> str:
    return f"{amount:,}円"
