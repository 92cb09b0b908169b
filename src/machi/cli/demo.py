"""Prepare the demo: database, roles, one user per role (credentials printed), a town."""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path

from rich.console import Console

from machi.bootstrap import Runtime
from machi.cli.common import runtime, settings
from machi.cli.synth import load_with_progress
from machi.core import database
from machi.privacy import services
from machi.privacy.actor import Actor
from machi.registry import queries as registry_queries
from machi.registry.cli import import_town_with_progress
from machi.synth import services as synth_services

out = Console()
DEMO_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def _password() -> str:
    while True:
        pw = "".join(secrets.choice(DEMO_PASSWORD_ALPHABET) for _ in range(14))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def _ensure_users(rt: Runtime, credentials: Path) -> list[dict[str, str]]:
    """Create one demo user per role the first time; later runs show the same ones."""
    if credentials.exists():
        saved: list[dict[str, str]] = json.loads(credentials.read_text(encoding="utf-8"))
        return saved
    import yaml

    roles = yaml.safe_load(services.ROLES_FILE.read_text(encoding="utf-8"))["roles"]
    created = []
    for role in roles:
        pw = _password()
        user = services.create_user(
            rt.uow(),
            Actor.operator(),
            rt.keys,
            services.NewUser(
                login_name=f"demo_{role['code']}",
                display_name=f"デモ {role['name_ja']}",
                password=pw,
                grants=tuple(
                    (code, role["demo_affair"])
                    for code in (role["code"], *role.get("demo_with", ()))
                ),
            ),
        )
        created.append(
            {
                "login": f"demo_{role['code']}",
                "role": role["name_ja"],
                "password": pw,
                "totp_secret": user.totp_secret,
            }
        )
    fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(created, f, ensure_ascii=False, indent=1)
    return created


def prepare(*, residents: int) -> Runtime:
    s = settings(demo=True)
    s.var_dir.mkdir(parents=True, exist_ok=True)
    with out.status("組込み PostgreSQL を起動し、スキーマを移行しています…"):
        database.ensure_ready(s)
    rt = runtime(s)
    services.load_roles(rt.uow(), Actor.operator())
    users = _ensure_users(rt, s.var_dir / "demo-credentials.json")
    if not synth_services.town_loaded(rt.uow(), Actor.operator()):
        load_with_progress(rt, residents=residents, seed=1)
    if not registry_queries.registry_loaded(rt.uow(), Actor.operator()):
        import_town_with_progress(rt)
    # Plain lines, not a table: a narrow terminal would truncate the secrets.
    out.print("\n[bold]デモ用職員 (デモ環境専用の認証情報)[/bold]")
    for u in users:
        print(
            f"  {u['login']}  パスワード: {u['password']}  TOTP秘密鍵: {u['totp_secret']}"
            f"  ({u['role']})"
        )
    out.print(
        "確認コードは認証アプリに秘密鍵を登録するか、"
        "[bold]MACHI_DEMO=1 .venv/bin/machi users totp <ログインID>[/bold] で表示できます。"
    )
    return rt
