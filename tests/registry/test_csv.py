"""CSV import/export of the registry (issue: 住民基本台帳, item 8; docs/registry-csv.md):
the layouts and encodings (machi.registry.csvio, pure), the bulk 異動 load through the
single-change commands (services.bulk_changes) and the export of current residents
(queries.export_residents, DISP-03: never a 個人番号). Every name, number and address is
fictitious."""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, table
from typer.testing import CliRunner

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.core.numbers import individual_number_check_digit
from machi.privacy import access, vault
from machi.privacy.access import PermissionDenied
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.privacy.services import load_roles
from machi.registry import cli as registry_cli
from machi.registry import csvio, queries, rules, services
from machi.registry.csvio import BULK_COLUMNS, CsvError, CsvWriter, Encoding
from machi.registry.models import Address, Resident, ResidentVersion, TownArea
from machi.registry.queries import ExportRow
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from machi.registry.services import (
    BulkExportRequest,
    Death,
    Decision,
    MoveIn,
    MoveWithin,
    NewPerson,
    ParsedRow,
)
from support import assert_access, enrol

ROOT = Path(__file__).resolve().parents[2]
TOWN = "000101"
SUPERVISOR = Actor(
    user_id=uuid.UUID(int=801),
    login_name="supervisor",
    terminal="T-08",
    affair="juki",
    grants=frozenset({("registry_supervisor", "juki")}),
    permissions=frozenset({Permission.REGISTRY_BULK_LOAD, Permission.REGISTRY_RECORD_CHANGE}),
)
CLERK = Actor(
    user_id=uuid.UUID(int=802),
    login_name="clerk",
    terminal="T-09",
    affair="juki",
    permissions=frozenset({Permission.REGISTRY_RECORD_CHANGE}),
)
COUNTED = (
    "registry.household",
    "registry.resident",
    "registry.resident_version",
    "privacy.audit_log",
    "core.outbox",
)
HEADER = [c.label for c in BULK_COLUMNS]


# -- helpers ------------------------------------------------------------------------------


def bulk_file(
    rows: list[dict[str, str]], encoding: Encoding = Encoding.UTF8, *, bom: bool = True
) -> bytes:
    """A bulk 異動 file with every column, cells given by Japanese label."""
    buffer = io.BytesIO()
    writer = CsvWriter(buffer, BULK_COLUMNS, encoding, bom=bom)
    for row in rows:
        unknown = set(row) - set(HEADER)
        assert not unknown, unknown
        writer.write([row.get(label, "") for label in HEADER])
    return buffer.getvalue()


# 届出人 and 本人確認書類 of a notice (REG-CTRL-01): 転入 and 転居 rows carry them.
CHECKED = {"届出人": "本人", "本人確認書類": "個人番号カード"}


def move_in_row(name: str = "架空 太郎", **cells: str) -> dict[str, str]:
    row = {
        "異動区分": "転入",
        "異動日": "2026-11-20",
        "届出日": "2026-11-25",
        "町字コード": TOWN,
        "番地": "2番地",
        "転入前住所": "架空県架空市中町1番地",
        "転入前住所の地方公共団体コード": "999989",
        "氏名": name,
        "氏名フリガナ": "カクウ タロウ",
        "生年月日": "1980-04-01",
        "性別": "1",
        "続柄": "世帯主",
        "本籍": "架空県架空市本町1番地",
        "届出人": "本人",
        "本人確認書類": "個人番号カード",
    }
    row.update(cells)
    return row


def parse(data: bytes, encoding: Encoding | None = None) -> list[ParsedRow]:
    rows, _ = csvio.read_bulk_changes(data, encoding)
    return rows


def only(data: bytes) -> ParsedRow:
    (row,) = parse(data)
    return row


def reasons(rows: list[ParsedRow]) -> str:
    return " ".join(p.reason for r in rows for p in r.problems)


def footprint(rt: Runtime) -> dict[str, int]:
    with rt.uow() as uow:
        return {
            name: uow.session.scalar(
                select(func.count()).select_from(
                    table(name.split(".")[1], schema=name.split(".")[0])
                )
            )
            or 0
            for name in COUNTED
        }


def audit_rows(rt: Runtime, after: int = 0) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
            )
        )


def last_audit_id(rt: Runtime) -> int:
    with rt.uow() as uow:
        return uow.session.scalar(select(func.max(AuditEntry.id))) or 0


# -- layouts and encodings (pure) -----------------------------------------------------------


def export_approval(rt: Runtime) -> int:
    """An approved, unused 一括出力 (REG-CTRL-36): asked by one supervisor, approved by
    another."""
    asker = replace(SUPERVISOR, permissions=frozenset({Permission.REGISTRY_EXPORT}))
    approver = replace(
        SUPERVISOR, user_id=uuid.UUID(int=803), permissions=frozenset({Permission.REGISTRY_APPROVE})
    )
    approval = services.request_bulk_export(rt.uow(), asker, BulkExportRequest("照合用の出力"))
    services.approve_request(rt.uow(), approver, Decision(approval))
    return approval


def test_the_same_file_reads_alike_in_utf8_with_and_without_bom_and_in_cp932() -> None:
    rows = [move_in_row(), move_in_row("架空 花子", 世帯キー="A", 続柄="妻", 性別="2")]
    rows.append(move_in_row("架空 次郎", 世帯キー="A", 続柄="子"))
    files = [
        bulk_file(rows, Encoding.UTF8),
        bulk_file(rows, Encoding.UTF8, bom=False),
        bulk_file(rows, Encoding.CP932),
    ]
    assert files[0].startswith(b"\xef\xbb\xbf") and not files[1].startswith(b"\xef\xbb\xbf")
    read = [csvio.read_bulk_changes(f) for f in files]
    assert [enc for _, enc in read] == [Encoding.UTF8, Encoding.UTF8, Encoding.CP932]
    assert read[0][0] == read[1][0] == read[2][0]
    single, household = read[0][0]
    assert single.rows == (2,) and household.rows == (3, 4)
    assert isinstance(household.command, MoveIn)
    assert [p.relationship for p in household.command.persons] == ["wife", "child"]
    assert household.town_area_code == TOWN and household.lot == "2番地"
    # An explicit encoding reads the same.
    assert parse(files[2], Encoding.CP932) == read[2][0]


def test_encodings_other_than_utf8_and_cp932_are_refused_with_a_clear_message() -> None:
    text = "\r\n".join([",".join(HEADER), ",".join(move_in_row().get(h, "") for h in HEADER)])
    for data in (text.encode("utf-16"), text.encode("utf-32")):
        with pytest.raises(CsvError, match="UTF-16/UTF-32"):
            parse(data)
    # EUC-JP text where CP932 cannot read it either (0xFF is no byte of either).
    with pytest.raises(CsvError, match="文字コードを判別できません"):
        parse(text.encode("utf-8") + b"\xff\xfe\xff")
    with pytest.raises(CsvError, match="cp932 は指定できません"):
        parse(bulk_file([move_in_row()]), Encoding.CP932)
    cp932 = "kind,effective_on,addressee_no\r\n死亡,2026-11-22,1\r\n".encode("cp932")
    with pytest.raises(CsvError) as info:
        parse(cp932, Encoding.UTF8)
    assert info.value.row == 2  # where the undecodable bytes are
    assert "死亡" not in info.value.message
    with pytest.raises(CsvError, match="見出し行がありません"):
        parse(b"")


def test_header_problems_refuse_the_file_without_quoting_it() -> None:
    data = bulk_file([move_in_row()]).decode("utf-8-sig")
    no_date = data.replace("異動日,", "", 1).replace("2026-11-20,", "", 1).encode("utf-8")
    with pytest.raises(CsvError) as info:
        parse(no_date)
    assert info.value.column == "異動日" and info.value.row == 1
    # A file without a header row: its first data row is refused by position only.
    headless = "\r\n".join(data.splitlines()[1:]).encode("utf-8")
    with pytest.raises(CsvError) as info:
        parse(headless)
    assert "1 列目" in info.value.message and "転入" not in info.value.message
    doubled = data.replace("氏名,", "氏名,氏名,", 1).encode("utf-8")
    with pytest.raises(CsvError, match="重複"):
        parse(doubled)
    # Headers may be the English ids, in any order, with optional columns left out.
    english = "kind,effective_on,addressee_no,notified_on\r\n死亡,2026-11-28,123,\r\n"
    (death,) = parse(english.encode("utf-8"))
    assert isinstance(death.command, Death) and death.addressee_nos == (123,)


def test_wrong_column_count_is_a_row_error() -> None:
    data = bulk_file([move_in_row()]) + "転入,A,,2026-11-20\r\n".encode()
    good, bad = parse(data)
    assert good.command is not None and not good.problems
    assert bad.command is None and bad.rows == (3,)
    (count, *_) = bad.problems
    assert count.row == 3 and count.column == ""
    assert "見出し 26 列、この行 4 列" in count.reason


def test_bad_date_missing_value_and_bad_code_name_row_and_column_never_the_value() -> None:
    rows = [
        move_in_row(異動日="2026-02-30"),
        move_in_row(生年月日="架空日付XYZ"),
        move_in_row(氏名=""),
        move_in_row(性別="9"),
        move_in_row(町字コード="12A"),
        move_in_row(続柄="祖父"),
        move_in_row(氏名フリガナ="Kakuu Taro"),
    ]
    parsed = parse(bulk_file(rows))
    got = [(p.row, p.column) for r in parsed for p in r.problems]
    assert got == [
        (2, "異動日"),
        (3, "生年月日"),
        (4, "氏名"),
        (5, "性別"),
        (6, "町字コード"),
        (7, "続柄"),
        (8, "氏名フリガナ"),
    ]
    assert all(r.command is None for r in parsed)
    text = reasons(parsed)
    for value in ("2026-02-30", "架空日付XYZ", "12A", "祖父", "Kakuu", "架空"):
        assert value not in text
    assert "必須項目です。" in text and "存在しない日付です。" in text


def test_wareki_and_full_width_are_read_where_the_standard_expects_them() -> None:
    row = move_in_row(
        異動日="令和8年11月20日",
        届出日="R8.11.25",
        生年月日="昭和５５年４月１日",
        町字コード="０００１０１",
        番地="２番地",
        氏名フリガナ="ｶｸｳ ﾀﾛｳ",
        性別="男",
        続柄="子(子の妻)",
        転入前住所="ｶｸｳ県架空市",
    )
    cmd = only(bulk_file([row])).command
    assert isinstance(cmd, MoveIn)
    assert (cmd.effective_on, cmd.notified_on) == (date(2026, 11, 20), date(2026, 11, 25))
    (person,) = cmd.persons
    assert person.birth_date == date(1980, 4, 1)
    assert person.name_kana == "カクウ タロウ" and person.sex == 1
    assert person.relationship == "child_and_child_wife"
    assert cmd.moved_in_from == "カクウ県架空市"
    hiragana = only(bulk_file([move_in_row(氏名フリガナ="かくう たろう")])).command
    assert isinstance(hiragana, MoveIn) and hiragana.persons[0].name_kana == "カクウ タロウ"
    parsed = only(bulk_file([row]))
    assert parsed.town_area_code == TOWN and parsed.lot == "2番地"


def test_kinds_use_their_own_columns() -> None:
    move = {"異動区分": "転居", "宛名番号": "０００１２３", "異動日": "2026-11-21"}
    move |= {"届出日": "2026-11-26", "町字コード": TOWN, "番地": "3番地"} | CHECKED
    rows = [
        move,
        {"異動区分": "死亡", "宛名番号": "124", "異動日": "2026-11-22"},
        {"異動区分": "死亡", "宛名番号": "125", "異動日": "2026-11-22", "氏名": "架空 太郎"},
        move_in_row(宛名番号="126"),
        {"異動区分": "出生", "異動日": "2026-11-22"},
    ]
    moved, died, named, numbered, unknown = parse(bulk_file(rows))
    assert isinstance(moved.command, MoveWithin) and moved.addressee_nos == (123,)
    assert moved.relationships is None and moved.lot == "3番地"
    assert isinstance(died.command, Death) and died.command.notified_on is None
    assert [(p.column, p.reason) for p in named.problems] == [
        ("氏名", "死亡では使わない項目です。空欄にしてください。")
    ]
    assert [p.column for p in numbered.problems] == ["宛名番号"]
    assert [p.column for p in unknown.problems] == ["異動区分"]
    assert "出生" not in unknown.problems[0].reason


def test_a_bad_row_takes_its_whole_household_group_down() -> None:
    rows = [
        move_in_row(世帯キー="A"),
        move_in_row("架空 花子", 世帯キー="A", 続柄="妻", 性別="2", 生年月日="1982-13-01"),
        move_in_row("架空 次郎", 世帯キー="A", 続柄="子", 番地="3番地"),
        move_in_row("架空 三郎", 世帯キー="A", 続柄="子", 異動区分="転居 "),
        move_in_row("架空 四郎", 世帯キー="A", 続柄="子", 異動区分="てんにゅう"),
    ]
    (group,) = parse(bulk_file(rows))
    assert group.command is None and group.rows == (2, 3, 4, 5, 6)
    by_row = {p.row: (p.column, p.reason) for p in group.problems}
    assert by_row[2][0] == "" and "3行目に誤りがある" in by_row[2][1]
    assert by_row[3][0] == "生年月日"
    assert by_row[4] == ("番地", "同じ世帯キーの最初の行 (2行目) と値が異なります。")
    assert by_row[5][0] == "異動区分"
    assert by_row[6][0] == "異動区分"


def test_move_within_group_relationships_all_or_none() -> None:
    base = {"異動区分": "転居", "世帯キー": "B", "異動日": "2026-11-21", "届出日": "2026-11-26",
            "町字コード": TOWN, "番地": "3番地"} | CHECKED  # fmt: skip
    together = only(
        bulk_file(
            [{**base, "宛名番号": "11", "続柄": "世帯主"}, {**base, "宛名番号": "12", "続柄": "妻"}]
        )
    )
    assert together.addressee_nos == (11, 12) and together.relationships == ("head", "wife")
    half = only(
        bulk_file([{**base, "宛名番号": "11", "続柄": "世帯主"}, {**base, "宛名番号": "11"}])
    )
    assert {(p.row, p.column) for p in half.problems} == {(3, "続柄"), (3, "宛名番号"), (2, "")}


def test_private_use_characters_and_control_characters_are_refused() -> None:
    gaiji = only(bulk_file([move_in_row("架空\ue000太郎")]))
    assert [p.column for p in gaiji.problems] == ["氏名"] and "外字" in gaiji.problems[0].reason
    raw = bulk_file([move_in_row()]).decode("utf-8-sig").replace("架空 太郎", '"架空\n太郎"')
    broken = only(raw.encode("utf-8"))
    assert broken.rows == (2,) and [p.column for p in broken.problems] == ["氏名"]
    with pytest.raises(CsvError, match="引用符"):
        parse((",".join(HEADER) + '\r\n転入,"A\r\n').encode("utf-8"))


def test_error_report_round_trips() -> None:
    problems = [
        services.RowProblem(2, "異動日", "存在しない日付です。"),
        services.RowProblem(
            3, "", "同じ世帯キーの 2行目に誤りがあるため、この行も取り込みません。"
        ),
    ]
    for encoding in Encoding:
        buffer = io.BytesIO()
        assert csvio.write_report(problems, buffer, encoding) == 2
        assert csvio.read_report(buffer.getvalue()) == problems
        assert buffer.getvalue().splitlines()[0].endswith("行,項目,理由".encode(encoding.value))


def test_the_documentation_lists_every_column() -> None:
    doc = (ROOT / "docs" / "registry-csv.md").read_text("utf-8")
    for column in (*csvio.EXPORT_COLUMNS, *csvio.BULK_COLUMNS, *csvio.REPORT_COLUMNS):
        assert f"| {column.label} |" in doc and f"`{column.name}`" in doc, column


# -- hypothesis: write → read ------------------------------------------------------------


def _cp932_alphabet() -> list[str]:
    out = []
    for code in range(0x20, 0x10000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cc", "Cs"):
            continue
        try:
            if ch.encode("cp932").decode("cp932") != ch:
                continue  # ‖ and the like come back as another character: refused
        except UnicodeEncodeError:
            continue
        out.append(ch)
    return out


CP932_CHARS = _cp932_alphabet()
CP932_SET = frozenset(CP932_CHARS)
ANY_TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
RELATIONSHIPS = [r.value for r in rules.Relationship] + ["child.child", "child.wife", "wife.mother"]


def export_rows(chars: st.SearchStrategy[str]) -> st.SearchStrategy[ExportRow]:
    text = st.text(chars, min_size=1, max_size=12)
    optional = st.none() | text
    days = st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31))
    return st.builds(
        ExportRow,
        addressee_no=st.integers(1, 10**15 - 1),
        household_no=st.integers(1, 10**15 - 1),
        name=text,
        name_kana=text,
        alias_name=optional,
        birth_date=days,
        birth_date_precision=st.sampled_from(["day", "month", "year", "unknown"]),
        sex=st.sampled_from([1, 2]),
        relationship=st.sampled_from(RELATIONSHIPS),
        postal_code=st.from_regex(r"[0-9]{7}", fullmatch=True),
        town_area_code=st.from_regex(r"[0-9]{6}", fullmatch=True),
        town_area_name=text,
        lot=text,
        building=optional,
        became_resident_on=days,
        address_set_on=days,
        foreign_resident=st.booleans(),
        nationality=st.none() | st.from_regex(r"[A-Z]{2}", fullmatch=True),
    )


def _round_trip(rows: list[ExportRow], encoding: Encoding, bom: bool) -> list[ExportRow]:
    buffer = io.BytesIO()
    assert csvio.write_export(rows, buffer, encoding, bom=bom) == len(rows)
    return csvio.read_export(buffer.getvalue())


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(export_rows(ANY_TEXT), max_size=5), bom=st.booleans())
def test_export_layout_round_trips_in_utf8(rows: list[ExportRow], bom: bool) -> None:
    assert _round_trip(rows, Encoding.UTF8, bom) == rows


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(export_rows(st.sampled_from(CP932_CHARS)), max_size=5))
def test_export_layout_round_trips_in_cp932(rows: list[ExportRow]) -> None:
    assert _round_trip(rows, Encoding.CP932, False) == rows


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(export_rows(st.sampled_from(CP932_CHARS)), min_size=1, max_size=4),
    at=st.data(),
    outside=ANY_TEXT.filter(lambda ch: ch not in CP932_SET),
)
def test_characters_outside_cp932_are_refused_naming_row_and_column(
    rows: list[ExportRow], at: st.DataObject, outside: str
) -> None:
    index = at.draw(st.integers(0, len(rows) - 1))
    field = at.draw(st.sampled_from(["name", "name_kana", "lot", "town_area_name"]))
    name = getattr(rows[index], field) + outside
    rows[index] = replace(rows[index], **{field: name})
    with pytest.raises(CsvError) as info:
        csvio.write_export(rows, io.BytesIO(), Encoding.CP932)
    assert info.value.row == index + 2  # header is row 1
    assert (
        info.value.column
        == csvio.EXPORT_COLUMNS[[c.name for c in csvio.EXPORT_COLUMNS].index(field)].label
    )
    assert outside not in info.value.message and name not in info.value.message
    # The same rows are fine in UTF-8: nothing was replaced on the way.
    assert _round_trip(rows, Encoding.UTF8, True) == rows


# -- through the services (PostgreSQL) ----------------------------------------------------


@pytest.fixture
def town(rt: Runtime) -> dict[str, int]:
    """Address master: 町字 000101 with lots 1–5番地; lot text → address id."""
    with rt.uow() as uow:
        area = TownArea(
            code=TOWN,
            name="架空町",
            name_kana="カクウチョウ",
            postal_code="9990001",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        rows = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in range(1, 6)]
        uow.session.add_all(rows)
        uow.session.flush()
        lots = {a.lot: a.id for a in rows}
        uow.commit()
    return lots


def resident_here(rt: Runtime, town: dict[str, int], name: str, lot: str) -> tuple[uuid.UUID, int]:
    """A single-person household entered at the counter; (resident id, 宛名番号)."""
    person = NewPerson(
        name=name,
        name_kana="カクウ イチロウ",
        birth_date=date(1970, 1, 1),
        sex=1,
        relationship="head",
        registered_domicile="架空県架空市本町1番地",
    )
    cmd = MoveIn(
        persons=(person,),
        address_id=town[lot],
        building=None,
        effective_on=date(2026, 10, 1),
        notified_on=date(2026, 10, 2),
        moved_in_from="架空県他市1番地",
        move_out_certificate=True,
        identification=Identification(
            ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
        ),
    )
    (rid,) = services.move_in(rt.uow(), CLERK, cmd).resident_ids
    with rt.uow() as uow:
        number = uow.session.scalar(select(Resident.addressee_no).where(Resident.id == rid))
    assert number is not None
    return rid, number


def current_names(rt: Runtime) -> set[str]:
    with rt.uow() as uow:
        return set(
            uow.session.scalars(
                select(ResidentVersion.name).where(
                    ResidentVersion.valid_to.is_(None),
                    ResidentVersion.superseded_at.is_(None),
                    ResidentVersion.removed.is_(False),
                )
            )
        )


def test_five_good_rows_apply_three_bad_rows_are_reported_and_change_nothing(
    rt: Runtime, town: dict[str, int]
) -> None:
    mover, mover_no = resident_here(rt, town, "架空 転居", "1番地")
    _dead, dead_no = resident_here(rt, town, "架空 死亡", "1番地")
    rows = [
        move_in_row("架空 世帯主", 世帯キー="A"),  # 2 ┐ one household
        move_in_row("架空 妻", 世帯キー="A", 続柄="妻", 性別="2"),  # 3 ┘
        move_in_row("架空 単身", 番地="3番地"),  # 4
        {"異動区分": "転居", "宛名番号": str(mover_no), "異動日": "2026-11-21",
         "届出日": "2026-11-26", "町字コード": TOWN, "番地": "4番地", **CHECKED},  # 5
        {"異動区分": "死亡", "宛名番号": str(dead_no), "異動日": "2026-11-22",
         "届出日": "2026-11-24"},  # 6
        move_in_row("架空 日付誤り", 異動日="2026-02-30", 番地="5番地"),  # 7: unreadable date
        {"異動区分": "死亡", "宛名番号": "987654321", "異動日": "2026-11-22"},  # 8: unknown
        move_in_row("架空 未来", 異動日="2026-12-05", 届出日="2026-11-30", 番地="5番地"),  # 9
    ]  # fmt: skip
    parsed = parse(bulk_file(rows, Encoding.CP932))
    before = footprint(rt)
    first_audit = last_audit_id(rt)
    progress: list[int] = []

    report = services.bulk_changes(rt.uow(), SUPERVISOR, parsed, on_progress=progress.append)

    assert (report.applied_rows, report.rejected_rows, report.rows) == (5, 3, 8)
    assert (report.applied, report.rejected, report.changes) == (4, 3, 7)
    assert progress == list(range(1, 8))
    assert [(p.row, p.column) for p in report.problems] == [
        (7, "異動日"),
        (8, "宛名番号"),
        (9, "異動日"),
    ]
    assert "未来の日付" in report.problems[2].reason
    text = " ".join(p.reason for p in report.problems)
    for value in ("架空", "987654321", "2026-12-05", "2026-02-30"):
        assert value not in text

    names = current_names(rt)
    assert {"架空 世帯主", "架空 妻", "架空 単身", "架空 転居"} <= names
    assert not names & {"架空 死亡", "架空 日付誤り", "架空 未来"}
    with rt.uow() as uow:
        moved = uow.session.scalar(
            select(ResidentVersion.address_id).where(
                ResidentVersion.resident_id == mover, ResidentVersion.valid_to.is_(None)
            )
        )
    assert moved == town["4番地"]
    # 3 new residents in 2 new households; one history row per person changed (3 entered,
    # 1 moved, 1 died); one audit row and its events per applied 異動, plus the summary.
    after = footprint(rt)
    assert {k: after[k] - before[k] for k in after} == {
        "registry.household": 2,
        "registry.resident": 3,
        "registry.resident_version": 5,
        "privacy.audit_log": 5,
        "core.outbox": 5,
    }
    audits = audit_rows(rt, first_audit)
    assert [a.action for a in audits] == [
        "registry.move_in",
        "registry.move_in",
        "registry.move_within",
        "registry.death",
        "registry.bulk_changes",
    ]
    assert {a.actor_user_id for a in audits} == {SUPERVISOR.user_id}
    summary = audits[-1]
    assert summary.outcome == "ok" and summary.subject_ids == []
    assert summary.detail == {
        "changes": 7,
        "processed": 7,
        "applied": 4,
        "rejected": 3,
        "applied_rows": 5,
        "rejected_rows": 3,
    }


def test_a_household_refused_by_the_rules_is_not_half_entered(
    rt: Runtime, town: dict[str, int]
) -> None:
    rows = [
        move_in_row("架空 一郎", 世帯キー="K"),
        move_in_row("架空 二郎", 世帯キー="K"),  # a second 世帯主: the household is refused
        move_in_row("架空 三郎", 番地="3番地"),
    ]
    before = footprint(rt)
    report = services.bulk_changes(rt.uow(), SUPERVISOR, parse(bulk_file(rows)))
    assert (report.applied_rows, report.rejected_rows) == (1, 2)
    first, second = report.problems
    assert first.row == 2 and first.column in ("続柄", "") and first.reason
    assert second == services.RowProblem(
        3, "", "同じ異動の 2行目が取り込めなかったため、この行も取り込みません。"
    )
    assert not {"架空 一郎", "架空 二郎"} & current_names(rt)
    after = footprint(rt)
    assert after["registry.resident"] - before["registry.resident"] == 1
    assert after["registry.household"] - before["registry.household"] == 1


def test_bulk_changes_needs_record_change_too_and_a_staff_user(
    rt: Runtime, town: dict[str, int]
) -> None:
    rows = parse(bulk_file([move_in_row()]))
    before = footprint(rt)
    load_only = replace(SUPERVISOR, permissions=frozenset({Permission.REGISTRY_BULK_LOAD}))
    with pytest.raises(PermissionDenied):
        services.bulk_changes(rt.uow(), load_only, rows)
    operator = replace(Actor.operator(affair="juki"), permissions=SUPERVISOR.permissions)
    with pytest.raises(PermissionDenied):
        services.bulk_changes(rt.uow(), operator, rows)
    after = footprint(rt)
    assert after["privacy.audit_log"] - before["privacy.audit_log"] == 2  # the two denials
    assert {k: after[k] - before[k] for k in after if k != "privacy.audit_log"} == {
        k: 0 for k in after if k != "privacy.audit_log"
    }


def _numbers(count: int) -> list[str]:
    out = []
    for i in range(count):
        first11 = f"{90000000000 + i * 7919:011d}"
        out.append(first11 + str(individual_number_check_digit(first11)))
    return out


def test_export_round_trips_and_never_carries_an_individual_number(
    rt: Runtime, town: dict[str, int]
) -> None:
    ids = [resident_here(rt, town, f"架空 住民{i}", f"{i}番地")[0] for i in (1, 2, 3)]
    gone, _ = resident_here(rt, town, "架空 故人", "4番地")
    services.death(rt.uow(), CLERK, Death(gone, date(2026, 11, 1)))
    numbers = _numbers(len(ids) + 1)
    with rt.uow() as uow:
        stored = vault.store_first_numbers(
            uow, Actor.operator(), rt.keys, list(zip([*ids, gone], numbers, strict=True))
        )
        uow.commit()
    assert stored == 4
    operator = Actor.operator()
    first_audit = last_audit_id(rt)

    approval = export_approval(rt)
    first_audit = last_audit_id(rt)
    exported = list(queries.export_residents(rt.uow(), operator, approval_id=approval))
    assert sorted(r.name for r in exported) == ["架空 住民1", "架空 住民2", "架空 住民3"]
    assert not [f for f in ExportRow.__dataclass_fields__ if "number" in f]
    assert not [c for c in csvio.EXPORT_COLUMNS if "個人番号" in c.label]
    for encoding in Encoding:
        buffer = io.BytesIO()
        csvio.write_export(exported, buffer, encoding)
        data = buffer.getvalue()
        assert csvio.read_export(data) == exported
        text = data.decode("utf-8-sig" if encoding is Encoding.UTF8 else "cp932")
        assert "個人番号" not in text and "マイナンバー" not in text
        for number in numbers:
            assert number not in text and number not in re.sub(r"\D", "", text)
    (entry,) = [a for a in audit_rows(rt, first_audit) if a.action == "registry.export_residents"]
    assert entry.outcome == "ok" and entry.subject_ids == []
    assert entry.detail == {
        "bulk": True,
        "count": 3,
        "as_of": "2026-11-30",
        "approval_id": approval,
        "as_of_given": 0,
    }
    # As of before the death, the deceased was a resident.
    earlier = list(
        queries.export_residents(
            rt.uow(), operator, approval_id=export_approval(rt), as_of=date(2026, 10, 31)
        )
    )
    assert "架空 故人" in {r.name for r in earlier}


def test_an_export_broken_off_is_audited_as_failed(rt: Runtime, town: dict[str, int]) -> None:
    for i in (1, 2):
        resident_here(rt, town, f"架空 住民{i}", f"{i}番地")
    approval = export_approval(rt)
    first_audit = last_audit_id(rt)
    rows = queries.export_residents(rt.uow(), Actor.operator(), approval_id=approval)
    next(rows)
    rows.close()
    (entry,) = audit_rows(rt, first_audit)
    assert (entry.action, entry.outcome) == ("registry.export_residents", "failed")
    assert entry.detail == {"bulk": True, "count": 1, "as_of_given": 0}


# -- access tables -------------------------------------------------------------------------


def test_bulk_changes_access(rt: Runtime) -> None:
    load_roles(rt.uow(), Actor.operator())
    # The harness's actors have no user id; a 異動 records who made it, so each call lends
    # its actor one. Only the declared permission is the harness's: the pairs holding
    # bulk_load but not record_change in that affair (registry_supervisor@admin) are
    # refused by the second check, with the same single denial row.
    assert_access(
        rt,
        "registry.bulk_changes",
        lambda actor, i: services.bulk_changes(
            rt.uow(), replace(actor, user_id=uuid.UUID(int=2000 + i)), []
        ),
        {("registry_supervisor", "juki")},
    )


def test_export_residents_access(rt: Runtime, town: dict[str, int]) -> None:
    load_roles(rt.uow(), Actor.operator())
    resident_here(rt, town, "架空 住民", "1番地")
    assert_access(
        rt,
        "registry.export_residents",
        lambda actor, _i: list(
            queries.export_residents(
                rt.uow(),
                actor,
                # Made only for an actor who passes, so a refusal writes its denial alone.
                approval_id=export_approval(rt)
                if access.allowed(actor, Permission.REGISTRY_EXPORT)
                else None,
            )
        ),
        {("registry_supervisor", "juki"), ("registry_supervisor", "admin")},
    )
    assert access.allowed(Actor.operator(), Permission.REGISTRY_EXPORT)


# -- the commands --------------------------------------------------------------------------


def test_cli_export_and_bulk_changes(
    rt: Runtime, town: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import machi.cli.common as common

    monkeypatch.setattr(common, "settings", lambda **_: rt.settings)
    monkeypatch.setattr(common, "runtime", lambda _s: rt)
    runner = CliRunner()
    who = enrol(rt, "sv_csv", (("registry_supervisor", "juki"),))
    source = tmp_path / "changes.csv"
    source.write_bytes(bulk_file([move_in_row(), move_in_row("架空 誤り", 生年月日="1980-02-30")]))
    report = tmp_path / "errors.csv"
    answers = f"{who.password}\n{who.totp.at(rt.clock.now())}\n"

    done = runner.invoke(
        registry_cli.app,
        ["bulk-changes", str(source), "--staff", who.login_name, "--report", str(report)],
        input=answers,
    )
    assert done.exit_code == 1, done.output  # one row was not applied
    assert "適用: 1 行" in done.output and "不採用: 1 行" in done.output
    assert csvio.read_report(report.read_bytes()) == [
        services.RowProblem(3, "生年月日", "存在しない日付です。")
    ]
    assert "架空 太郎" in current_names(rt)

    out = tmp_path / "residents.csv"
    # REG-CTRL-36: no export without an approved request, and one export per approval.
    done = runner.invoke(registry_cli.app, ["export", "--out", str(out), "--approval", "999999"])
    assert isinstance(done.exception, DomainError) and not out.exists()
    assert done.exception.code == rules.RegistryError.APPROVAL_REQUIRED  # no such approval
    asker = enrol(rt, "sv_req", (("registry_supervisor", "juki"),))
    done = runner.invoke(
        registry_cli.app,
        ["request-export", "--staff", asker.login_name, "--purpose", "照合用の出力"],
        input=f"{asker.password}\n{asker.totp.at(rt.clock.now())}\n",
    )
    assert done.exit_code == 0, done.output
    approval = int(re.search(r"承認番号: (\d+)", done.output).group(1))  # type: ignore[union-attr]
    approver = replace(
        SUPERVISOR, user_id=uuid.UUID(int=804), permissions=frozenset({Permission.REGISTRY_APPROVE})
    )
    services.approve_request(rt.uow(), approver, Decision(approval))
    export_args = ["export", "--out", str(out), "--encoding", "cp932", "--approval", str(approval)]
    done = runner.invoke(registry_cli.app, export_args)
    assert done.exit_code == 0, done.output
    assert [r.name for r in csvio.read_export(out.read_bytes())] == ["架空 太郎"]
    assert out.stat().st_mode & 0o077 == 0
    # An existing file is never overwritten; bad options are refused before any work.
    used = ["--approval", str(approval)]
    for args in (
        ["export", "--out", str(out), *used],
        ["export", "--out", str(tmp_path / "x.csv"), "--encoding", "latin-1", *used],
        ["export", "--out", str(tmp_path / "x.csv"), "--as-of", "yesterday", *used],
    ):
        done = runner.invoke(registry_cli.app, args)
        assert isinstance(done.exception, common.CommandRefused), args
    done = runner.invoke(registry_cli.app, ["export", "--out", str(tmp_path / "x.csv"), *used])
    assert isinstance(done.exception, DomainError)  # the approval was used
    assert not (tmp_path / "x.csv").exists()
    # A name CP932 cannot hold stops a CP932 export: no file, the read audited as failed.
    resident_here(rt, town, "𠮷野 架空", "5番地")
    first_audit = last_audit_id(rt)
    target = tmp_path / "cp932.csv"
    done = runner.invoke(
        registry_cli.app,
        [
            "export",
            "--out",
            str(target),
            "--encoding",
            "cp932",
            "--approval",
            str(export_approval(rt)),
        ],
    )
    assert isinstance(done.exception, CsvError)
    assert done.exception.column == "氏名" and "𠮷" not in done.exception.message
    assert not target.exists() and not list(tmp_path.glob("*.part"))
    entry = audit_rows(rt, first_audit)[-1]
    assert (entry.action, entry.outcome) == ("registry.export_residents", "failed")


def test_wrong_password_refuses_the_bulk_load(
    rt: Runtime, town: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import machi.cli.common as common

    monkeypatch.setattr(common, "settings", lambda **_: rt.settings)
    monkeypatch.setattr(common, "runtime", lambda _s: rt)
    who = enrol(rt, "sv_csv2", (("registry_supervisor", "juki"),))
    source = tmp_path / "changes.csv"
    source.write_bytes(bulk_file([move_in_row()]))
    done = CliRunner().invoke(
        registry_cli.app,
        ["bulk-changes", str(source), "--staff", who.login_name],
        input="not the password\n",
    )
    assert isinstance(done.exception, DomainError)
    assert "架空 太郎" not in current_names(rt)


def test_move_in_rows_need_the_identity_check_columns() -> None:
    """REG-CTRL-01 in bulk files: 届出人 and 本人確認書類 are required on 転入 and 転居 rows,
    and only document types (never numbers) are accepted."""
    missing = only(bulk_file([move_in_row(届出人="", 本人確認書類="")]))
    assert {p.column for p in missing.problems} == {"届出人", "本人確認書類"}
    unknown = only(bulk_file([move_in_row(本人確認書類="1234-5678")]))
    assert [p.column for p in unknown.problems] == ["本人確認書類"]
    assert "1234-5678" not in reasons([unknown])
    two = only(bulk_file([move_in_row(本人確認書類="資格確認書等・その他の公的書類")]))
    assert two.command is not None and two.problems == ()
    move = {"異動区分": "転居", "宛名番号": "123", "異動日": "2026-11-21", "届出日": "2026-11-26"}
    move |= {"町字コード": TOWN, "番地": "3番地"}
    unchecked = only(bulk_file([move]))
    assert {p.column for p in unchecked.problems} == {"届出人", "本人確認書類"}
    checked = only(bulk_file([move | CHECKED]))
    assert isinstance(checked.command, MoveWithin) and checked.command.identification is not None
