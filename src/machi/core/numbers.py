"""Check digits of the public identifiers the municipality handles.

Each rule below is the one in the cited text. The formulas were checked against copies of the
e-Gov text of each ordinance and of the 総務省 page, and against real numbers published by
国税庁 and 総務省 (see tests/core/test_numbers.py):

個人番号 (12 digits, check digit last)
    行政手続における特定の個人を識別するための番号の利用等に関する法律の規定による通知カード
    及び個人番号カード並びに情報提供ネットワークシステムによる特定個人情報の提供等に関する省令
    (平成26年総務省令第85号) 第5条 (令第8条の算式):
    検査用数字 = 11 − (Σ_{n=1..11} Pn×Qn を11で除した余り); 余り ≦ 1 のときは 0.
    Pn: 検査用数字を除く11桁の最下位の桁を1桁目としたときの n 桁目の数字;
    Qn: 1≦n≦6 のとき n+1, 7≦n≦11 のとき n−5.

法人番号 (13 digits, check digit FIRST)
    法人番号の指定等に関する省令 (平成26年財務省令第70号) 第2条 (令第35条第1項の算式):
    検査用数字 = 9 − (Σ_{n=1..12} Pn×Qn を9で除した余り).
    Pn: 基礎番号 (12桁) の最下位の桁を1桁目としたときの n 桁目の数字;
    Qn: n が奇数のとき 1, 偶数のとき 2.
    The printed formula places the brackets so that it can be misread as summing remainders;
    only the reading "remainder of the sum" yields a single digit and matches published numbers
    (e.g. 国税庁 7000012050002), so that is the one implemented.

全国地方公共団体コード (6 digits, check digit last)
    総務省「全国地方公共団体コード」: 第1桁から第5桁までの数字にそれぞれ 6, 5, 4, 3, 2 を乗じた
    積の和を 11 で除し、11 と余り数字との差の下1桁の数字を検査数字とする.
    So remainder 0 gives 1 (11 → "1"), remainder 1 gives 0 (10 → "0") and remainder 10 gives 1.

Only ASCII digits are accepted. Callers that take input from people (full-width ``１２３``,
hyphens, spaces) must normalise it first; doing it here would hide input errors from the
caller, and this module must never guess.

Error messages never contain the value checked: a 個人番号 is 特定個人情報 and must not reach
logs or screens through an exception.
"""

from __future__ import annotations

__all__ = [
    "corporate_number_check_digit",
    "individual_number_check_digit",
    "is_valid_corporate_number",
    "is_valid_individual_number",
    "is_valid_local_government_code",
    "local_government_code_check_digit",
]

# Left-to-right weights. The ordinances number digits from the right; these tuples are that
# numbering written out for the leftmost digit first.
_INDIVIDUAL_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_CORPORATE_WEIGHTS = (2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1)
_LOCAL_GOVERNMENT_WEIGHTS = (6, 5, 4, 3, 2)


def _is_ascii_digits(s: object, length: int) -> bool:
    # str.isdigit alone would accept "１２３" and other Unicode digits.
    return isinstance(s, str) and len(s) == length and s.isascii() and s.isdigit()


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(c) * w for c, w in zip(digits, weights, strict=True))


def individual_number_check_digit(first11: str) -> int:
    """The check digit (last digit) of a 個人番号 whose first 11 digits are ``first11``."""
    if not _is_ascii_digits(first11, 11):
        raise ValueError("個人番号の検査用数字を除く部分は11桁の半角数字です")
    remainder = _weighted_sum(first11, _INDIVIDUAL_WEIGHTS) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_individual_number(s: str) -> bool:
    """True if ``s`` is 12 ASCII digits whose last digit is the correct check digit."""
    if not _is_ascii_digits(s, 12):
        return False
    return individual_number_check_digit(s[:11]) == int(s[11])


def corporate_number_check_digit(last12: str) -> int:
    """The check digit (FIRST digit, 1–9) of a 法人番号 whose 基礎番号 is ``last12``."""
    if not _is_ascii_digits(last12, 12):
        raise ValueError("法人番号の基礎番号は12桁の半角数字です")
    return 9 - _weighted_sum(last12, _CORPORATE_WEIGHTS) % 9


def is_valid_corporate_number(s: str) -> bool:
    """True if ``s`` is 13 ASCII digits whose first digit is the correct check digit."""
    if not _is_ascii_digits(s, 13):
        return False
    return corporate_number_check_digit(s[1:]) == int(s[0])


def local_government_code_check_digit(first5: str) -> int:
    """The 検査数字 (6th digit) of a 全国地方公共団体コード whose first 5 digits are ``first5``."""
    if not _is_ascii_digits(first5, 5):
        raise ValueError("地方公共団体コードの検査数字を除く部分は5桁の半角数字です")
    remainder = _weighted_sum(first5, _LOCAL_GOVERNMENT_WEIGHTS) % 11
    return (11 - remainder) % 10


def is_valid_local_government_code(s: str) -> bool:
    """True if ``s`` is 6 ASCII digits whose last digit is the correct 検査数字."""
    if not _is_ascii_digits(s, 6):
        return False
    return local_government_code_check_digit(s[:5]) == int(s[5])
