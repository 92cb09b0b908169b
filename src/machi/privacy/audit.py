"""Writing the audit log. Rows carry ids, codes and field names only: never a name, an
address, a 個人番号 or any other personal value."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from machi.core.uow import UnitOfWork
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry

# Built once: the statement is the same for every row, so it is compiled once too.
_INSERT = insert(cast(Table, AuditEntry.__table__))  # Core, not the ORM bulk path


def record(
    uow: UnitOfWork,
    actor: Actor,
    *,
    action: str,
    subjects: Sequence[object] = (),
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add the audit row to the open unit of work: it commits with the action or not at all.

    A plain INSERT rather than an ORM object: no id comes back (the chain trigger assigns
    it), which spares a RETURNING round trip on every audited read."""
    uow.session.execute(
        _INSERT,
        {
            "at": uow.clock.now(),
            "actor_user_id": actor.user_id,
            "terminal": actor.terminal,
            "affair": actor.affair,
            "purpose": actor.purpose,
            "action": action,
            "subject_ids": [str(s) for s in subjects],
            "outcome": outcome,
            "detail": dict(detail or {}),
        },
    )


def record_alone(
    uow: UnitOfWork,
    actor: Actor,
    *,
    action: str,
    subjects: Sequence[object] = (),
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Audit in a short transaction of its own: for refusals and failures, whose action's
    transaction rolls back."""
    with uow.fresh() as own:
        record(own, actor, action=action, subjects=subjects, outcome=outcome, detail=detail)
        own.commit()


@dataclass(frozen=True)
class ChainCheck:
    rows: int
    first_broken_id: int | None
    head_hash: str


def verify_chain(session: Session, *, batch: int = 10_000) -> ChainCheck:
    """Recompute every link in Python from the stored canonical text. The first row whose
    prev_hash does not match its predecessor or whose row_hash does not match its content
    is named."""
    prev = b""
    count = 0
    last_id = 0
    while True:
        rows = session.execute(
            text(
                "SELECT id, privacy.audit_canonical(a) AS canon, prev_hash, row_hash "
                "FROM privacy.audit_log a WHERE id > :after ORDER BY id LIMIT :n"
            ),
            {"after": last_id, "n": batch},
        ).all()
        if not rows:
            return ChainCheck(count, None, prev.hex())
        for row in rows:
            expected = hashlib.sha256(prev + row.canon.encode("utf-8")).digest()
            if bytes(row.prev_hash or b"") != prev or bytes(row.row_hash or b"") != expected:
                return ChainCheck(count, row.id, prev.hex())
            prev = expected
            count += 1
            last_id = row.id
