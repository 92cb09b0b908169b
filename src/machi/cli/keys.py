"""``machi keys``: encryption-key rotation and blind-index rebuild for the My Number vault,
run by an operator on the server (docs/security.md, key rotation). Prints counts and key
ids only: never a number, never key material."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from machi.bootstrap import Runtime
from machi.cli.common import fail, runtime, settings
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.keys import ENV_VAR, Keyring

app = typer.Typer(help="暗号鍵の管理 (個人番号の暗号化鍵と検索用索引鍵)", no_args_is_help=True)
out = Console()

KeyringOut = Annotated[
    Path | None,
    typer.Option(
        "--keyring-out",
        dir_okay=False,
        help=f"新しい鍵束の保存先 ({ENV_VAR} で鍵束を渡している場合に必須)",
    ),
]


def _destination(rt: Runtime, keyring_out: Path | None) -> Path:
    """Where the new keyring goes. A keyring from the environment cannot be written back,
    so the operator names a file and puts its content into the secret store afterwards."""
    if keyring_out is not None:
        if keyring_out.exists():
            fail(f"{keyring_out} は既に存在します。別の保存先を指定してください")
        return keyring_out
    if rt.keys.path is None:
        fail(f"鍵束を {ENV_VAR} で渡しているため書き戻せません。--keyring-out を指定してください")
    return rt.keys.path


def _saver(path: Path, saved: list[Keyring]) -> Callable[[Keyring], None]:
    def save(keys: Keyring) -> None:
        keys.save(path)
        saved.append(keys)

    return save


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=out,
    )


def _after_save(rt: Runtime, path: Path, *, then: str) -> None:
    if rt.keys.path is None:
        out.print(
            f"新しい鍵束を {path} に保存しました (mode 0600)。"
            f"`base64 -w0 {path}` の結果で {ENV_VAR} を更新し、{then}"
            "その後このファイルを安全に消去してください。"
        )
    else:
        out.print(f"鍵束を更新しました ({path})。{then}")


@app.command()
def rotate(
    resume: Annotated[
        bool,
        typer.Option("--resume", help="新しい鍵を作らず、現在の鍵への再暗号化だけを行う"),
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="1トランザクションの件数")] = 1000,
    keyring_out: KeyringOut = None,
) -> None:
    """新しい暗号化鍵を追加し、保管中の個人番号をすべて再暗号化する (中断しても再実行可)。"""
    rt = runtime(settings())
    # --resume keeps the keyring as it is, so there is nothing to save.
    path = None if resume else _destination(rt, keyring_out)
    saved: list[Keyring] = []
    with _progress() as progress:
        task = progress.add_task("再暗号化", total=None)
        done = vault.rotate_keys(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            save=saved.append if path is None else _saver(path, saved),
            new_key=not resume,
            batch=batch,
            on_progress=lambda n, total: progress.update(task, completed=n, total=total),
        )
    key_id = saved[-1].current if saved else rt.keys.current
    out.print(f"{done:,} 件を鍵 {key_id} で再暗号化しました。")
    if path is not None:
        _after_save(rt, path, then="実行中のアプリケーションを再起動してください。")


@app.command("rebuild-index")
def rebuild_index(
    yes: Annotated[
        bool, typer.Option("--yes", help="アプリケーション停止済みとして確認を省く")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="一度に読む件数")] = 1000,
    keyring_out: KeyringOut = None,
) -> None:
    """検索用索引鍵を新しくし、すべての索引を作り直す (アプリケーション停止中に実行)。"""
    rt = runtime(settings())
    path = _destination(rt, keyring_out)
    if not yes:
        typer.confirm(
            "索引の作り直し中は番号検索ができません。アプリケーションは停止済みですか?",
            abort=True,
        )
    saved: list[Keyring] = []
    with _progress() as progress:
        task = progress.add_task("索引の再作成", total=None)
        done = vault.rebuild_index(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            save=_saver(path, saved),
            batch=batch,
            on_progress=lambda n, total: progress.update(task, completed=n, total=total),
        )
    out.print(f"{done:,} 件の索引を作り直しました。")
    _after_save(rt, path, then="アプリケーションを起動してください。")
