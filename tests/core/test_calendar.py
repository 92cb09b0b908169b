"""開庁日.

Holiday dates are those of 内閣府「国民の祝日について」
(https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html) and its list of past and coming
holidays (syukujitsu.csv on the same site). They pin the behaviour of the ``holidays`` package
(holidays==0.109 in constraints.txt), so an upgrade that changes a date fails here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.core.calendar import (
    EARLIEST_DATE,
    LATEST_DATE,
    age_on,
    is_business_day,
    next_business_day,
)

supported_dates = st.dates(min_value=EARLIEST_DATE, max_value=date(2099, 12, 24))


@pytest.mark.parametrize(
    ("d", "why"),
    [
        (date(2025, 11, 24), "振替休日: 勤労感謝の日 2025-11-23 is a Sunday (祝日法 第3条第2項)"),
        (date(2026, 9, 22), "国民の休日: between 敬老の日 9/21 and 秋分の日 9/23 (第3条第3項)"),
        (date(2019, 4, 30), "国民の休日 between 昭和の日 and 即位の日"),
        (date(2019, 5, 1), "即位の日 (平成30年法律第99号)"),
        (date(2019, 5, 2), "国民の休日 between 即位の日 and 憲法記念日"),
        (date(2019, 5, 6), "振替休日 for こどもの日 2019-05-05 (Sunday)"),
        (date(2019, 10, 22), "即位礼正殿の儀の行われる日 (平成30年法律第99号)"),
        (date(2020, 7, 23), "海の日 2020, moved by オリパラ特措法"),
        (date(2020, 7, 24), "スポーツの日 2020, moved by オリパラ特措法"),
        (date(2020, 8, 10), "山の日 2020, moved by オリパラ特措法"),
        (date(2021, 7, 22), "海の日 2021 (オリパラ特措法 第32条第2項)"),
        (date(2021, 7, 23), "スポーツの日 2021"),
        (date(2021, 8, 9), "振替休日 for 山の日 2021-08-08 (Sunday)"),
        (date(2026, 1, 12), "成人の日 (1月の第2月曜日)"),
        (date(2026, 2, 23), "天皇誕生日"),
        (date(2026, 3, 20), "春分の日 2026 (暦要項)"),
        (date(2026, 5, 6), "振替休日 for 憲法記念日 2026-05-03 (Sunday)"),
    ],
)
def test_national_holidays_are_closed(d: date, why: str) -> None:
    assert d.weekday() < 5, "the example must be a weekday to test the holiday rule"
    assert not is_business_day(d), why


@pytest.mark.parametrize(
    ("d", "why"),
    [
        (
            date(2020, 10, 12),
            "2020: スポーツの日 was moved to 7/24, so the 2nd Monday of October is open",
        ),
        (date(2021, 7, 19), "2021: 海の日 moved to 7/22, so the 3rd Monday of July is open"),
        (date(2021, 8, 11), "2021: 山の日 moved to 8/8"),
        (date(2021, 10, 11), "2021: スポーツの日 moved to 7/23"),
        (date(2019, 12, 23), "上皇 birthday is no longer 天皇誕生日 from 2019"),
        (date(2025, 11, 25), "plain Tuesday"),
        (date(2026, 1, 5), "first weekday after the closure"),
        (date(2026, 12, 28), "last day before the closure"),
    ],
)
def test_open_days(d: date, why: str) -> None:
    assert is_business_day(d), why


@pytest.mark.parametrize("year", [1993, 2019, 2025, 2026, 2030, 2099])
def test_year_end_closure(year: int) -> None:
    # 行政機関の休日に関する法律 第1条第1項第3号 / the usual 休日条例: 12/29 to 1/3.
    for day in (29, 30, 31):
        assert not is_business_day(date(year, 12, day))
    for day in (1, 2, 3):
        assert not is_business_day(date(year, 1, day))


def test_weekends_closed() -> None:
    assert not is_business_day(date(2026, 11, 21))  # Saturday
    assert not is_business_day(date(2026, 11, 22))  # Sunday


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 11, 25), date(2025, 11, 25)),  # already open
        (date(2025, 11, 22), date(2025, 11, 25)),  # Sat → Sun → 振替休日 Mon → Tue
        (date(2019, 4, 27), date(2019, 5, 7)),  # 2019 Golden Week: ten days closed
        (date(2025, 12, 27), date(2026, 1, 5)),  # Sat, closure 12/29–1/3, Sun 1/4
        (date(2026, 12, 29), date(2027, 1, 4)),  # closure, then Mon 1/4
        (date(2026, 9, 19), date(2026, 9, 24)),  # Sat, Sun, 敬老の日, 国民の休日, 秋分の日
        (date(2021, 7, 22), date(2021, 7, 26)),  # 海の日, スポーツの日, weekend
    ],
)
def test_next_business_day(d: date, expected: date) -> None:
    assert next_business_day(d) == expected


@pytest.mark.parametrize(
    "d", [date(1992, 4, 30), date(1949, 1, 1), date(2100, 1, 4), date(1, 1, 1), date(9999, 12, 31)]
)
def test_out_of_range_raises(d: date) -> None:
    with pytest.raises(ValueError, match="開庁日"):
        is_business_day(d)
    with pytest.raises(ValueError, match="開庁日"):
        next_business_day(d)


def test_range_ends() -> None:
    assert is_business_day(EARLIEST_DATE)  # 1992-05-01, a Friday
    assert not is_business_day(LATEST_DATE)  # 12/31
    with pytest.raises(ValueError, match="2099-12-31より後"):
        next_business_day(date(2099, 12, 29))


def test_datetime_rejected() -> None:
    # datetime(2025, 11, 24) would not match the holiday date 2025-11-24.
    with pytest.raises(ValueError, match="datetime"):
        is_business_day(datetime(2025, 11, 24))
    with pytest.raises(ValueError, match="datetime"):
        next_business_day(datetime(2025, 11, 24))


@given(supported_dates)
def test_next_business_day_properties(d: date) -> None:
    result = next_business_day(d)
    assert result >= d
    assert is_business_day(result)
    day = d
    while day < result:
        assert not is_business_day(day)
        day += timedelta(days=1)
    # Never more than the 2019 Golden Week (10 days) away.
    assert (result - d).days <= 10


@given(supported_dates)
def test_business_day_is_weekday_outside_closure(d: date) -> None:
    if is_business_day(d):
        assert d.weekday() < 5
        assert (d.month, d.day) not in {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        # The new age holds from the birthday (the year ends with the day before).
        (date(2000, 4, 2), date(2001, 4, 1), 0),
        (date(2000, 4, 2), date(2001, 4, 2), 1),
        # 早生まれ: born 1 April, a year older on 1 April.
        (date(2019, 4, 1), date(2026, 3, 31), 6),
        (date(2019, 4, 1), date(2026, 4, 1), 7),
        # 29 February: in a common year the year ends with 28 February (民法第143条第2項
        # ただし書), so the new age holds from 1 March.
        (date(2000, 2, 29), date(2001, 2, 28), 0),
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
        (date(1926, 12, 25), date(2026, 12, 24), 99),
        (date(1926, 12, 25), date(2026, 12, 25), 100),
    ],
)
def test_age_on_worked_examples(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(0, 120))
def test_age_increases_by_one_each_birthday(birth: date, years: int) -> None:
    try:
        anniversary = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year: the new age holds from 1 March
        anniversary = date(birth.year + years, 3, 1)
    if anniversary.year > 9998:
        return
    assert age_on(birth, anniversary) == years
    if years:
        assert age_on(birth, anniversary - timedelta(days=1)) == years - 1
