"""Where the database is and how to bring it up: the embedded server by default, an
external PostgreSQL when ``MACHI_DATABASE_URL`` is set. Also runs the migrations."""

from __future__ import annotations

import subprocess
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from machi.core.db import APP_ROLE, OWNER_ROLE, autocommit, make_engine
from machi.core.pgserver import SUPERUSER, EmbeddedPostgres

__all__ = ["EmbeddedPostgres"]
from machi.core.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.pg_data_dir)


def uses_embedded(settings: Settings) -> bool:
    return not settings.database_url


def app_url(settings: Settings) -> str:
    """What the application connects as: the app role, which cannot alter the audit log."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings)
    return server.url(role=APP_ROLE, database=settings.database_name)


def owner_url(settings: Settings) -> str:
    """What migrations run as. For an external database set ``MACHI_DATABASE_OWNER_URL``
    (see docs/configuration.md); it defaults to the application URL."""
    if settings.database_url:
        return settings.database_owner_url or settings.database_url
    server = embedded_server(settings)
    return server.url(role=OWNER_ROLE, database=settings.database_name)


def create_roles_and_database(superuser_url: str, database: str) -> None:
    """Create the two roles and the database owned by ``machi_owner`` if missing."""
    engine = make_engine(superuser_url, pool_size=1)
    try:
        with autocommit(engine) as conn:
            for role in (OWNER_ROLE, APP_ROLE):
                exists = conn.execute(
                    text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).scalar()
                if not exists:
                    conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER {OWNER_ROLE}')
    finally:
        engine.dispose()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM core.alembic_version")).scalar()
        except Exception:
            return None


def ensure_ready(settings: Settings) -> str:
    """Start the embedded server if that is what we use, create roles and database,
    migrate to head. Returns the application URL."""
    if uses_embedded(settings):
        server = embedded_server(settings)
        server.start()
        create_roles_and_database(server.url(), settings.database_name)
    upgrade(owner_url(settings))
    return app_url(settings)


def backup(settings: Settings, out: Path) -> None:
    """A logical backup (pg_dump custom format) of the embedded database, as superuser."""
    server = embedded_server(settings)
    server.start()
    _run_client(server, "pg_dump", "-Fc", "-f", str(out.resolve()), settings.database_name)


def restore(settings: Settings, dump: Path) -> None:
    """Restore a pg_dump file into the embedded database, replacing what is there."""
    server = embedded_server(settings)
    server.start()
    create_roles_and_database(server.url(), settings.database_name)
    _run_client(
        server,
        "pg_restore",
        "--clean",
        "--if-exists",
        "--single-transaction",
        "-d",
        settings.database_name,
        str(dump.resolve()),
    )


def _run_client(server: EmbeddedPostgres, exe: str, *args: str) -> None:
    done = subprocess.run(
        [str(server.bin(exe)), "-h", str(server.socket_dir), "-U", SUPERUSER, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{exe} failed: {done.stderr.strip()[:500]}")


def analyze(settings: Settings) -> None:
    """Refresh planner statistics after a bulk load. Only a table's owner may ANALYZE it,
    and the application role owns none, so this runs as the owner role."""
    engine = make_engine(owner_url(settings), pool_size=1)
    try:
        with autocommit(engine) as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
