"""Plain helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
TEST_PG = ROOT / "var" / "test-pg"
TEMPLATE = "machi_template"


def test_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(TEST_PG, fast=True)


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
