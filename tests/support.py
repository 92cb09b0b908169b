"""Plain helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp

from machi.core.db import APP_ROLE, OWNER_ROLE, autocommit, make_engine
from machi.core.pgserver import EmbeddedPostgres


@dataclass(frozen=True)
class FreshDatabase:
    name: str
    app_url: str
    owner_url: str
    superuser_url: str


@dataclass(frozen=True)
class Enrolled:
    login_name: str
    password: str
    totp: pyotp.TOTP


ROOT = Path(__file__).resolve().parent.parent
TEST_PG_ROOT = ROOT / "var" / "test-pg"
TEMPLATE = "machi_template"
# Each run has its own cluster, so two runs on one machine never stop each other's server.
# The controller picks the directory; xdist workers inherit it through the environment.
RUN_DIR_ENV = "MACHI_TEST_PG_DIR"


def test_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(Path(os.environ[RUN_DIR_ENV]), fast=True)


def clone_database(name: str) -> str:
    """A new database copied from the migrated template; returns its app-role URL."""
    server = test_server()
    admin = make_engine(server.url(), pool_size=1)
    with autocommit(admin) as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" OWNER {OWNER_ROLE}')
    admin.dispose()
    return server.url(role=APP_ROLE, database=name)


def drop_database(name: str) -> None:
    admin = make_engine(test_server().url(), pool_size=1)
    with autocommit(admin) as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def superuser_url(database_name: str) -> str:
    return test_server().url(database=database_name)


@dataclass(frozen=True)
class LiveServer:
    url: str
    login_name: str
    password: str
    totp: pyotp.TOTP
    # Runtime of the served app, for seeding data through the services.
    rt: Any = None
    # A counter clerk who also holds the 個人番号 right (number_handler) in 住基.
    handler: Enrolled | None = None


# -- access-control harness (controls.md AUTHZ-01; issue: Privacy core, item 5) ----------


def every_grant() -> list[tuple[str | None, str]]:
    """Every (role, affair) pair worth trying, plus "no role at all" in each affair."""
    import yaml

    from machi.privacy.permissions import Affair
    from machi.privacy.services import ROLES_FILE

    roles = [r["code"] for r in yaml.safe_load(ROLES_FILE.read_text("utf-8"))["roles"]]
    return [(role, affair.value) for role in [*roles, None] for affair in Affair]


def assert_access(
    rt: Any,
    action: str,
    call: Callable[[Any, int], object],
    allowed: set[tuple[str, str]],
) -> None:
    """Run ``call(actor, i)`` once for every (role, affair): the pairs in ``allowed`` must
    pass; every other pair must be refused with PermissionDenied, write a 'denied' audit row
    for ``action``, and change nothing else."""
    from sqlalchemy import func, select

    from machi.privacy.access import PermissionDenied, effective_permissions
    from machi.privacy.actor import Actor
    from machi.privacy.models import AuditEntry

    for i, (role, affair) in enumerate(every_grant()):
        grants = frozenset({(role, affair)}) if role else frozenset()
        with rt.uow() as uow:
            perms = effective_permissions(uow.session, grants, affair)
        actor = Actor(
            user_id=None,
            login_name=f"t_{role}",
            terminal="test",
            affair=affair,
            grants=grants,
            permissions=perms,
        )
        if role is not None and (role, affair) in allowed:
            call(actor, i)
            continue
        with rt.uow() as uow:
            before = uow.session.scalar(select(func.max(AuditEntry.id))) or 0
        try:
            call(actor, i)
        except PermissionDenied:
            pass
        else:
            raise AssertionError(f"{action}: {role}@{affair} was not refused")
        with rt.uow() as uow:
            rows = uow.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
        assert [(r.action, r.outcome) for r in rows] == [(action, "denied")], (role, affair)


def enrol(
    rt: Any,
    login_name: str,
    grants: tuple[tuple[str, str], ...],
    *,
    display_name: str | None = None,
    password: str = "test password 2026",
) -> Enrolled:
    """Create a staff user with these (role, affair) grants (roles loaded first)."""
    from machi.privacy import services
    from machi.privacy.actor import Actor

    services.load_roles(rt.uow(), Actor.operator())
    created = services.create_user(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        services.NewUser(login_name, display_name or f"職員 {login_name}", password, grants),
    )
    return Enrolled(login_name, password, pyotp.TOTP(created.totp_secret))


def sign_in(client: Any, rt: Any, who: Enrolled) -> None:
    """Log in through the real pages (password, then TOTP) so the client holds a session."""
    r = client.post(
        "/login",
        data={"login_name": who.login_name, "password": who.password},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    r = client.post(
        "/login/totp", data={"code": who.totp.at(rt.clock.now())}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
