"""Search keys for names. A key is only for matching; the name as written is what is stored.

``normalize_kana`` (フリガナ keys):
- hiragana → full-width katakana (``ゔ`` → ``ヴ``, ``ゝゞ`` → ``ヽヾ``, ``ゟ`` → ``ヨリ``);
- half-width katakana → full-width, with a following ﾞ/ﾟ combined (``ｶﾞ`` → ``ガ``,
  ``ﾜﾞ`` → ``ヷ``); the spacing marks ``゛``/``゜`` and the combining marks U+3099/U+309A are
  composed the same way (``カ゛`` → ``ガ``); a mark with nothing to combine with is kept as the
  combining mark;
- the long vowel mark ``ー`` is kept (``ｰ`` becomes ``ー``); small kana are kept (``ァ`` ≠ ``ア``);
- every whitespace character (ASCII space, tab, newline, U+3000 …) and the middle dot
  ``・``/``･`` are removed, so ``ジョン・スミス``, ``ジョン スミス`` and ``ジョンスミス`` meet;
- full-width ASCII letters and digits → half-width, and ASCII letters → upper case, so
  alphabet names of foreign residents match whatever width or case was typed. Other
  full-width ASCII symbols also become half-width. Non-ASCII letters (``é``) are kept as is.

``normalize_name`` (氏名 keys, kanji or alphabet): NFKC width folding, whitespace removed and
ASCII letters in upper case. No kana conversion. NFKC also maps CJK compatibility ideographs to
their unified form (U+FA19 → 神 U+795E); the twelve unified ideographs in that block such as
``﨑`` (U+FA11) have no mapping and stay, so ``﨑`` and ``崎`` remain different keys.

Both are idempotent: a key normalised again is unchanged.
"""

from __future__ import annotations

import unicodedata

import jaconv

__all__ = ["normalize_kana", "normalize_name"]

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAKAGURO = str.maketrans("", "", "・･")
# jaconv combines ﾞ/ﾟ only where a precomposed katakana exists in its table; the rest (ﾜﾞ,
# a mark after hiragana, a lone mark) and the spacing marks ゛/゜ become combining marks,
# which NFC then composes with the kana before them where Unicode has a composed form.
_VOICED_MARKS = str.maketrans({"ﾞ": "\u3099", "ﾟ": "\u309a", "゛": "\u3099", "゜": "\u309a"})
# ゟ (hiragana digraph より) has no single katakana counterpart.
_YORI = str.maketrans({"ゟ": "ヨリ"})


def _drop_whitespace(s: str) -> str:
    if not isinstance(s, str):
        raise ValueError("文字列を指定してください")
    return "".join(s.split())


def normalize_kana(s: str) -> str:
    """Full-width katakana search key for a フリガナ; see the module docstring."""
    # Whitespace goes first so that a mark separated from its kana by a space still combines,
    # and NFC comes last so that no decomposed pair survives to change on a second pass.
    text = _drop_whitespace(s).translate(_NAKAGURO)
    text = unicodedata.normalize("NFC", text)
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = text.translate(_VOICED_MARKS).translate(_YORI)
    text = jaconv.hira2kata(text)
    text = jaconv.z2h(text, kana=False, ascii=True, digit=True)
    text = text.translate(_ASCII_UPPER)
    return unicodedata.normalize("NFC", text)


def normalize_name(s: str) -> str:
    """Width-folded search key for a name in kanji or alphabet; see the module docstring."""
    text = unicodedata.normalize("NFKC", _drop_whitespace(s))
    # NFKC can itself produce spaces (U+309B ゛ → space + U+3099), and removing them can bring
    # a combining mark next to a base it composes with, hence the second round. Upper-casing
    # before it keeps the result stable: "i" + U+0307 has no composed form, "I" + U+0307 does.
    text = _drop_whitespace(text.translate(_ASCII_UPPER))
    return unicodedata.normalize("NFKC", text)
