"""CSV files of the resident registry (docs/registry-csv.md): the layouts of the export of
current residents, of the bulk 異動 file and of its error report; their encodings (UTF-8
with or without BOM, CP932); and the parsing of bulk rows into the commands of
``machi.registry.services``. Pure: no database, no clock, no file system — bytes in,
values out, values in, bytes out.

Rows are numbered as the file's physical lines, the header being line 1 (what a text
editor and a spreadsheet show). A problem names that row, the column by its Japanese
label, and a reason in Japanese; never the cell's value, which may be personal data.

Decisions:

- Encodings. UTF-8 (a BOM is skipped) and CP932 are read; with no encoding given, UTF-8 is
  tried first and CP932 second (Japanese text in CP932 is practically never valid UTF-8).
  UTF-16/32 (by their BOM), NUL bytes and C1 control characters — what a wrong guess
  produces — are refused for the whole file. UTF-8 output carries a BOM, because the
  spreadsheet most municipal staff open CSV files with reads BOM-less UTF-8 as CP932.
  A character CP932 cannot hold is refused on CP932 output, never replaced: a 住民票
  name changed by one character is another person's name.
- Width. Numbers, codes and dates are NFKC-folded, so full-width digits are read; フリガナ
  becomes full-width katakana (half-width kana and hiragana are converted) as the standard
  keeps it; half-width katakana in any other text becomes full-width (JIS X 0201 kana are
  not used on a 住民票). Other characters are kept as written.
- The bulk file gathers all 異動 kinds in one layout with a 異動区分 column. Rows sharing a
  世帯キー form one 異動 (a household moving in or within together), so a group is applied
  or refused as a whole. Ids the file cannot know (the address master id, resident ids)
  are left as placeholders in the command and resolved by ``services.bulk_changes`` from
  町字コード + 番地 and 宛名番号.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, BinaryIO, TypeVar

import jaconv

from machi.core.errors import CoreError, DomainError
from machi.core.wareki import parse_wareki
from machi.registry import rules
from machi.registry.queries import ExportRow
from machi.registry.rules import (
    IDENTITY_DOCUMENT_LABELS,
    ApplicantKind,
    Identification,
    IdentityDocument,
)
from machi.registry.services import (
    Death,
    MoveIn,
    MoveWithin,
    NewPerson,
    ParsedRow,
    RowProblem,
)

__all__ = [
    "BULK_COLUMNS",
    "EXPORT_COLUMNS",
    "REPORT_COLUMNS",
    "Column",
    "CsvError",
    "CsvWriter",
    "Encoding",
    "ParsedRow",
    "RowProblem",
    "decode",
    "parse_date",
    "read_bulk_changes",
    "read_export",
    "read_report",
    "write_export",
    "write_report",
]


T = TypeVar("T")


class Encoding(StrEnum):
    UTF8 = "utf-8"
    CP932 = "cp932"


class CsvError(DomainError):
    """The file (or one cell on output) is refused as a whole. ``row`` and ``column`` say
    where; the message never quotes the file's content."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        where = "".join(
            [f"{row}行目" if row is not None else "", f"「{column}」" if column else ""]
        )
        super().__init__(CoreError.INVALID_INPUT, f"{where}: {message}" if where else message)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Column:
    """One column of a layout: ``name`` is the English id (also accepted as a header),
    ``label`` the Japanese header written and documented."""

    name: str
    label: str


# ---------------------------------------------------------------------------------------
# Layouts (documented in docs/registry-csv.md; keep both in step)
# ---------------------------------------------------------------------------------------

EXPORT_COLUMNS: tuple[Column, ...] = (
    Column("addressee_no", "宛名番号"),
    Column("household_no", "世帯番号"),
    Column("name", "氏名"),
    Column("name_kana", "氏名フリガナ"),
    Column("alias_name", "通称"),
    Column("birth_date", "生年月日"),
    Column("birth_date_precision", "生年月日の精度"),
    Column("sex", "性別"),
    Column("relationship", "続柄"),
    Column("postal_code", "郵便番号"),
    Column("town_area_code", "町字コード"),
    Column("town_area_name", "町字"),
    Column("lot", "番地"),
    Column("building", "方書"),
    Column("became_resident_on", "住民となった年月日"),
    Column("address_set_on", "住所を定めた年月日"),
    Column("foreign_resident", "外国人住民"),
    Column("nationality", "国籍・地域"),
)

BULK_COLUMNS: tuple[Column, ...] = (
    Column("kind", "異動区分"),
    Column("group", "世帯キー"),
    Column("addressee_no", "宛名番号"),
    Column("effective_on", "異動日"),
    Column("notified_on", "届出日"),
    Column("town_area_code", "町字コード"),
    Column("lot", "番地"),
    Column("building", "方書"),
    Column("moved_in_from", "転入前住所"),
    Column("moved_in_from_local_government_code", "転入前住所の地方公共団体コード"),
    Column("name", "氏名"),
    Column("name_kana", "氏名フリガナ"),
    Column("birth_date", "生年月日"),
    Column("sex", "性別"),
    Column("relationship", "続柄"),
    Column("registered_domicile", "本籍"),
    Column("family_register_head", "筆頭者"),
    Column("nationality", "国籍・地域"),
    Column("foreign_resident_class", "外国人住民区分"),
    Column("residence_status", "在留資格"),
    Column("residence_period", "在留期間"),
    Column("residence_expires_on", "在留期間の満了の日"),
    Column("residence_card_no", "在留カード等の番号"),
    # 本人確認 at the counter (REG-CTRL-01): who applied, the document types (codes or
    # labels joined by 「・」), and the 委任状 for an agent. Types only, never numbers.
    Column("applicant", "届出人"),
    Column("identity_documents", "本人確認書類"),
    Column("power_of_attorney", "委任状"),
)

REPORT_COLUMNS: tuple[Column, ...] = (
    Column("row", "行"),
    Column("column", "項目"),
    Column("reason", "理由"),
)

_BULK = {c.name: c for c in BULK_COLUMNS}
_EXPORT = {c.name: c for c in EXPORT_COLUMNS}


def _label(name: str) -> str:
    return _BULK[name].label


# Service field names (DomainError.field) → the bulk column to blame. A field with no
# column (``persons``) blames the row as a whole.
FIELD_COLUMNS: Mapping[str, str] = {
    field: _label(column)
    for field, column in {
        "effective_on": "effective_on",
        "notified_on": "notified_on",
        "address_id": "lot",
        "building": "building",
        "moved_in_from": "moved_in_from",
        "moved_in_from_local_government_code": "moved_in_from_local_government_code",
        "name": "name",
        "name_kana": "name_kana",
        "birth_date": "birth_date",
        "birth_date_precision": "birth_date",
        "sex": "sex",
        "relationship": "relationship",
        "new_relationships": "relationship",
        "registered_domicile": "registered_domicile",
        "family_register_head": "family_register_head",
        "nationality": "nationality",
        "foreign_resident_class": "foreign_resident_class",
        "residence_status": "residence_status",
        "residence_period": "residence_period",
        "residence_expires_on": "residence_expires_on",
        "residence_card_no": "residence_card_no",
        "resident_id": "addressee_no",
        "resident_ids": "addressee_no",
    }.items()
}


# ---------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------

_ENCODING_HINT = "UTF-8 (BOM の有無は問いません) または CP932 (Shift_JIS) で保存してください。"
_C1_OR_NUL = re.compile(r"[\x00\x80-\x9f]")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _strict(data: bytes, encoding: Encoding) -> str:
    try:
        return data.decode(encoding.value)
    except UnicodeDecodeError as e:
        raise CsvError(
            f"{encoding.value} として読めないバイトがあります。{_ENCODING_HINT}",
            row=_line_of(data, e.start),
        ) from None


def decode(data: bytes, encoding: Encoding | None = None) -> tuple[str, Encoding]:
    """The file's text and its encoding. ``encoding`` None detects UTF-8 (BOM or not) or
    CP932; anything else is refused with a message that says what to do."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or data.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise CsvError(f"UTF-16/UTF-32 のファイルは読めません。{_ENCODING_HINT}")
    if data.startswith(codecs.BOM_UTF8):
        if encoding is Encoding.CP932:
            raise CsvError("BOM 付きの UTF-8 のファイルです。文字コードに cp932 は指定できません。")
        text, used = _strict(data[len(codecs.BOM_UTF8) :], Encoding.UTF8), Encoding.UTF8
    elif encoding is not None:
        text, used = _strict(data, encoding), encoding
    else:
        for candidate in (Encoding.UTF8, Encoding.CP932):
            try:
                text, used = data.decode(candidate.value), candidate
                break
            except UnicodeDecodeError:
                continue
        else:
            raise CsvError(f"文字コードを判別できません。{_ENCODING_HINT}")
    bad = _C1_OR_NUL.search(text)
    if bad is not None:
        row = text.count("\n", 0, bad.start()) + 1
        raise CsvError(
            f"文字コードが正しくないか、CSV ではないファイルです。{_ENCODING_HINT}", row=row
        )
    return text, used


# ---------------------------------------------------------------------------------------
# Reading records
# ---------------------------------------------------------------------------------------

# Line breaks, tabs and other control characters (C0, DEL, C1) belong to no registry item.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, cells); blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if any(cells):
                yield start, cells
    except csv.Error:
        raise CsvError(
            'CSV の形式が正しくありません (引用符 " の対応を確かめてください)。',
            row=reader.line_num,
        ) from None


def _header_key(cell: str) -> str:
    return "".join(unicodedata.normalize("NFKC", cell).split())


def _header(
    cells: Sequence[str], columns: Sequence[Column], required: Iterable[str]
) -> list[Column]:
    """The columns in file order. Headers match the Japanese label or the English id (width
    and spaces ignored). An unknown header is refused by position, not by its text: a file
    without a header row would otherwise put personal data into the message."""
    by_key = {_header_key(c.label): c for c in columns} | {c.name.upper(): c for c in columns}
    found: list[Column] = []
    for position, cell in enumerate(cells, 1):
        key = _header_key(cell)
        column = by_key.get(key) or by_key.get(key.upper())
        if column is None:
            raise CsvError(
                f"見出しの {position} 列目は定義にない項目です"
                " (見出し行があるか確かめてください)。",
                row=1,
            )
        if column in found:
            raise CsvError("見出しが重複しています。", row=1, column=column.label)
        found.append(column)
    for name in required:
        column = next(c for c in columns if c.name == name)
        if column not in found:
            raise CsvError("見出しにこの列がありません。", row=1, column=column.label)
    return found


@dataclass(frozen=True)
class _Record:
    row: int
    cells: dict[str, str]  # column name → raw cell ("" when the column is absent)
    problems: tuple[RowProblem, ...]
    refused: frozenset[str]  # columns whose cell is already reported in ``problems``


def _table(text: str, columns: Sequence[Column], required: Iterable[str]) -> Iterator[_Record]:
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise CsvError("見出し行がありません (空のファイルです)。")
    if first[0] != 1:
        raise CsvError("1行目は見出し行にしてください。", row=1)
    header = _header(first[1], columns, required)
    for row, cells in records:
        problems: list[RowProblem] = []
        if len(cells) != len(header):
            problems.append(
                RowProblem(
                    row,
                    "",
                    f"列の数が見出しと合いません"
                    f" (見出し {len(header)} 列、この行 {len(cells)} 列)。",
                )
            )
        values = {c.name: "" for c in columns}
        refused = set()
        for column, cell in zip(header, cells, strict=False):
            if _CONTROL.search(cell):
                problems.append(
                    RowProblem(row, column.label, "改行・タブなどの制御文字は使えません。")
                )
                refused.add(column.name)
                continue
            values[column.name] = cell
        yield _Record(row, values, tuple(problems), frozenset(refused))


# ---------------------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------------------


class _Bad(ValueError):
    """A cell that cannot be read; the reason is Japanese and names no value."""


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPACES = " \u3000"


def _fold(cell: str) -> str:
    """Numbers and codes: full-width digits and letters as ASCII, no surrounding spaces."""
    return unicodedata.normalize("NFKC", cell).strip()


def parse_date(cell: str) -> date:
    """ISO (YYYY-MM-DD) or 和暦 (令和8年11月20日, R8.11.20), full-width digits accepted."""
    text = _fold(cell)
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _Bad("存在しない日付です。") from None
    try:
        return parse_wareki(text)
    except ValueError:
        # parse_wareki's own message quotes the input: not passed on.
        raise _Bad(
            "日付は YYYY-MM-DD (例: 2026-11-20) または和暦 (例: 令和8年11月20日)"
            " で入力してください。"
        ) from None


def _is_private_use(text: str) -> bool:
    return any(unicodedata.category(ch) == "Co" for ch in text)


def _text(cell: str) -> str | None:
    text = cell.strip(_SPACES + "\t")
    if not text:
        return None
    if _is_private_use(text):
        raise _Bad("外字 (私用領域の文字) は取り込めません。標準の文字に置き換えてください。")
    return jaconv.h2z(text, kana=True, ascii=False, digit=False)


def _kana(cell: str) -> str | None:
    text = _text(cell)
    if text is None:
        return None
    text = jaconv.hira2kata(text)
    if any(not ("\u30a0" <= ch <= "\u30ff" or ch in _SPACES) for ch in text):
        raise _Bad("フリガナはカタカナで入力してください。")
    return text


def _digits(cell: str, sizes: range, what: str) -> str | None:
    text = _fold(cell)
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) in sizes):
        span = f"{sizes.start}" if len(sizes) == 1 else f"{sizes.start}〜{sizes.stop - 1}"
        raise _Bad(f"{what}は半角数字{span}桁で入力してください。")
    return text


def _sex(cell: str) -> int | None:
    text = _fold(cell)
    if not text:
        return None
    value = {"1": 1, "2": 2, "男": 1, "女": 2}.get(text)
    if value is None:
        raise _Bad("性別は 1 (男) または 2 (女) で入力してください。")
    return value


def _relationship(cell: str) -> str | None:
    text = _fold(cell)
    if not text:
        return None
    try:
        rules.check_relationship(text)
        return text
    except DomainError:
        pass
    try:
        # NFKC turned full-width brackets into ASCII; parse_relationship takes both.
        return rules.parse_relationship(text)
    except DomainError as e:
        raise _Bad(e.message) from None


def _foreign_class(cell: str) -> str | None:
    text = _fold(cell)
    if not text:
        return None
    for klass in rules.ForeignResidentClass:
        if text in (klass.value, klass.label):
            return klass.value
    raise _Bad("外国人住民区分は 中長期在留者・特別永住者 などの区分名で入力してください。")


def _lot(cell: str) -> str | None:
    # Only looked up in the address master, which folds width the same way
    # (queries.find_address); folding here lets rows of one household compare equal.
    return _text(_fold(cell))


def _upper_code(cell: str) -> str | None:
    text = _fold(cell).upper()
    return text or None


# ---------------------------------------------------------------------------------------
# The bulk 異動 file
# ---------------------------------------------------------------------------------------


class _Kind(StrEnum):
    MOVE_IN = "転入"
    MOVE_IN_FROM_ABROAD = "国外転入"
    MOVE_WITHIN = "転居"
    DEATH = "死亡"


_KIND_ALIASES = {
    "move_in": _Kind.MOVE_IN,
    "move_in_from_abroad": _Kind.MOVE_IN_FROM_ABROAD,
    "move_within": _Kind.MOVE_WITHIN,
    "death": _Kind.DEATH,
} | {k.value: k for k in _Kind}

# Items of a person moving in that only some persons have (戸籍の表示, 法第30条の45).
_OPTIONAL_PERSON = (
    "registered_domicile",
    "family_register_head",
    "nationality",
    "foreign_resident_class",
    "residence_status",
    "residence_period",
    "residence_expires_on",
    "residence_card_no",
)
_MOVE_IN_GROUP = (
    "effective_on",
    "notified_on",
    "town_area_code",
    "lot",
    "building",
    "moved_in_from",
    "moved_in_from_local_government_code",
)
_MOVE_WITHIN_GROUP = ("effective_on", "notified_on", "town_area_code", "lot", "building")

# Columns each kind reads (True: required). A value in any other column is refused, so a
# row filled for the wrong kind is caught rather than half-read.
_USES: dict[_Kind, dict[str, bool]] = {
    _Kind.MOVE_IN: {
        "group": False,
        "effective_on": True,
        "notified_on": True,
        "town_area_code": True,
        "lot": True,
        "building": False,
        "moved_in_from": True,
        "moved_in_from_local_government_code": False,
        "name": True,
        "name_kana": True,
        "birth_date": True,
        "sex": True,
        "relationship": True,
        "applicant": True,
        "identity_documents": True,
        "power_of_attorney": False,
    }
    | {c: False for c in _OPTIONAL_PERSON},
    _Kind.MOVE_WITHIN: {
        "group": False,
        "addressee_no": True,
        "effective_on": True,
        "notified_on": True,
        "town_area_code": True,
        "lot": True,
        "building": False,
        "relationship": False,
        "applicant": True,
        "identity_documents": True,
        "power_of_attorney": False,
    },
    _Kind.DEATH: {"addressee_no": True, "effective_on": True, "notified_on": False},
}
_USES[_Kind.MOVE_IN_FROM_ABROAD] = _USES[_Kind.MOVE_IN]


def _optional_date(cell: str) -> date | None:
    return parse_date(cell) if _fold(cell) else None


def _addressee_no(cell: str) -> int | None:
    digits = _digits(cell, range(1, 16), "宛名番号")
    if digits is None:
        return None
    if int(digits) == 0:
        raise _Bad("宛名番号に 0 はありません。")
    return int(digits)


_APPLICANTS = {
    "本人": ApplicantKind.SELF,
    "同一世帯": ApplicantKind.HOUSEHOLD_MEMBER,
    "同一世帯の者": ApplicantKind.HOUSEHOLD_MEMBER,
    "代理人": ApplicantKind.AGENT,
} | {k.value: k for k in ApplicantKind}
_DOCUMENTS = {label: doc for doc, label in IDENTITY_DOCUMENT_LABELS.items()} | {
    d.value: d for d in IdentityDocument
}


def _applicant(cell: str) -> ApplicantKind | None:
    text = _fold(cell)
    if not text:
        return None
    if text not in _APPLICANTS:
        raise _Bad("届出人は 本人・同一世帯・代理人 のいずれかで入力してください。")
    return _APPLICANTS[text]


def _documents(cell: str) -> tuple[IdentityDocument, ...] | None:
    parts = [p for p in re.split(r"[・;；,、]", _fold(cell)) if p]
    if not parts:
        return None
    unknown = [p for p in parts if p not in _DOCUMENTS]
    if unknown:
        raise _Bad("本人確認書類の種類が正しくありません (例: 個人番号カード)。")
    return tuple(_DOCUMENTS[p] for p in parts)


def _yes_no(cell: str) -> bool | None:
    text = _fold(cell)
    if not text:
        return None
    if text in ("有", "あり", "1", "true", "TRUE"):
        return True
    if text in ("無", "なし", "0", "false", "FALSE"):
        return False
    raise _Bad("有 または 無 で入力してください。")


_READERS: dict[str, Callable[[str], object]] = {
    "addressee_no": _addressee_no,
    "effective_on": _optional_date,
    "notified_on": _optional_date,
    "town_area_code": lambda c: _digits(c, range(6, 7), "町字コード"),
    "lot": _lot,
    "building": _text,
    "moved_in_from": _text,
    "moved_in_from_local_government_code": lambda c: _digits(c, range(6, 7), "地方公共団体コード"),
    "name": _text,
    "name_kana": _kana,
    "birth_date": _optional_date,
    "sex": _sex,
    "relationship": _relationship,
    "registered_domicile": _text,
    "family_register_head": _text,
    "nationality": _upper_code,
    "foreign_resident_class": _foreign_class,
    "residence_status": _text,
    "residence_period": _text,
    "residence_expires_on": _optional_date,
    "residence_card_no": _upper_code,
    "applicant": _applicant,
    "identity_documents": _documents,
    "power_of_attorney": _yes_no,
}


@dataclass
class _Line:
    row: int
    kind: _Kind | None
    group: str | None
    values: dict[str, Any]
    problems: list[RowProblem]


def _line(record: _Record) -> _Line:
    problems = list(record.problems)
    cells = record.cells
    # The key is read whatever else is wrong with the row: a bad row must still take its
    # group down with it, or the rest of the household would be entered without it.
    try:
        group = None if "group" in record.refused else _text(cells["group"])
    except _Bad as e:
        group = None
        problems.append(RowProblem(record.row, _label("group"), str(e)))
    kind_text = _fold(cells["kind"])
    kind = _KIND_ALIASES.get(kind_text) or _KIND_ALIASES.get(kind_text.lower())
    if kind is None and "kind" in record.refused:
        return _Line(record.row, None, group, {}, problems)
    if kind is None:
        problems.append(
            RowProblem(
                record.row,
                _label("kind"),
                "異動区分は 転入・国外転入・転居・死亡 のいずれかで入力してください。"
                if kind_text
                else "必須項目です。",
            )
        )
        return _Line(record.row, None, group, {}, problems)
    uses = _USES[kind]
    values: dict[str, Any] = {}
    for column in BULK_COLUMNS[2:]:
        cell = cells[column.name]
        if column.name in record.refused:
            continue
        if column.name not in uses:
            if cell.strip(_SPACES):
                problems.append(
                    RowProblem(
                        record.row,
                        column.label,
                        f"{kind.value}では使わない項目です。空欄にしてください。",
                    )
                )
            continue
        try:
            value = _READERS[column.name](cell)
        except _Bad as e:
            problems.append(RowProblem(record.row, column.label, str(e)))
            continue
        if value is None and uses[column.name]:
            problems.append(RowProblem(record.row, column.label, "必須項目です。"))
        values[column.name] = value
    if group is not None and "group" not in uses:
        problems.append(
            RowProblem(
                record.row,
                _label("group"),
                f"{kind.value}では使わない項目です。空欄にしてください。",
            )
        )
        group = None
    return _Line(record.row, kind, group, values, problems)


def _person(v: Mapping[str, Any]) -> NewPerson:
    foreign = v.get("nationality") is not None
    return NewPerson(
        name=v["name"],
        name_kana=v["name_kana"],
        birth_date=v["birth_date"],
        sex=v["sex"],
        relationship=v["relationship"],
        registered_domicile=v.get("registered_domicile"),
        family_register_head=v.get("family_register_head"),
        foreign_resident=foreign,
        nationality=v.get("nationality"),
        foreign_resident_class=v.get("foreign_resident_class"),
        residence_status=v.get("residence_status"),
        residence_period=v.get("residence_period"),
        residence_expires_on=v.get("residence_expires_on"),
        residence_card_no=v.get("residence_card_no"),
    )


# Placeholders for what only the database knows (see the module docstring).
_UNRESOLVED_ADDRESS = 0
_UNRESOLVED_RESIDENT = uuid.UUID(int=0)


def _check_group(lines: Sequence[_Line]) -> None:
    """Rows of one 世帯キー describe one 異動: same kind and the same 異動-level values."""
    first = lines[0]
    for line in lines[1:]:
        if line.kind is not first.kind:
            line.problems.append(
                RowProblem(
                    line.row,
                    _label("kind"),
                    f"同じ世帯キーの最初の行 ({first.row}行目) と異動区分が異なります。",
                )
            )
    if first.kind is None:
        return
    # 死亡 rows take no 世帯キー (_line refuses one), so a group is a 転入 or a 転居.
    shared = _MOVE_WITHIN_GROUP if first.kind is _Kind.MOVE_WITHIN else _MOVE_IN_GROUP
    for line in lines[1:]:
        if line.kind is not first.kind:
            continue
        for name in shared:
            if (
                name in first.values
                and name in line.values
                and line.values[name] != first.values[name]
            ):
                line.problems.append(
                    RowProblem(
                        line.row,
                        _label(name),
                        f"同じ世帯キーの最初の行 ({first.row}行目) と値が異なります。",
                    )
                )
    lines = [line for line in lines if line.kind is first.kind]
    if first.kind is _Kind.MOVE_WITHIN:
        given = [line.values.get("relationship") is not None for line in lines]
        if any(given) and not all(given):
            for line, has in zip(lines, given, strict=True):
                if not has:
                    line.problems.append(
                        RowProblem(
                            line.row,
                            _label("relationship"),
                            "同じ世帯キーの行は、続柄をすべて入力するか、すべて空欄にしてください。",
                        )
                    )
        seen: dict[int, int] = {}
        for line in lines:
            number = line.values.get("addressee_no")
            if number is None:
                continue
            if number in seen:
                line.problems.append(
                    RowProblem(
                        line.row,
                        _label("addressee_no"),
                        f"同じ宛名番号が {seen[number]}行目にもあります。",
                    )
                )
            else:
                seen[number] = line.row


def _parsed(lines: Sequence[_Line]) -> ParsedRow:
    rows = tuple(line.row for line in lines)
    problems = [p for line in lines for p in line.problems]
    if problems:
        first_bad = min(p.row for p in problems)
        for line in lines:
            if not line.problems:
                problems.append(
                    RowProblem(
                        line.row,
                        "",
                        f"同じ世帯キーの {first_bad}行目に誤りがあるため、この行も取り込みません。",
                    )
                )
        return ParsedRow(rows, None, problems=tuple(sorted(problems, key=lambda p: p.row)))
    first = lines[0]
    v = first.values
    if first.kind in (_Kind.MOVE_IN, _Kind.MOVE_IN_FROM_ABROAD):
        move_in = MoveIn(
            persons=tuple(_person(line.values) for line in lines),
            address_id=_UNRESOLVED_ADDRESS,
            building=v.get("building"),
            effective_on=v["effective_on"],
            notified_on=v["notified_on"],
            moved_in_from=v["moved_in_from"],
            moved_in_from_local_government_code=v.get("moved_in_from_local_government_code"),
            from_abroad=first.kind is _Kind.MOVE_IN_FROM_ABROAD,
            # The layout's contract (docs/registry-csv.md): a 転入 row is a notice whose
            # 転出証明書 the counter received; rows without one do not belong in a bulk file.
            move_out_certificate=True,
            identification=Identification(
                applicant=v["applicant"],
                documents=v["identity_documents"],
                power_of_attorney=bool(v.get("power_of_attorney")),
            ),
        )
        return ParsedRow(
            rows, move_in, town_area_code=v["town_area_code"], lot=v["lot"], columns=FIELD_COLUMNS
        )
    numbers = tuple(line.values["addressee_no"] for line in lines)
    if first.kind is _Kind.MOVE_WITHIN:
        relationships = tuple(line.values.get("relationship") for line in lines)
        move = MoveWithin(
            resident_ids=(),
            address_id=_UNRESOLVED_ADDRESS,
            building=v.get("building"),
            effective_on=v["effective_on"],
            notified_on=v["notified_on"],
            identification=Identification(
                applicant=v["applicant"],
                documents=v["identity_documents"],
                power_of_attorney=bool(v.get("power_of_attorney")),
            ),
        )
        return ParsedRow(
            rows,
            move,
            town_area_code=v["town_area_code"],
            lot=v["lot"],
            addressee_nos=numbers,
            relationships=(
                None if relationships[0] is None else tuple(str(r) for r in relationships)
            ),
            columns=FIELD_COLUMNS,
        )
    death = Death(
        resident_id=_UNRESOLVED_RESIDENT,
        died_on=v["effective_on"],
        notified_on=v.get("notified_on"),
    )
    return ParsedRow(rows, death, addressee_nos=numbers, columns=FIELD_COLUMNS)


def read_bulk_changes(
    data: bytes, encoding: Encoding | None = None
) -> tuple[list[ParsedRow], Encoding]:
    """Parse a bulk 異動 file into one ``ParsedRow`` per 異動 (rows sharing a 世帯キー are
    one), in the order of their first row, and the encoding read. Row problems are carried
    in the rows; a file that cannot be read at all raises ``CsvError``."""
    text, used = decode(data, encoding)
    lines = [_line(r) for r in _table(text, BULK_COLUMNS, ("kind", "effective_on"))]
    groups: dict[str, list[_Line]] = {}
    changes: list[list[_Line]] = []
    for line in lines:
        if line.group is None:
            changes.append([line])
        elif line.group in groups:
            groups[line.group].append(line)
        else:
            groups[line.group] = [line]
            changes.append(groups[line.group])
    for group in changes:
        if len(group) > 1:
            _check_group(group)
    return [_parsed(group) for group in changes], used


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


class CsvWriter:
    """One layout onto a binary stream, row by row (an export of a whole town never sits
    in memory). Header first; CRLF line ends (RFC 4180); UTF-8 with a BOM unless
    ``bom=False``. A cell the encoding cannot hold as it is, or one with a line break or
    other control character, is refused with its row and column."""

    def __init__(
        self, out: BinaryIO, columns: Sequence[Column], encoding: Encoding, *, bom: bool = True
    ) -> None:
        self._out = out
        self._columns = tuple(columns)
        self._encoding = encoding
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self.rows = 0  # data rows written
        if encoding is Encoding.UTF8 and bom:
            out.write(codecs.BOM_UTF8)
        self._emit(1, [c.label for c in self._columns])

    def write(self, cells: Sequence[str]) -> None:
        if len(cells) != len(self._columns):
            raise ValueError("cells do not match the layout")
        self._emit(self.rows + 2, cells)
        self.rows += 1

    def _emit(self, row: int, cells: Sequence[str]) -> None:
        for column, cell in zip(self._columns, cells, strict=True):
            if _CONTROL.search(cell):
                raise CsvError(
                    "改行・タブなどの制御文字は出力できません。", row=row, column=column.label
                )
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        line = self._buffer.getvalue()
        try:
            encoded = line.encode(self._encoding.value)
        except UnicodeEncodeError:
            raise self._unencodable(row, cells) from None
        # CP932 maps some characters onto another one's bytes (‖ U+2016 is written as
        # ∥ U+2225, the NEC and IBM duplicates share codes): read back, the file would
        # hold a different character, so those are refused like unencodable ones.
        if self._encoding is Encoding.CP932 and encoded.decode(self._encoding.value) != line:
            raise self._unencodable(row, cells)
        self._out.write(encoded)

    def _fits(self, cell: str) -> bool:
        try:
            return cell.encode(self._encoding.value).decode(self._encoding.value) == cell
        except UnicodeEncodeError:
            return False

    def _unencodable(self, row: int, cells: Sequence[str]) -> CsvError:
        column = next(
            (c for c, cell in zip(self._columns, cells, strict=True) if not self._fits(cell)),
            self._columns[0],
        )
        if self._encoding is Encoding.CP932:
            message = "CP932 (Shift_JIS) で表せない文字があります。UTF-8 で出力してください。"
        else:
            message = "UTF-8 で表せない文字 (孤立サロゲート) があります。"
        return CsvError(message, row=row, column=column.label)


def _relationship_label(code: str) -> str:
    # A legacy code the rules do not know is written as stored rather than dropped.
    try:
        return rules.relationship_label(code)
    except DomainError:
        return code


def _export_cells(r: ExportRow) -> list[str]:
    return [
        f"{r.addressee_no:015d}",
        f"{r.household_no:015d}",
        r.name,
        r.name_kana,
        r.alias_name or "",
        r.birth_date.isoformat(),
        r.birth_date_precision,
        str(r.sex),
        _relationship_label(r.relationship),
        r.postal_code,
        r.town_area_code,
        r.town_area_name,
        r.lot,
        r.building or "",
        r.became_resident_on.isoformat(),
        r.address_set_on.isoformat(),
        "1" if r.foreign_resident else "0",
        r.nationality or "",
    ]


def write_export(
    rows: Iterable[ExportRow], out: BinaryIO, encoding: Encoding, *, bom: bool = True
) -> int:
    """Write the export layout; the number of residents written."""
    writer = CsvWriter(out, EXPORT_COLUMNS, encoding, bom=bom)
    for r in rows:
        writer.write(_export_cells(r))
    return writer.rows


def write_report(
    problems: Iterable[RowProblem], out: BinaryIO, encoding: Encoding, *, bom: bool = True
) -> int:
    """The error report of a bulk load: one line per problem (行, 項目, 理由)."""
    writer = CsvWriter(out, REPORT_COLUMNS, encoding, bom=bom)
    for p in problems:
        writer.write([str(p.row), p.column, p.reason])
    return writer.rows


# ---------------------------------------------------------------------------------------
# Reading what we wrote (tests, re-imports, checking a file before it is handed over)
# ---------------------------------------------------------------------------------------


class _Cells:
    """One record of a layout we wrote ourselves: any problem refuses the file, naming
    the row and the column."""

    def __init__(self, record: _Record, columns: Mapping[str, Column]) -> None:
        if record.problems:
            p = record.problems[0]
            raise CsvError(p.reason, row=p.row, column=p.column or None)
        self._record = record
        self._columns = columns

    def _refuse(self, name: str, reason: str) -> CsvError:
        return CsvError(reason, row=self._record.row, column=self._columns[name].label)

    def text(self, name: str) -> str:
        value = self._record.cells[name]
        if value == "":
            raise self._refuse(name, "必須項目です。")
        return value

    def optional(self, name: str) -> str | None:
        return self._record.cells[name] or None

    def parsed(self, name: str, read: Callable[[str], T]) -> T:
        try:
            return read(self.text(name))
        except (_Bad, ValueError, KeyError):
            raise self._refuse(name, "値の形式が正しくありません。") from None


def _number(cell: str) -> int:
    if not (cell.isascii() and cell.isdigit()):
        raise ValueError("not a number")
    return int(cell)


def _relationship_code(cell: str) -> str:
    code = _relationship(cell)
    if code is None:
        raise ValueError("empty")
    return code


_FLAG = {"0": False, "1": True}


def read_export(data: bytes, encoding: Encoding | None = None) -> list[ExportRow]:
    """Read a file in the export layout back, exactly as written (no normalisation)."""
    text, _ = decode(data, encoding)
    out: list[ExportRow] = []
    for record in _table(text, EXPORT_COLUMNS, _EXPORT):
        c = _Cells(record, _EXPORT)
        out.append(
            ExportRow(
                addressee_no=c.parsed("addressee_no", _number),
                household_no=c.parsed("household_no", _number),
                name=c.text("name"),
                name_kana=c.text("name_kana"),
                alias_name=c.optional("alias_name"),
                birth_date=c.parsed("birth_date", date.fromisoformat),
                birth_date_precision=c.text("birth_date_precision"),
                sex=c.parsed("sex", _number),
                relationship=c.parsed("relationship", _relationship_code),
                postal_code=c.text("postal_code"),
                town_area_code=c.text("town_area_code"),
                town_area_name=c.text("town_area_name"),
                lot=c.text("lot"),
                building=c.optional("building"),
                became_resident_on=c.parsed("became_resident_on", date.fromisoformat),
                address_set_on=c.parsed("address_set_on", date.fromisoformat),
                foreign_resident=c.parsed("foreign_resident", _FLAG.__getitem__),
                nationality=c.optional("nationality"),
            )
        )
    return out


_REPORT = {c.name: c for c in REPORT_COLUMNS}


def read_report(data: bytes, encoding: Encoding | None = None) -> list[RowProblem]:
    """Read an error report back (行, 項目, 理由)."""
    text, _ = decode(data, encoding)
    out = []
    for record in _table(text, REPORT_COLUMNS, _REPORT):
        c = _Cells(record, _REPORT)
        problem = RowProblem(c.parsed("row", _number), c.optional("column") or "", c.text("reason"))
        out.append(problem)
    return out
