"""Check digits of 個人番号, 法人番号 and 全国地方公共団体コード.

The property tests use an oracle written straight from the wording of each ordinance (digits
numbered from the right, Qn as printed), independent of the weight tables in the module.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.core.numbers import (
    corporate_number_check_digit,
    individual_number_check_digit,
    is_valid_corporate_number,
    is_valid_individual_number,
    is_valid_local_government_code,
    local_government_code_check_digit,
)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# --- oracles, transcribed from the texts -------------------------------------------------


def individual_remainder(first11: str) -> int:
    """平成26年総務省令第85号 第5条: Pn is the n-th digit from the lowest; Qn = n+1 (1≦n≦6),
    n−5 (7≦n≦11)."""
    total = 0
    for n in range(1, 12):
        p = int(first11[-n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    return total % 11


def individual_oracle(first11: str) -> int:
    r = individual_remainder(first11)
    return 0 if r <= 1 else 11 - r


def corporate_oracle(last12: str) -> int:
    """平成26年財務省令第70号 第2条: Qn = 1 for odd n, 2 for even n, n counted from the lowest."""
    total = sum(int(last12[-n]) * (1 if n % 2 else 2) for n in range(1, 13))
    return 9 - total % 9


def local_government_remainder(first5: str) -> int:
    return sum(int(c) * w for c, w in zip(first5, (6, 5, 4, 3, 2), strict=True)) % 11


# --- 個人番号 -------------------------------------------------------------------------------


def test_individual_worked_example() -> None:
    # Synthetic base 12345678901 (no real number is used in tests):
    # 1×6+2×5+3×4+4×3+5×2+6×7+7×6+8×5+9×4+0×3+1×2 = 212; 212 mod 11 = 3; 11 − 3 = 8.
    assert individual_number_check_digit("12345678901") == 8
    assert is_valid_individual_number("123456789018")
    assert not is_valid_individual_number("123456789017")


@pytest.mark.parametrize(
    ("first11", "expected"),
    [
        ("00000000000", 0),  # Σ = 0: 余り 0 ≦ 1 → 0 (第5条 ただし書)
        ("00000000006", 0),  # Σ = 6×2 = 12: 余り 1 ≦ 1 → 0
        ("00000000005", 1),  # Σ = 10: 余り 10 → 11 − 10 = 1
        ("00000000001", 9),  # Σ = 2 → 9
        ("10000000000", 5),  # leftmost digit has Q11 = 6 → 11 − 6 = 5
        ("00000100000", 4),  # 6th from the right has Q6 = 7 → 11 − 7 = 4
    ],
)
def test_individual_edge_remainders(first11: str, expected: int) -> None:
    assert individual_number_check_digit(first11) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1234567890",
        "123456789012",
        "1234567890a",
        "１２３４５６７８９０１",
        " 2345678901",
        "+2345678901",
    ],
)
def test_individual_check_digit_rejects_malformed_without_echo(bad: str) -> None:
    with pytest.raises(ValueError, match="11桁の半角数字") as info:
        individual_number_check_digit(bad)
    if bad.strip():
        assert bad.strip() not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12345678901",
        "1234567890180",
        "12345678901８",
        "１２３４５６７８９０１８",
        "1234-5678-9018",
    ],
)
def test_individual_is_valid_false_for_malformed(bad: str) -> None:
    assert not is_valid_individual_number(bad)


def test_individual_is_valid_false_for_non_string() -> None:
    assert not is_valid_individual_number(123456789018)  # type: ignore[arg-type]


@given(digits(11))
def test_individual_matches_ordinance_and_validates(first11: str) -> None:
    check = individual_number_check_digit(first11)
    assert check == individual_oracle(first11)
    assert 0 <= check <= 9
    assert is_valid_individual_number(first11 + str(check))


@given(digits(11), st.integers(0, 10), st.integers(1, 9))
def test_individual_single_digit_change(first11: str, pos: int, shift: int) -> None:
    """Every Qn is 2..7, prime to 11, so changing one digit always changes the remainder.
    The change still goes unnoticed when the two remainders are 0 and 1, which both give the
    check digit 0. That is the only blind spot."""
    number = first11 + str(individual_number_check_digit(first11))
    new_digit = str((int(first11[pos]) + shift) % 10)
    mutated11 = first11[:pos] + new_digit + first11[pos + 1 :]
    before, after = individual_remainder(first11), individual_remainder(mutated11)
    assert before != after
    assert is_valid_individual_number(mutated11 + number[11]) == ({before, after} == {0, 1})


def test_individual_blind_spot_exists() -> None:
    # 00000000000 (余り 0) and 00000000006 (余り 1) both take check digit 0.
    assert is_valid_individual_number("000000000000")
    assert is_valid_individual_number("000000000060")


@given(digits(11), st.integers(1, 9))
def test_individual_wrong_check_digit_always_invalid(first11: str, shift: int) -> None:
    wrong = (individual_number_check_digit(first11) + shift) % 10
    assert not is_valid_individual_number(first11 + str(wrong))


# --- 法人番号 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        # 国税庁. Published on 国税庁法人番号公表サイト (https://www.houjin-bangou.nta.go.jp/)
        # and shown by 国税庁 itself on its 法人番号 slides ("国税庁 (法人番号:7000012050002)").
        # 基礎番号 000012050002: Σ = 2×1+5×1+2×1+1×2 = 11; 11 mod 9 = 2; 9 − 2 = 7.
        "7000012050002",
        # 東京都 (法人番号公表サイト). 基礎番号 = "000020" + 団体コード 130001.
        # Σ = 1×1+3×1+1×2+2×2 = 10; 10 mod 9 = 1; 9 − 1 = 8.
        "8000020130001",
        # 北海道 (法人番号公表サイト). 基礎番号 = "000020" + 団体コード 010006.
        # Σ = 6×1+1×1+2×2 = 11 → 7.
        "7000020010006",
    ],
)
def test_corporate_published_numbers(number: str) -> None:
    assert corporate_number_check_digit(number[1:]) == int(number[0])
    assert is_valid_corporate_number(number)


def test_corporate_sum_divisible_by_nine_gives_nine() -> None:
    assert corporate_number_check_digit("000000000000") == 9
    assert corporate_number_check_digit("000000000009") == 9


@pytest.mark.parametrize("bad", ["", "00001205000", "0000120500020", "00001205000x", "０００"])
def test_corporate_check_digit_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="12桁の半角数字"):
        corporate_number_check_digit(bad)


@pytest.mark.parametrize(
    "bad", ["", "000012050002", "70000120500020", "７000012050002", "7-0000-1205-0002"]
)
def test_corporate_is_valid_false_for_malformed(bad: str) -> None:
    assert not is_valid_corporate_number(bad)


@given(digits(12))
def test_corporate_matches_ordinance(last12: str) -> None:
    check = corporate_number_check_digit(last12)
    assert check == corporate_oracle(last12)
    assert 1 <= check <= 9
    assert is_valid_corporate_number(str(check) + last12)
    # The check digit is never 0, so a leading 0 is always invalid.
    assert not is_valid_corporate_number("0" + last12)


@given(digits(12), st.integers(0, 11), st.integers(1, 9))
def test_corporate_single_digit_change(last12: str, pos: int, shift: int) -> None:
    """Qn is 1 or 2, both prime to 9: a change of the base by d goes unnoticed only when
    d ≡ 0 (mod 9), i.e. a 0 and a 9 swapped."""
    check = str(corporate_number_check_digit(last12))
    old = last12[pos]
    new = str((int(old) + shift) % 10)
    mutated = last12[:pos] + new + last12[pos + 1 :]
    assert is_valid_corporate_number(check + mutated) == ({old, new} == {"0", "9"})


@given(digits(12), st.integers(1, 9))
def test_corporate_wrong_check_digit_always_invalid(last12: str, shift: int) -> None:
    wrong = (corporate_number_check_digit(last12) + shift) % 10
    assert not is_valid_corporate_number(str(wrong) + last12)


# --- 全国地方公共団体コード -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name", "remainder"),
    [
        # All from 総務省「全国地方公共団体コード」 (https://www.soumu.go.jp/denshijiti/code.html).
        ("010006", "北海道", 5),  # Σ = 1×5 = 5 → 11 − 5 = 6
        ("011002", "札幌市", 9),  # Σ = 5+4 = 9 → 2
        ("130001", "東京都", 10),  # Σ = 6+15 = 21: 余り 10 → 11 − 10 = 1
        ("131016", "千代田区", 5),  # Σ = 6+15+4+0+2 = 27; 27 mod 11 = 5 → 6
        ("141003", "横浜市", 8),  # Σ = 6+20+4 = 30; 30 mod 11 = 8 → 3
        ("270008", "大阪府", 3),  # Σ = 12+35 = 47; 47 mod 11 = 3 → 8
        ("271004", "大阪市", 7),  # Σ = 12+35+4 = 51; 51 mod 11 = 7 → 4
        ("131041", "新宿区", 0),  # Σ = 6+15+4+0+8 = 33: 余り 0 → 11 → 下1桁 1
        ("131130", "渋谷区", 1),  # Σ = 6+15+4+3+6 = 34: 余り 1 → 10 → 下1桁 0
        ("131121", "世田谷区", 10),  # Σ = 6+15+4+3+4 = 32: 余り 10 → 1
    ],
)
def test_local_government_official_codes(code: str, name: str, remainder: int) -> None:
    assert local_government_remainder(code[:5]) == remainder, name
    assert local_government_code_check_digit(code[:5]) == int(code[5]), name
    assert is_valid_local_government_code(code), name


@pytest.mark.parametrize("bad", ["", "0100", "010006", "0100a", "０１０００"])
def test_local_government_check_digit_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="5桁の半角数字"):
        local_government_code_check_digit(bad)


@pytest.mark.parametrize("bad", ["", "01000", "0100060", "010007", "０１０００６", "01000６"])
def test_local_government_is_valid_false(bad: str) -> None:
    assert not is_valid_local_government_code(bad)


@given(digits(5))
def test_local_government_rule(first5: str) -> None:
    r = local_government_remainder(first5)
    check = local_government_code_check_digit(first5)
    # 「11と余り数字との差の下1桁の数字」
    assert check == int(str(11 - r)[-1])
    assert is_valid_local_government_code(first5 + str(check))


@given(digits(5), st.integers(0, 4), st.integers(1, 9))
def test_local_government_single_digit_change(first5: str, pos: int, shift: int) -> None:
    """Weights 6..2 are prime to 11, so the remainder always changes; remainders 0 and 10 both
    give 検査数字 1, the one blind spot."""
    check = str(local_government_code_check_digit(first5))
    new = str((int(first5[pos]) + shift) % 10)
    mutated = first5[:pos] + new + first5[pos + 1 :]
    before, after = local_government_remainder(first5), local_government_remainder(mutated)
    assert before != after
    assert is_valid_local_government_code(mutated + check) == ({before, after} == {0, 10})
