"""Test harness: one real embedded PostgreSQL per run (fsync off), a template database
migrated once, one clone per xdist worker, and one outer transaction per test that is
rolled back at the end (commits inside services only release savepoints).

Tests connect as ``machi_app``, the production role, so grants such as the append-only
audit log are exercised, not assumed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import sessionmaker

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core import database
from machi.core.clock import JST, FixedClock
from machi.core.db import APP_ROLE, OWNER_ROLE, autocommit, make_engine
from machi.core.pgserver import EmbeddedPostgres
from machi.core.settings import Settings
from machi.core.uow import UnitOfWork
from support import (
    RUN_DIR_ENV,
    TEMPLATE,
    TEST_PG_ROOT,
    FreshDatabase,
    clone_database,
    drop_database,
    test_server,
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # xdist worker: the controller has prepared the server and template
    _remove_stale_clusters()
    os.environ[RUN_DIR_ENV] = str(TEST_PG_ROOT / f"run-{os.getpid()}")
    server = test_server()
    server.start()
    database.create_roles_and_database(server.url(), TEMPLATE)
    admin = make_engine(server.url(), pool_size=1)
    with autocommit(admin) as conn:
        # A fresh template each run, so migrations are always exercised from zero.
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{TEMPLATE}" OWNER {OWNER_ROLE}')
    admin.dispose()
    database.upgrade(server.url(role=OWNER_ROLE, database=TEMPLATE))


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or RUN_DIR_ENV not in os.environ:
        return
    test_server().destroy()


def _remove_stale_clusters() -> None:
    """Clusters left by runs that were killed: their server is gone, their files are not."""
    if not TEST_PG_ROOT.exists():
        return
    for run in TEST_PG_ROOT.glob("run-*"):
        # A run whose pytest process is alive may still be in initdb (no server yet).
        if _alive(int(run.name.removeprefix("run-"))):
            continue
        cluster = EmbeddedPostgres(run, fast=True)
        if not cluster.status().running:
            cluster.destroy()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def worker_db(worker_id: str) -> Iterator[str]:
    name = f"machi_test_{worker_id}"
    clone_database(name)
    yield name
    drop_database(name)


@pytest.fixture(scope="session")
def app_engine(worker_db: str) -> Iterator[Engine]:
    engine = make_engine(test_server().url(role=APP_ROLE, database=worker_db))
    yield engine
    engine.dispose()


@pytest.fixture
def connection(app_engine: Engine) -> Iterator[Connection]:
    with app_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=JST))


@pytest.fixture(scope="session")
def test_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(var_dir=tmp_path_factory.mktemp("var"), database_url="", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def rt(connection: Connection, clock: FixedClock, test_settings: Settings) -> Runtime:
    sessions = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return bootstrap.build(
        test_settings, "", clock=clock, engine=connection.engine, sessions=sessions
    )


@pytest.fixture
def uow(rt: Runtime) -> UnitOfWork:
    return rt.uow()


@pytest.fixture
def migrated_engine() -> Iterator[Engine]:
    """An app-role engine on a fresh database at Alembic head where commits are real;
    the database is dropped afterwards."""
    name = f"machi_t_{uuid.uuid4().hex[:12]}"
    engine = make_engine(clone_database(name))
    yield engine
    engine.dispose()
    drop_database(name)


@pytest.fixture
def fresh_db() -> Iterator[FreshDatabase]:
    """A fresh database at head (real commits), with URLs for each role; dropped after."""
    name = f"machi_t_{uuid.uuid4().hex[:12]}"
    app_url = clone_database(name)
    server = test_server()
    yield FreshDatabase(
        name, app_url, server.url(role=OWNER_ROLE, database=name), server.url(database=name)
    )
    drop_database(name)


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    """The web app over the test's transaction, through real HTTP semantics (TestClient)."""
    from machi.web.app import create_app

    with TestClient(create_app(rt), base_url="http://testserver") as c:
        yield c
