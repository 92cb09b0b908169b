"""Database plumbing: the declarative base every context's models share, engine and
session factories, and the database roles.

Roles (docs/decisions/0003-database-roles.md):
- ``machi_owner`` owns every schema and runs migrations;
- ``machi_app`` is what the application connects as: it can read and write domain tables
  but can only INSERT and SELECT the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

OWNER_ROLE = "machi_owner"
APP_ROLE = "machi_app"

# One schema per context (design.md). Migrations create them; grants follow them.
SCHEMAS = ("core", "privacy", "synth", "registry")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def url_for(base_url: str, *, role: str | None = None, database: str | None = None) -> URL:
    """``base_url`` with another role or database, keeping host, socket and options."""
    url = make_url(base_url)
    if role is not None:
        url = url.set(username=role)
    if database is not None:
        url = url.set(database=database)
    return url


def make_engine(url: str | URL, *, pool_size: int = 5) -> Engine:
    # JST is the business time zone whatever the server's default. Custom plans always:
    # psycopg prepares a statement after a few runs and PostgreSQL may then switch to a
    # generic plan, which for the search's LIKE/trigram predicates reads a whole index
    # (measured at 1,000,000 residents: search p95 464 ms → 96 ms; docs/performance.md).
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args={"options": "-c TimeZone=Asia/Tokyo -c plan_cache_mode=force_custom_plan"},
    )


def make_sessions(engine: Engine | Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection outside any transaction, for CREATE DATABASE and the like."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn
