"""Japanese era dates (和暦) from 明治6年1月1日 (1873-01-01) on.

Era boundaries (first day of each era):

- 明治 — 明治元年 is 1868, but only dates from 明治6年1月1日 = 1873-01-01 are handled. Before
  that day Japan used the lunisolar 天保暦; 改暦ノ布告 (明治5年太政官布告第337号) made
  明治5年12月3日 into 明治6年1月1日. A 明治 date before 1873 names a lunisolar day, and
  converting it as if it were Gregorian would be a silent wrong answer, so both directions
  raise ``ValueError`` for it.
- 大正 1912-07-30 and 昭和 1926-12-25: the era changed on the day of accession, so that day
  belongs to the new era (大正元年7月30日, 昭和元年12月25日). The old-era spelling of the
  same day (明治45年7月30日, 大正15年12月25日) is rejected as outside its era.
- 平成 1989-01-08: 元号を改める政令 (昭和64年政令第1号), in force from the day after its
  promulgation on 昭和64年1月7日, so 昭和64年1月7日 is the last day of 昭和.
- 令和 2019-05-01: 元号を改める政令 (平成31年政令第143号) 附則, in force from the day after
  平成31年4月30日 (天皇の退位等に関する皇室典範特例法の施行の日). 元号法 (昭和54年法律第43号)
  makes the era a matter of 政令.

The first year of an era is written 元年, as in official documents.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = ["EARLIEST_DATE", "parse_wareki", "to_wareki"]

EARLIEST_DATE = date(1873, 1, 1)
"""明治6年1月1日, the first day of the Gregorian calendar in Japan."""


@dataclass(frozen=True, slots=True)
class _Era:
    name: str
    letter: str
    start: date
    first_year: int  # Gregorian year of 元年


_ERAS: tuple[_Era, ...] = (
    _Era("明治", "M", EARLIEST_DATE, 1868),
    _Era("大正", "T", date(1912, 7, 30), 1912),
    _Era("昭和", "S", date(1926, 12, 25), 1926),
    _Era("平成", "H", date(1989, 1, 8), 1989),
    _Era("令和", "R", date(2019, 5, 1), 2019),
)
_ERA_ENDS: dict[str, date | None] = {
    era.name: (nxt.start - timedelta(days=1)) if nxt else None
    for era, nxt in zip(_ERAS, (*_ERAS[1:], None), strict=True)
}
_BY_TOKEN: dict[str, _Era] = {e.name: e for e in _ERAS} | {e.letter: e for e in _ERAS}

_PRE_GREGORIAN = (
    "明治6年1月1日(1873年1月1日)より前の日付は扱えません。"
    "改暦ノ布告(明治5年太政官布告第337号)以前は太陰太陽暦のためです"
)

_ERA_TOKEN = "|".join([*(e.name for e in _ERAS), *(e.letter for e in _ERAS)])
# [0-9], not \d: \d would also take Arabic-Indic and other scripts' digits.
_KANJI_FORM = re.compile(rf"({_ERA_TOKEN})(元|[0-9]{{1,4}})年([0-9]{{1,2}})月([0-9]{{1,2}})日")
_DOTTED_FORM = re.compile(rf"({_ERA_TOKEN})(元|[0-9]{{1,4}})\.([0-9]{{1,2}})\.([0-9]{{1,2}})")


def to_wareki(d: date) -> str:
    """Format ``d`` as e.g. ``令和8年11月23日`` (``令和元年5月1日`` in the first year)."""
    # A datetime may be UTC; taking its calendar day would be a day off near midnight JST.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise ValueError(
            "日付(date)を指定してください。日時(datetime)は日本時間の日付に直してから渡してください"
        )
    if d < EARLIEST_DATE:
        raise ValueError(_PRE_GREGORIAN)
    era = next(e for e in reversed(_ERAS) if e.start <= d)
    year = d.year - era.first_year + 1
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{d.month}月{d.day}日"


def parse_wareki(s: str) -> date:
    """Read a 和暦 date.

    Accepted: ``令和元年5月1日``, ``令和 8年 1月 2日``, ``令和８年１１月２３日`` (full-width digits
    and spaces are folded), ``R1.5.1``/``r1.5.1``/``H31.4.30`` (letters M/T/S/H/R in either
    case, zero padding allowed), and either era spelling with either layout.
    Raises ``ValueError`` for anything else, for a day that does not exist, for a date
    outside the named era, and for dates before 明治6年1月1日.
    """
    if not isinstance(s, str):
        raise ValueError("和暦の日付は文字列で指定してください")
    # NFKC folds full-width digits, letters, the full stop and U+3000; whitespace anywhere
    # is dropped because forms are often filled as "令和 8年 1月 2日".
    text = "".join(unicodedata.normalize("NFKC", s).split())
    text = text[0].upper() + text[1:] if text else text
    match = _KANJI_FORM.fullmatch(text) or _DOTTED_FORM.fullmatch(text)
    if match is None:
        raise ValueError(f"和暦の日付として読めません: {s!r}(例: 令和元年5月1日、R1.5.1)")
    token, year_text, month_text, day_text = match.groups()
    era = _BY_TOKEN[token]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise ValueError(f"{era.name}0年はありません: {s!r}")
    try:
        result = date(era.first_year + era_year - 1, int(month_text), int(day_text))
    except ValueError:
        raise ValueError(f"存在しない日付です: {s!r}") from None
    if result < EARLIEST_DATE:
        raise ValueError(_PRE_GREGORIAN)
    end = _ERA_ENDS[era.name]
    if result < era.start or (end is not None and result > end):
        span = f"{to_wareki(era.start)}から" + (f"{to_wareki(end)}まで" if end else "")
        raise ValueError(f"{s!r} は{era.name}の期間({span})にありません")
    return result
