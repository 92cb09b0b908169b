"""``machi audit``: verify the audit log, sign a checkpoint, write the daily review
(controls.md LOG-08, LOG-14; docs/audit.md). Run by an operator on the server."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from machi.cli.common import fail, runtime, settings
from machi.core.clock import JST
from machi.privacy import checkpoints, queries, signing
from machi.privacy import retention as audit_retention
from machi.privacy.actor import Actor
from machi.privacy.permissions import Affair, Permission

app = typer.Typer(help="監査ログの検証・チェックポイント・日次点検", no_args_is_help=True)


def _reviewer() -> Actor:
    # The daily review is the 情報セキュリティ責任者's duty (LOG-08); the operator who runs
    # it at the server does so as their delegate, so it works in the privacy affair with
    # exactly the two audit-log rights and nothing of the operator's admin set.
    return dataclasses.replace(
        Actor.operator(affair=Affair.PRIVACY),
        permissions=frozenset(
            {Permission.PRIVACY_VIEW_AUDIT_LOG, Permission.PRIVACY_VERIFY_AUDIT_LOG}
        ),
    )


@app.command()
def verify() -> None:
    """連鎖を再計算し、署名付きチェックポイントと照合する (異常があれば終了コード 1)。"""
    rt = runtime(settings())
    verifier = signing.load_verifier(signing.keys_dir(rt.settings))
    result = queries.verify_audit_log(rt.uow(), Actor.operator(), verifier)
    typer.echo(f"検証した行数: {result.rows_checked}")
    typer.echo(f"最初の不整合行: {result.first_broken_id or 'なし'}")
    typer.echo(
        f"チェックポイント: {result.checkpoints_checked} / {result.checkpoints_total} 件を確認"
    )
    if result.first_bad_checkpoint_id is not None:
        typer.echo(
            f"不正なチェックポイント: No.{result.first_bad_checkpoint_id}"
            f" ({result.first_bad_checkpoint_reason})"
        )
    if result.truncated:
        typer.echo("切り詰め: 監査ログが最後のチェックポイントより短くなっています")
    if result.archived_through_id is not None:
        signed = result.archived_at.astimezone(JST) if result.archived_at else None
        typer.echo(
            f"アーカイブ済み: 監査ログ番号 {result.archived_through_id} まで"
            f" (チェックポイント {signed:%Y-%m-%d %H:%M})"
        )
    typer.echo(f"末尾ハッシュ: {result.head_hash or '(空)'}")
    if not result.ok:
        typer.echo("結果: 異常あり。情報セキュリティ責任者に報告してください。")
        raise typer.Exit(1)
    typer.echo("結果: 正常")


@app.command()
def checkpoint() -> None:
    """監査ログの現在の末尾に署名したチェックポイントを記録する。"""
    rt = runtime(settings())
    signer = signing.load_or_create_signer(signing.keys_dir(rt.settings))
    cp = checkpoints.write_checkpoint(rt.uow(), Actor.operator(), signer)
    typer.echo(
        f"チェックポイント No.{cp.id}: 監査ログ番号 {cp.last_audit_id} まで {cp.rows} 件、"
        f"末尾ハッシュ {cp.head_hash or '(空)'}、鍵 {cp.key_id}"
    )


@app.command()
def report(
    day: Annotated[
        str | None,
        typer.Option("--date", help="対象日 YYYY-MM-DD (省略時は業務日付の前日)"),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="出力先ディレクトリ")] = Path("."),
) -> None:
    """日次点検報告書 (HTML と PDF) を作成する。"""
    rt = runtime(settings())
    if day is None:
        target = rt.clock.business_date() - timedelta(days=1)
    else:
        try:
            target = date.fromisoformat(day)
        except ValueError:
            fail(f"--date は YYYY-MM-DD の形で指定してください: {day}")
    result = queries.audit_report(rt.uow(), _reviewer(), day=target)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"audit-report-{target.isoformat()}"
    paths = (stem.with_suffix(".html"), stem.with_suffix(".pdf"))
    _write(paths[0], result.html().encode("utf-8"))
    _write(paths[1], result.pdf())
    for p in paths:
        typer.echo(str(p))


@app.command()
def retention() -> None:
    """保存期間を過ぎた監査ログ行の件数と、保管替えの区切り (チェックポイント) を表示する。"""
    rt = runtime(settings())
    try:
        years = audit_retention.audit_log_years(rt.settings.retention_years)
    except ValueError as e:
        fail(str(e))
    with rt.uow() as uow:
        plan = audit_retention.purge_plan(uow.session, rt.clock.business_date(), years)
    typer.echo(f"保存期間: {plan.years}年 (基準日 {plan.cutoff.isoformat()} より前が対象)")
    typer.echo(f"期間経過: {plan.expired_rows}行 (最後の行 ID {plan.last_expired_id})")
    if plan.checkpoint_id is None:
        typer.echo("区切りにできるチェックポイントがありません。")
    else:
        typer.echo(
            f"保管替えできる範囲: 行 ID {plan.archive_through_id} まで {plan.archive_rows}行 "
            f"(チェックポイント {plan.checkpoint_id})。手順は docs/audit.md を参照。"
        )


def _write(path: Path, data: bytes) -> None:
    # Staff login names and terminals are not for every account on the server.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
