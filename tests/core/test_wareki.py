"""和暦 conversion.

Sources for the boundaries:
- 元号法 (昭和54年法律第43号): the era is fixed by 政令 and changes only on accession.
- 元号を改める政令 (昭和64年政令第1号): 平成, in force from the day after promulgation on
  昭和64年1月7日 → 昭和64年1月7日 is the last day of 昭和, 平成元年1月8日 the first of 平成.
- 元号を改める政令 (平成31年政令第143号) 附則: 令和 in force from the day after 平成31年4月30日.
- 大正 and 昭和 began on the day of accession: 1912-07-30 and 1926-12-25.
- 改暦ノ布告 (明治5年太政官布告第337号): 明治5年12月3日 became 明治6年1月1日 (1873-01-01).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.core.wareki import EARLIEST_DATE, parse_wareki, to_wareki


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(1873, 1, 1), "明治6年1月1日"),  # 改暦ノ布告: first Gregorian day
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),  # last day of 昭和 (昭和64年政令第1号)
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),  # 平成31年政令第143号 附則
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2026, 11, 23), "令和8年11月23日"),
    ],
)
def test_to_wareki_boundaries(d: date, text: str) -> None:
    assert to_wareki(d) == text
    assert parse_wareki(text) == d


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("r1.5.1", date(2019, 5, 1)),
        ("R01.05.01", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和 8年 1月 2日", date(2026, 1, 2)),
        ("令和８年１１月２３日", date(2026, 11, 23)),
        ("令和\u30008年\u300011月\u300023日", date(2026, 11, 23)),
        ("Ｒ８．１１．２３", date(2026, 11, 23)),
        (" S64.1.7 ", date(1989, 1, 7)),
        ("s64.1.7", date(1989, 1, 7)),
        ("T1.7.30", date(1912, 7, 30)),
        ("t15.12.24", date(1926, 12, 24)),
        ("M6.1.1", date(1873, 1, 1)),
        ("m45.7.29", date(1912, 7, 29)),
        ("R元.5.1", date(2019, 5, 1)),
        ("H1年1月8日", date(1989, 1, 8)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("令和8年2月28日", date(2026, 2, 28)),
        ("令和6年2月29日", date(2024, 2, 29)),
    ],
)
def test_parse_accepted_forms(text: str, expected: date) -> None:
    assert parse_wareki(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",  # 令和 from 2019-05-01
        "H31.5.1",
        "昭和64年1月8日",  # 平成 from 1989-01-08
        "令和元年4月30日",  # before 令和
        "平成元年1月7日",  # before 平成
        "明治45年7月30日",  # that day is 大正元年7月30日
        "大正15年12月25日",  # that day is 昭和元年12月25日
        "大正元年7月29日",
    ],
)
def test_parse_rejects_date_outside_era(text: str) -> None:
    with pytest.raises(ValueError, match="期間"):
        parse_wareki(text)


@pytest.mark.parametrize(
    "text", ["令和5年2月29日", "平成30年2月29日", "令和8年4月31日", "R8.13.1", "R8.0.1", "R8.1.0"]
)
def test_parse_rejects_nonexistent_day(text: str) -> None:
    with pytest.raises(ValueError, match="存在しない日付"):
        parse_wareki(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "令和",
        "R1.5",
        "R1/5/1",
        "X1.5.1",
        "元年5月1日",
        "2019年5月1日",
        "令和1年5月1",
        "令和一年五月一日",
        "R1.5.1日",
        "令和元年5月1日です",
        "R1.5.1.1",
        "R12345.1.1",
        "R٣.5.1",  # Arabic-Indic digit
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="読めません"):
        parse_wareki(text)


def test_parse_rejects_year_zero() -> None:
    with pytest.raises(ValueError, match="0年"):
        parse_wareki("令和0年5月1日")


def test_parse_rejects_non_string() -> None:
    with pytest.raises(ValueError):
        parse_wareki(20190501)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["明治5年12月2日", "明治5年12月31日", "明治元年1月1日", "M5.12.3"])
def test_before_gregorian_calendar_is_refused(text: str) -> None:
    # Before 明治6年1月1日 dates were lunisolar (改暦ノ布告); reading them as Gregorian would
    # silently give the wrong day.
    with pytest.raises(ValueError, match="太陰太陽暦"):
        parse_wareki(text)


@pytest.mark.parametrize("d", [date(1872, 12, 31), date(1868, 1, 25), date(1, 1, 1)])
def test_to_wareki_refuses_before_gregorian_calendar(d: date) -> None:
    with pytest.raises(ValueError, match="太陰太陽暦"):
        to_wareki(d)


@pytest.mark.parametrize(
    "value", [datetime(2019, 4, 30, 15, 30, tzinfo=UTC), datetime(2019, 5, 1), "2019-05-01"]
)
def test_to_wareki_refuses_datetime_and_others(value: object) -> None:
    # 2019-04-30T15:30Z is already 令和元年5月1日 in Japan; the caller must pick the JST date.
    with pytest.raises(ValueError, match="date"):
        to_wareki(value)  # type: ignore[arg-type]


def test_earliest_date() -> None:
    assert EARLIEST_DATE.isoformat() == "1873-01-01"
    assert to_wareki(EARLIEST_DATE) == "明治6年1月1日"


def test_era_boundaries_exhaustively_consistent() -> None:
    # Around each change of era, consecutive days either stay in one era with the same year
    # count or start the next era at 元年.
    for first in (date(1912, 7, 30), date(1926, 12, 25), date(1989, 1, 8), date(2019, 5, 1)):
        before = to_wareki(first - timedelta(days=1))
        after = to_wareki(first)
        assert before[:2] != after[:2]
        assert after[2:4] == "元年"


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_round_trip(d: date) -> None:
    assert parse_wareki(to_wareki(d)) == d


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_dotted_form_round_trip(d: date) -> None:
    text = to_wareki(d)
    letter = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}[text[:2]]
    year = text[2 : text.index("年")]
    dotted = f"{letter}{1 if year == '元' else year}.{d.month}.{d.day}"
    assert parse_wareki(dotted) == d
    assert parse_wareki(dotted.lower()) == d
