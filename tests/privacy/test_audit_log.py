"""The audit log is append-only and hash-chained (controls.md; issue: Foundation and
Privacy core). Tests run as the application role."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from machi.core.db import make_engine
from machi.core.uow import UnitOfWork
from machi.privacy import audit
from machi.privacy.actor import Actor
from support import FreshDatabase


def _write(uow: UnitOfWork, n: int) -> None:
    for i in range(n):
        with uow:
            audit.record(uow, Actor.operator(), action="test.write", detail={"i": i})
            uow.commit()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE privacy.audit_log SET outcome = 'ok'",
        "DELETE FROM privacy.audit_log",
        "TRUNCATE privacy.audit_log",
    ],
)
def test_app_role_cannot_change_or_remove_audit_rows(
    uow: UnitOfWork, connection: Connection, statement: str
) -> None:
    _write(uow, 1)
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError) as info:
        connection.execute(text(statement))
    savepoint.rollback()
    # Refused by privileges (42501) before the trigger even runs.
    assert info.value.orig is not None and info.value.orig.sqlstate == "42501"


def test_rows_are_chained_and_the_chain_verifies(uow: UnitOfWork) -> None:
    _write(uow, 3)
    with uow:
        rows = uow.session.execute(
            text("SELECT id, prev_hash, row_hash FROM privacy.audit_log ORDER BY id")
        ).all()
        check = audit.verify_chain(uow.session)
    assert len(rows) == 3
    assert bytes(rows[0].prev_hash) == b""
    assert bytes(rows[1].prev_hash) == bytes(rows[0].row_hash)
    assert bytes(rows[2].prev_hash) == bytes(rows[1].row_hash)
    assert check.rows == 3 and check.first_broken_id is None


def test_superuser_edit_is_found_by_verify(fresh_db: FreshDatabase) -> None:
    """Even the owner's trigger guard can be disabled by a superuser; the chain then
    names the first altered row."""
    from sqlalchemy.orm import sessionmaker

    from machi.core.clock import SystemClock

    app = make_engine(fresh_db.app_url, pool_size=1)
    uow = UnitOfWork(sessionmaker(bind=app, expire_on_commit=False), SystemClock())
    _write(uow, 4)
    sup = make_engine(fresh_db.superuser_url, pool_size=1)
    with sup.begin() as conn:
        ids = conn.execute(text("SELECT id FROM privacy.audit_log ORDER BY id")).scalars().all()
        conn.execute(text("ALTER TABLE privacy.audit_log DISABLE TRIGGER USER"))
        conn.execute(
            text("UPDATE privacy.audit_log SET detail = '{\"i\": 99}' WHERE id = :id"),
            {"id": ids[2]},
        )
        conn.execute(text("ALTER TABLE privacy.audit_log ENABLE TRIGGER USER"))
    with uow:
        check = audit.verify_chain(uow.session)
    assert check.first_broken_id == ids[2] and check.rows == 2
    app.dispose()
    sup.dispose()
