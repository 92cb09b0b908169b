"""Foundation: the embedded server, roles and migrations (issue: Foundation, item 2)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from machi.core import database
from machi.core.db import APP_ROLE, OWNER_ROLE
from support import FreshDatabase


def test_migrated_to_head_with_one_schema_per_context(connection: Connection) -> None:
    schemas = set(
        connection.execute(
            text("SELECT nspname FROM pg_namespace WHERE nspname IN ('core','privacy','synth')")
        ).scalars()
    )
    assert schemas == {"core", "privacy", "synth"}
    head = connection.execute(text("SELECT version_num FROM core.alembic_version")).scalar()
    assert head is not None
    assert connection.execute(text("SELECT current_user")).scalar() == APP_ROLE


def test_extensions_needed_for_search_are_installed(connection: Connection) -> None:
    names = set(connection.execute(text("SELECT extname FROM pg_extension")).scalars())
    assert {"pg_trgm", "btree_gist"} <= names


def test_app_role_is_not_the_owner_and_cannot_create_schemas(connection: Connection) -> None:
    owner = connection.execute(
        text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'privacy'")
    ).scalar()
    assert owner == OWNER_ROLE
    with pytest.raises(ProgrammingError):
        connection.execute(text("CREATE SCHEMA intruder"))


def test_server_is_real_postgresql_on_a_socket_only(connection: Connection) -> None:
    version = connection.execute(text("SHOW server_version")).scalar()
    assert version is not None and int(version.split(".")[0]) >= 16
    assert connection.execute(text("SHOW listen_addresses")).scalar() == ""


def test_upgrade_again_is_a_no_op(fresh_db: FreshDatabase) -> None:
    """Running the migrations on a database already at head changes nothing."""
    from machi.core.db import make_engine

    engine = make_engine(fresh_db.owner_url, pool_size=1)
    before = database.current_revision(engine)
    database.upgrade(fresh_db.owner_url)
    assert database.current_revision(engine) == before is not None
    engine.dispose()
