"""``machi users``: staff accounts, run by an operator on the server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from machi.cli.common import fail, runtime, settings
from machi.privacy import services
from machi.privacy.actor import Actor

app = typer.Typer(help="職員ユーザーとロールの管理", no_args_is_help=True)
out = Console()


def _grants(values: list[str]) -> tuple[tuple[str, str], ...]:
    grants = []
    for v in values:
        role, sep, affair = v.partition("@")
        if not sep or not role or not affair:
            fail(f"--grant は ロール@事務 の形で指定してください (例: counter_clerk@juki): {v}")
        grants.append((role, affair))
    return tuple(grants)


@app.command("load-roles")
def load_roles(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)] = services.ROLES_FILE,
) -> None:
    """ロール定義 (YAML) を読み込む。"""
    rt = runtime(settings())
    n = services.load_roles(rt.uow(), Actor.operator(), path)
    out.print(f"{n} 件のロールを登録しました。")


@app.command()
def create(
    login_name: Annotated[str, typer.Argument(help="ログインID")],
    display_name: Annotated[str, typer.Option("--name", help="氏名 (表示名)")],
    grant: Annotated[list[str], typer.Option("--grant", help="ロール@事務 (複数可)")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """職員ユーザーを作成し、TOTP の秘密鍵を一度だけ表示する。"""
    rt = runtime(settings())
    created = services.create_user(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        services.NewUser(login_name, display_name, password, _grants(grant)),
    )
    out.print(f"作成しました。認証アプリに登録する秘密鍵: {created.totp_secret}")


@app.command("list")
def list_users() -> None:
    """職員ユーザーの一覧。"""
    rt = runtime(settings())
    table = Table("ログインID", "氏名", "ロール@事務", "状態")
    for u in services.list_users(rt.uow(), Actor.operator()):
        state = "ロック中" if u.locked else ("有効" if u.active else "無効")
        table.add_row(
            u.login_name, u.display_name, ", ".join(f"{r}@{a}" for r, a in u.grants), state
        )
    out.print(table)


@app.command()
def unlock(login_name: str) -> None:
    """ロックされたアカウントを解除する。"""
    rt = runtime(settings())
    services.unlock_user(rt.uow(), Actor.operator(), login_name)
    out.print("ロックを解除しました。")


@app.command()
def totp(login_name: str) -> None:
    """現在の確認コードを表示する (デモ環境と端末登録の確認用; 監査ログに残る)。"""
    s = settings()
    if not s.demo:
        fail("確認コードの表示はデモ環境 (MACHI_DEMO=1) でのみ使えます")
    rt = runtime(s)
    out.print(services.current_totp(rt.uow(), Actor.operator(), rt.keys, login_name))
