"""``machi db``: the embedded PostgreSQL server and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from machi.cli.common import fail, settings
from machi.core import database

app = typer.Typer(help="データベース (組込み PostgreSQL) の操作", no_args_is_help=True)
console = Console()


def _embedded_only() -> database.EmbeddedPostgres:
    s = settings()
    if not database.uses_embedded(s):
        fail("MACHI_DATABASE_URL が設定されています: 外部の PostgreSQL は別途管理してください")
    return database.embedded_server(s)


@app.command()
def start() -> None:
    """組込み PostgreSQL を起動する (初回は初期化も行う)。"""
    server = _embedded_only()
    with console.status("PostgreSQL を起動しています…"):
        server.start()
    console.print(f"起動しました: データ {server.data_dir}、ソケット {server.socket_dir}")


@app.command()
def stop() -> None:
    """組込み PostgreSQL を停止する。"""
    server = _embedded_only()
    server.stop()
    console.print("停止しました。")


@app.command()
def status() -> None:
    """稼働状況を表示する。"""
    s = settings()
    if not database.uses_embedded(s):
        console.print("外部の PostgreSQL を使用しています (MACHI_DATABASE_URL)。")
        return
    st = database.embedded_server(s).status()
    state = f"稼働中 (pid {st.pid})" if st.running else "停止中"
    console.print(f"組込み PostgreSQL: {state}\nデータ: {st.data_dir}\nソケット: {st.socket_dir}")


@app.command()
def upgrade() -> None:
    """ロール・データベースを用意し、スキーマを最新に移行する。"""
    s = settings()
    with console.status("移行しています…"):
        database.ensure_ready(s)
    console.print("スキーマは最新です。")


@app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="出力ファイル (pg_dump カスタム形式)")],
) -> None:
    """組込みデータベースをバックアップする (鍵 var/keys は別に保管すること)。"""
    s = settings()
    _embedded_only()
    if out.exists():
        fail(f"出力先が既にあります: {out}")
    with console.status("バックアップしています…"):
        database.backup(s, out)
    console.print(f"バックアップしました: {out}")


@app.command()
def restore(
    dump: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="バックアップファイル")],
) -> None:
    """バックアップから復元する (現在のデータは置き換えられる)。"""
    s = settings()
    _embedded_only()
    with console.status("復元しています…"):
        database.restore(s, dump)
    console.print("復元しました。")
