"""``machi db``: the embedded PostgreSQL server and migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from machi.cli.common import fail, settings
from machi.core import database

app = typer.Typer(help="データベース (組込み PostgreSQL) の操作", no_args_is_help=True)
out = Console()


def _embedded_only() -> database.EmbeddedPostgres:
    s = settings()
    if not database.uses_embedded(s):
        fail("MACHI_DATABASE_URL が設定されています: 外部の PostgreSQL は別途管理してください")
    return database.embedded_server(s)


@app.command()
def start() -> None:
    """組込み PostgreSQL を起動する (初回は初期化も行う)。"""
    server = _embedded_only()
    with out.status("PostgreSQL を起動しています…"):
        server.start()
    out.print(f"起動しました: データ {server.data_dir}、ソケット {server.socket_dir}")


@app.command()
def stop() -> None:
    """組込み PostgreSQL を停止する。"""
    server = _embedded_only()
    server.stop()
    out.print("停止しました。")


@app.command()
def status() -> None:
    """稼働状況を表示する。"""
    s = settings()
    if not database.uses_embedded(s):
        out.print("外部の PostgreSQL を使用しています (MACHI_DATABASE_URL)。")
        return
    st = database.embedded_server(s).status()
    state = f"稼働中 (pid {st.pid})" if st.running else "停止中"
    out.print(f"組込み PostgreSQL: {state}\nデータ: {st.data_dir}\nソケット: {st.socket_dir}")


@app.command()
def upgrade() -> None:
    """ロール・データベースを用意し、スキーマを最新に移行する。"""
    s = settings()
    with out.status("移行しています…"):
        database.ensure_ready(s)
    out.print("スキーマは最新です。")
