"""Business days of the municipal office (開庁日).

A day is not a business day when it is

- a Saturday or Sunday (地方自治法 第4条の2 第2項第1号);
- a 休日 under 国民の祝日に関する法律: a 国民の祝日, a 振替休日 (第3条第2項) or a
  国民の休日 (第3条第3項), plus days made holidays by special acts (2019-05-01 即位の日 and
  2019-10-22 即位礼正殿の儀 under 平成30年法律第99号; the 2020/2021 moves of 海の日,
  スポーツの日 and 山の日 under the 東京オリンピック・パラリンピック特別措置法)
  (地方自治法 第4条の2 第2項第2号);
- 12月29日 to 1月3日. 地方自治法 第4条の2 第2項第3号 leaves the year-end days to each
  municipality's 休日条例; 12/29–1/3 is the period of 行政機関の休日に関する法律 第1条第1項
  第3号, which most 条例 adopt (a municipality whose 条例 differs needs its own rule).

Deadlines that fall on such a day move to the next business day: 地方自治法 第4条の2 第4項
for applications to the municipality, and for local taxes 地方税法 第20条の5 第2項 (休日 of
民法第142条, Saturdays and 12月29日–31日; 1月2日・3日 count as 一般の休日).

Holidays come from the ``holidays`` package (``country_holidays("JP")``), whose calendar
covers 1949–2099. 春分の日 and 秋分の日 are fixed only each February for the next year (官報
「暦要項」, 国立天文台); for later years the package's astronomical computation is a forecast.

Supported dates are 1992-05-01 to 2099-12-31; others raise ``ValueError``. Before 1992-05-01
Saturdays were working days for many offices (full 土曜閉庁 for national agencies began on
平成4年5月1日 under 平成4年法律第28号), so today's rule would give wrong answers there.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import holidays

__all__ = ["EARLIEST_DATE", "LATEST_DATE", "age_on", "is_business_day", "next_business_day"]

EARLIEST_DATE = date(1992, 5, 1)
LATEST_DATE = date(2099, 12, 31)

_ONE_DAY = timedelta(days=1)


@cache
def _national_holidays() -> frozenset[date]:
    # Built once, then a plain set: the package's lazily filled dict is mutated on lookup,
    # which a shared module-level object in a threaded server should not be.
    years = range(EARLIEST_DATE.year, LATEST_DATE.year + 1)
    return frozenset(holidays.country_holidays("JP", years=years).keys())


def _check(d: date) -> None:
    # A datetime is a date, but datetime(2025, 1, 1) != date(2025, 1, 1), so a datetime
    # would silently miss every holiday.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise ValueError("日付(date)を指定してください。日時(datetime)は受け付けません")
    if not EARLIEST_DATE <= d <= LATEST_DATE:
        raise ValueError(
            f"開庁日は{EARLIEST_DATE.isoformat()}から{LATEST_DATE.isoformat()}までの日付で判定できます"
            f"(指定: {d.isoformat()})"
        )


def _is_year_end_closure(d: date) -> bool:
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def is_business_day(d: date) -> bool:
    """True if the office is open on ``d``; see the module docstring for the rules."""
    _check(d)
    return d.weekday() < 5 and not _is_year_end_closure(d) and d not in _national_holidays()


def next_business_day(d: date) -> date:
    """``d`` itself if it is a business day, else the first business day after it."""
    _check(d)
    current = d
    while not is_business_day(current):
        if current == LATEST_DATE:
            raise ValueError(f"{LATEST_DATE.isoformat()}より後の開庁日は判定できません")
        current += _ONE_DAY
    return current


def age_on(birth: date, on: date) -> int:
    """Age in completed years during the day ``on`` (年齢計算ニ関スル法律 with 民法第143条:
    a year of age is completed at the end of the day before the birthday, so the new age
    holds from the birthday itself). Someone born on 29 February completes the year at the
    end of 28 February (第143条第2項ただし書) and so is the new age from 1 March in common
    years. PostgreSQL's ``age(on, birth)`` counts the same way (registry statistics use it)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
