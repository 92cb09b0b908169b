"""Search keys for フリガナ and names.

The character mappings follow Unicode: hiragana U+3041–U+3096 and katakana U+30A1–U+30F6 are
0x60 apart, half-width katakana are U+FF61–U+FF9F, and NFKC/NFC are the Unicode Standard
Annex #15 normalisation forms.
"""

from __future__ import annotations

import unicodedata

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from machi.core.text import normalize_kana, normalize_name

HIRAGANA_LETTERS = {chr(c) for c in range(0x3041, 0x3097)} | {"ゝ", "ゞ", "ゟ"}
HALF_WIDTH_KANA = {chr(c) for c in range(0xFF61, 0xFFA0)}
FULL_WIDTH_ALNUM = {chr(c) for c in range(0xFF10, 0xFF1A)} | {
    chr(c) for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}

# Text that exercises every rule: kana of all widths, the voicing marks in every form,
# whitespace of several kinds, the middle dots and alphanumerics of both widths.
_interesting = st.sampled_from(
    [
        *"あかがぱゔゝゞゟぁっゕゖ",
        *"アカガパヴヽヾヷァッヵヶー・",
        *"ｱｶｳﾜｦｧｯｰ･｡｢｣､ﾞﾟ",
        "\u3099",
        "\u309a",
        "゛",
        "゜",
        *" \t\n\u3000\u00a0",
        *"aZ9ａＺ９",
        "i",
        "\u0307",
        "é",
        "山",
        "﨑",
        "神",
        "㈱",
    ]
)
kana_like_text = st.lists(_interesting, max_size=20).map("".join)
any_text = st.text(max_size=30)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("やまだ　たろう", "ヤマダタロウ"),
        ("ヤマダ タロウ", "ヤマダタロウ"),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
        ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("ﾜﾞ", "ヷ"),
        ("ｶ ﾞ", "ガ"),  # the space goes before the mark is combined
        ("か\u3099", "ガ"),  # decomposed input (e.g. from macOS)
        ("カ゛", "ガ"),
        ("ｺｰﾋｰ", "コーヒー"),  # long vowel mark kept
        ("きょうこ", "キョウコ"),  # small kana kept
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョンスミス"),
        ("ジョン・スミス", "ジョンスミス"),
        ("John Smith", "JOHNSMITH"),
        ("ｊｏｈｎ　ＳＭＩＴＨ", "JOHNSMITH"),
        ("ｓｍｉｔｈ２", "SMITH2"),
        ("\tた\nな\u00a0か ", "タナカ"),
        ("ゝゞ", "ヽヾ"),
        ("", ""),
    ],
)
def test_normalize_kana_examples(raw: str, key: str) -> None:
    assert normalize_kana(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("山田　太郎", "山田太郎"),
        ("山田 太郎", "山田太郎"),
        ("ＳＭＩＴＨ　Ｊｏｈｎ", "SMITHJOHN"),
        ("smith john", "SMITHJOHN"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),  # width folded
        ("やまだ", "やまだ"),  # but no kana conversion
        ("髙橋", "髙橋"),  # 髙 is a unified ideograph: kept
        ("﨑", "﨑"),  # U+FA11 has no NFKC mapping
        ("\ufa19", "神"),  # CJK compatibility ideograph → unified
        ("カ゛", "ガ"),
        ("", ""),
    ],
)
def test_normalize_name_examples(raw: str, key: str) -> None:
    assert normalize_name(raw) == key


@given(st.one_of(kana_like_text, any_text))
def test_normalize_kana_is_idempotent(s: str) -> None:
    key = normalize_kana(s)
    assert normalize_kana(key) == key


@given(st.one_of(kana_like_text, any_text))
def test_normalize_kana_output_alphabet(s: str) -> None:
    key = normalize_kana(s)
    assert not any(c.isspace() for c in key)
    assert not set(key) & HIRAGANA_LETTERS
    assert not set(key) & HALF_WIDTH_KANA
    assert not set(key) & FULL_WIDTH_ALNUM
    assert not set(key) & {"・", "･"}
    assert not any("a" <= c <= "z" for c in key)
    assert unicodedata.is_normalized("NFC", key)


@given(kana_like_text)
def test_normalize_kana_ignores_spaces(s: str) -> None:
    spaced = "\u3000".join(s)
    assert normalize_kana(spaced) == normalize_kana(s)


hiragana_reading = st.text(alphabet=[chr(c) for c in range(0x3041, 0x3097)], max_size=12)


@given(hiragana_reading)
def test_normalize_kana_hiragana_and_katakana_meet(hira: str) -> None:
    kata = "".join(chr(ord(c) + 0x60) for c in hira)  # U+3041.. → U+30A1..
    assert normalize_kana(hira) == normalize_kana(kata)


@given(hiragana_reading)
def test_normalize_kana_half_and_full_width_meet(hira: str) -> None:
    kata = "".join(chr(ord(c) + 0x60) for c in hira)
    # NFKC is the Unicode mapping of half-width to full-width; applying it backwards
    # would need a table, so the half-width form is produced by jaconv and checked by NFKC.
    half = jaconv.z2h(kata, kana=True, ascii=False, digit=False)
    assert unicodedata.normalize("NFKC", half) == unicodedata.normalize("NFKC", kata)
    assert normalize_kana(half) == normalize_kana(kata)


@given(st.one_of(kana_like_text, any_text))
def test_normalize_name_is_idempotent(s: str) -> None:
    key = normalize_name(s)
    assert normalize_name(key) == key


@given(st.one_of(kana_like_text, any_text))
def test_normalize_name_output_alphabet(s: str) -> None:
    key = normalize_name(s)
    assert not any(c.isspace() for c in key)
    assert not set(key) & HALF_WIDTH_KANA
    assert not set(key) & FULL_WIDTH_ALNUM
    assert not any("a" <= c <= "z" for c in key)
    assert unicodedata.is_normalized("NFKC", key)


@pytest.mark.parametrize("value", [None, 123, b"\xe3\x81\x82"])
def test_non_string_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="文字列"):
        normalize_kana(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="文字列"):
        normalize_name(value)  # type: ignore[arg-type]
