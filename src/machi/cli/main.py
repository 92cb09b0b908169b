"""``machi``: the operator's command. Every long job shows a progress bar; bad arguments
give one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import sys
import threading
from typing import Annotated

import typer
from rich.console import Console

from machi.cli import audit as audit_cli
from machi.cli import db as db_cli
from machi.cli import keys as keys_cli
from machi.cli import synth as synth_cli
from machi.cli import users as users_cli
from machi.cli.common import CommandRefused, runtime, settings
from machi.core import outbox
from machi.core.errors import DomainError
from machi.core.pgserver import ServerError
from machi.registry import cli as registry_cli

app = typer.Typer(
    name="machi",
    help="Machi 基幹業務システムの運用コマンド",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(users_cli.app, name="users")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(registry_cli.app, name="registry")
app.command("synth")(synth_cli.synth)


def _say(message: str) -> None:
    # Plain write, not rich: rich would wrap a long message onto several lines.
    sys.stderr.write(message.replace("\n", " ") + "\n")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="待ち受けるアドレス")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="ポート番号")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="処理プロセス数 (目安は CPU コア数)")
    ] = 1,
) -> None:
    """Web 画面と API を起動する (データベースは起動・移行済みであること)。"""
    import uvicorn

    from machi.web.app import create_app

    rt = runtime(settings())
    Console().print(f"Machi: http://{host}:{port}/ で待ち受けます (停止は Ctrl+C)")
    # One relay for the whole server, in this process; workers only serve requests.
    stop = outbox.start_relay_thread(rt.uow)
    try:
        if workers == 1:
            uvicorn.run(create_app(rt), host=host, port=port, log_level="warning")
        else:
            # Each worker process builds its own runtime from the same MACHI_* settings;
            # sessions live in the database, so any worker serves any signed-in user.
            uvicorn.run(
                "machi.web.app:create_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="warning",
            )
    finally:
        stop.set()


@app.command()
def demo(
    residents: Annotated[int, typer.Option(min=100, max=5_000_000, help="架空の住民数")] = 50_000,
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="準備だけして終了する")] = False,
) -> None:
    """デモ環境を用意して起動する: 組込み PostgreSQL、移行、架空の町、職員ユーザー。"""
    from machi.cli.demo import prepare

    rt = prepare(residents=residents)
    if no_serve:
        return
    import uvicorn

    from machi.web.app import create_app

    Console().print(f"\n[bold]デモ画面: http://127.0.0.1:{port}/[/bold]  (停止は Ctrl+C)")
    stop = outbox.start_relay_thread(rt.uow)
    try:
        uvicorn.run(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    finally:
        stop.set()


@app.command()
def relay(
    once: Annotated[bool, typer.Option("--once", help="一度だけ配信して終了する")] = False,
) -> None:
    """庁内連携イベント (outbox) を購読者へ配信する。serve/demo は内部で常時実行している。"""
    rt = runtime(settings())
    if once:
        report = outbox.relay(rt.uow())
        Console().print(f"配信 {report.delivered} 件、失敗 {report.failed} 件")
        return
    Console().print("配信を続けます (停止は Ctrl+C)")
    stop = threading.Event()
    try:
        outbox.relay_forever(rt.uow, stop)
    except KeyboardInterrupt:
        stop.set()


def run(argv: list[str] | None = None) -> None:
    """Entry point: maps every error to one line and an exit status."""
    try:
        app(args=argv, standalone_mode=False, prog_name="machi")
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        _say("中断しました。")
        sys.exit(130)
    except CommandRefused as e:
        _say(f"エラー: {e}")
        sys.exit(2)
    except DomainError as e:
        _say(f"エラー: {e.message} ({e.code})")
        sys.exit(2)
    except ServerError as e:
        _say(f"データベースサーバーのエラー: {e}")
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as e:
        # Typer's own (vendored click) usage errors carry their message and exit code.
        format_message = getattr(e, "format_message", None)
        if callable(format_message):
            _say(f"エラー: {format_message()}")
            sys.exit(int(getattr(e, "exit_code", 2)))
        # The type only: an exception text may carry personal data.
        _say(f"内部エラー: {type(e).__name__}。管理者に連絡してください。")
        sys.exit(1)


__all__ = ["app", "run"]
