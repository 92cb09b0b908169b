"""``machi registry``: bulk operations on the resident registry, run by an operator: the
import of the synthetic town, the CSV export of current residents (after a 申請 approved by
the 管理責任者, REG-CTRL-36) and the bulk 異動 load (layouts: docs/registry-csv.md)."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from machi.bootstrap import Runtime
from machi.core import database
from machi.privacy import services as privacy
from machi.privacy.actor import Actor
from machi.privacy.permissions import Affair, Permission
from machi.registry import csvio, queries, services
from machi.registry.csvio import Encoding

app = typer.Typer(help="住民基本台帳の一括操作", no_args_is_help=True)
out = Console()

TERMINAL = "cli"
# A bulk 異動 records each change as its own (REGISTRY_RECORD_CHANGE) under the bulk-load
# right; the delegate actor gets these two and nothing else of its principal's set.
BULK_RIGHTS = frozenset({Permission.REGISTRY_BULK_LOAD, Permission.REGISTRY_RECORD_CHANGE})
WRITE_ENCODINGS = {e.value: e for e in Encoding}
READ_ENCODINGS: dict[str, Encoding | None] = {"auto": None, **WRITE_ENCODINGS}
# Problems shown on the terminal when no --report file is asked for.
SHOWN_PROBLEMS = 20


def import_town_with_progress(rt: Runtime) -> services.ImportReport:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} 人"),
        TimeElapsedColumn(),
        console=out,
    ) as progress:
        task = progress.add_task("架空の町を住民基本台帳へ取込み (個人番号を暗号化して保管)")
        report = services.import_town(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            services.TownImport(),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    # Fresh statistics, or the planner guesses on empty tables (seen: sequential scans).
    database.analyze(rt.settings)
    out.print(
        f"取込み完了: 世帯 {report.households:,}、住民 {report.current_residents:,}、"
        f"除票 {report.removed_records:,}、個人番号 {report.individual_numbers:,}"
    )
    return report


@app.command("import-town")
def import_town() -> None:
    """投入済みの架空の町 (synth) を、空の住民基本台帳へ取り込む。"""
    from machi.cli.common import fail, runtime, settings

    rt = runtime(settings())
    if queries.registry_loaded(rt.uow(), Actor.operator()):
        fail("住民基本台帳にはすでに住民がいます。取込みは空の台帳にのみ行えます")
    import_town_with_progress(rt)


# -- export ------------------------------------------------------------------------------


def _counted(
    rows: Iterable[queries.ExportRow], progress: Progress, task: TaskID
) -> Iterator[queries.ExportRow]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % 1_000 == 0:
            progress.update(task, completed=n)


@app.command("export")
def export(
    out_path: Annotated[
        Path, typer.Option("--out", help="出力する CSV ファイル (既にあるファイルには書かない)")
    ],
    approval: Annotated[
        int,
        typer.Option(
            "--approval",
            help="一括出力の承認番号 (request-export で申請し、決裁待ち画面で決裁を受けたもの)",
        ),
    ],
    encoding: Annotated[
        str, typer.Option("--encoding", help="utf-8 (BOM 付き) または cp932")
    ] = "utf-8",
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="基準日 YYYY-MM-DD または和暦 (省略時は業務日付)"),
    ] = None,
) -> None:
    """基準日に住民である者を CSV に出力する (個人番号は出力しない)。

    管理責任者の事前の決裁 (承認番号) が必要で、1つの承認で出力できるのは1回だけ。
    出力は監査ログに一括出力として記録される。"""
    from machi.cli.common import fail, runtime, settings

    chosen = WRITE_ENCODINGS.get(encoding.lower())
    if chosen is None:
        fail("--encoding は utf-8 または cp932 を指定してください")
    on = None
    if as_of is not None:
        try:
            on = csvio.parse_date(as_of)
        except ValueError as e:
            fail(f"--as-of: {e}")
    if out_path.exists():
        fail(f"出力先のファイルが既にあります。別の名前を指定してください: {out_path}")
    if not out_path.parent.is_dir():
        fail(f"出力先のディレクトリがありません: {out_path.parent}")
    part = out_path.with_name(out_path.name + ".part")
    if part.exists():
        fail(f"前回の作業用ファイルが残っています。確認して削除してください: {part}")
    rt = runtime(settings())
    rows = queries.export_residents(rt.uow(), Actor.operator(), approval_id=approval, as_of=on)
    try:
        # Personal data on disk: readable by its owner only, and only under its final
        # name once complete, so a broken run never leaves a file that looks finished.
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with (
            os.fdopen(fd, "wb") as f,
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} 人"),
                TimeElapsedColumn(),
                console=out,
            ) as progress,
        ):
            task = progress.add_task("住民を CSV に出力")
            written = csvio.write_export(_counted(rows, progress, task), f, chosen)
            progress.update(task, completed=written)
        os.replace(part, out_path)
    except BaseException:
        rows.close()  # audits the broken-off read (queries.export_residents)
        part.unlink(missing_ok=True)
        raise
    out.print(f"出力しました: {written:,} 人 → {out_path} ({chosen.value})")
    out.print("電子記録媒体に書き出す場合は、媒体管理簿への記載など所定の手続に従ってください。")


@app.command("request-export")
def request_export(
    staff: Annotated[
        str,
        typer.Option("--staff", help="申請する職員のログインID (パスワードと確認コードを求める)"),
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="一括出力の利用目的")],
) -> None:
    """一括出力を申請する。別の職員 (管理責任者) が決裁待ち画面で決裁すると、
    表示された承認番号で export を1回実行できる。"""
    from machi.cli.common import runtime, settings

    rt = runtime(settings())
    actor, token = _delegate(rt, staff, frozenset({Permission.REGISTRY_EXPORT}))
    try:
        approval_id = services.request_bulk_export(
            rt.uow(), actor, services.BulkExportRequest(purpose=purpose)
        )
    finally:
        privacy.logout(rt.uow(), token=token)
    out.print(
        f"申請しました。承認番号: {approval_id} (決裁待ち画面で管理責任者の決裁を受けてください)"
    )


# -- bulk 異動 ------------------------------------------------------------------------------


def _delegate(rt: Runtime, login_name: str, rights: frozenset[Permission]) -> tuple[Actor, str]:
    """The actor a bulk job runs as (with ``rights`` only), and its session token (to log
    out afterwards).

    Every 異動 records the staff member who made it (``recorded_by``) and the commands
    refuse an actor without one; an operator at the shell has none, and lending it an id
    would put a change on the record under nobody's name. So the 住民記録係長 on whose
    authority the file is loaded signs in here with password and second factor, as at a
    terminal, and the operator runs the load as their delegate: in 住基, at terminal
    ``cli``, with exactly the two rights a bulk 異動 needs and none of the rest of the
    supervisor's set (決裁, 支援措置, export …)."""
    password = typer.prompt(f"{login_name} のパスワード", hide_input=True)
    token = privacy.login_password(
        rt.uow(),
        login_name=login_name,
        password=password,
        terminal=TERMINAL,
        max_failed=rt.settings.max_failed_logins,
    )
    try:
        code = typer.prompt("確認コード (認証アプリの6桁)")
        privacy.login_totp(
            rt.uow(),
            rt.keys,
            token=token,
            code=code,
            max_failed=rt.settings.max_failed_logins,
            max_sessions=rt.settings.max_sessions_per_user,
        )
        view = privacy.switch_affair(rt.uow(), token=token, affair=Affair.JUKI.value)
    except BaseException:
        privacy.logout(rt.uow(), token=token)
        raise
    actor = dataclasses.replace(view.actor(TERMINAL), permissions=view.permissions & rights)
    return actor, token


def _show(problems: tuple[services.RowProblem, ...]) -> None:
    table = Table("行", "項目", "理由")
    for p in problems[:SHOWN_PROBLEMS]:
        table.add_row(str(p.row), p.column, p.reason)
    out.print(table)
    if len(problems) > SHOWN_PROBLEMS:
        out.print(f"ほか {len(problems) - SHOWN_PROBLEMS:,} 件。--report で全件を書き出せます。")


@app.command("bulk-changes")
def bulk_changes(
    file: Annotated[
        Path,
        typer.Argument(help="一括異動の CSV ファイル", exists=True, dir_okay=False),
    ],
    staff: Annotated[
        str,
        typer.Option(
            "--staff", help="委任元の住民記録係長のログインID (パスワードと確認コードを求める)"
        ),
    ],
    encoding: Annotated[
        str, typer.Option("--encoding", help="auto (UTF-8 か CP932 を判別)、utf-8、cp932")
    ] = "auto",
    report: Annotated[
        Path | None,
        typer.Option("--report", help="取り込めなかった行の一覧 (行, 項目, 理由) の CSV"),
    ] = None,
) -> None:
    """一括異動 (転入・国外転入・転居・死亡) を CSV から適用する。

    誤りのある行は理由とともに報告し、正しい行だけを1件ずつ適用する。
    不採用の行があれば終了コード 1。"""
    from machi.cli.common import fail, runtime, settings

    if encoding.lower() not in READ_ENCODINGS:
        fail("--encoding は auto、utf-8 または cp932 を指定してください")
    if report is not None and not report.parent.is_dir():
        fail(f"--report の出力先ディレクトリがありません: {report.parent}")
    parsed, used = csvio.read_bulk_changes(file.read_bytes(), READ_ENCODINGS[encoding.lower()])
    if not parsed:
        fail("取り込む行がありません (見出し行だけのファイルです)")
    rt = runtime(settings())
    actor, token = _delegate(rt, staff, BULK_RIGHTS)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
        ) as progress:
            task = progress.add_task("一括異動を適用", total=len(parsed))
            result = services.bulk_changes(
                rt.uow(),
                actor,
                parsed,
                on_progress=lambda done: progress.update(task, completed=done),
            )
    finally:
        privacy.logout(rt.uow(), token=token)
    out.print(
        f"適用: {result.applied_rows:,} 行 (異動 {result.applied:,} 件)、"
        f"不採用: {result.rejected_rows:,} 行 (異動 {result.rejected:,} 件)"
    )
    if report is not None:
        buffer = io.BytesIO()
        csvio.write_report(result.problems, buffer, used)
        report.write_bytes(buffer.getvalue())
        out.print(f"誤りの一覧: {report} ({len(result.problems):,} 件, {used.value})")
    elif result.problems:
        _show(result.problems)
    if result.rejected:
        raise typer.Exit(1)
