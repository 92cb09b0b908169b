"""Signed checkpoints of the audit log, and the verification that uses them
(controls.md LOG-14; docs/audit.md).

The hash chain shows an edited row, but not a rewrite that recomputes every later hash,
nor rows cut off the end: both leave a chain that is consistent with itself. A checkpoint
is an Ed25519 signature over (last audit id, head hash, row count, time); whoever edits
the log without the private key cannot make a matching one, so verification that
recomputes the chain up to each checkpoint finds the rewrite, and a log that ends before
the last checkpoint's row is reported as truncated.

The chain rule is the one in ``privacy.audit_log_chain()`` and ``audit.verify_chain``:
``row_hash = sha256(prev_hash || canonical text)``; this module walks it from a starting
point so that a checkpoint can continue from the previous one and an archived prefix
(docs/audit.md, retention) can be anchored on the checkpoint it was cut at.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from machi.core.errors import DomainError
from machi.core.uow import UnitOfWork
from machi.privacy import access, audit
from machi.privacy.actor import Actor
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.models import AuditCheckpoint
from machi.privacy.permissions import Permission
from machi.privacy.signing import AuditSigner, AuditVerifier

_BATCH = 10_000
_MESSAGE_TAG = "machi-audit-checkpoint-v1"

# Why a checkpoint is not confirmed. "beyond_end" is truncation (reported on its own);
# "unchecked" means the chain broke before its row; "archived" means its rows were
# archived (docs/audit.md) and only its signature could be checked.
CheckpointStatus = Literal[
    "ok",
    "signature",
    "unknown_key",
    "head_mismatch",
    "rows_mismatch",
    "rows_missing",
    "beyond_end",
    "unchecked",
    "archived",
]
_BAD: frozenset[str] = frozenset(
    {"signature", "unknown_key", "head_mismatch", "rows_mismatch", "rows_missing"}
)


def checkpoint_message(
    *, key_id: str, last_audit_id: int, head_hash: bytes, rows: int, at: datetime
) -> bytes:
    """The exact bytes that are signed. Fields are joined by U+001F like the audit row's
    canonical text; the time is UTC to the microsecond, as PostgreSQL stores it."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = (_MESSAGE_TAG, key_id, str(last_audit_id), head_hash.hex(), str(rows), stamp)
    return "\x1f".join(fields).encode("utf-8")


@dataclass(frozen=True)
class CheckpointWritten:
    id: int
    at: datetime
    last_audit_id: int
    rows: int
    head_hash: str
    key_id: str


@dataclass(frozen=True)
class VerifyResult:
    rows_checked: int
    first_broken_id: int | None
    head_hash: str
    checkpoints_total: int
    # Signature valid and the recomputed chain at its row has its head hash and row count.
    checkpoints_checked: int
    first_bad_checkpoint_id: int | None
    first_bad_checkpoint_reason: CheckpointStatus | None
    # The log ends before the row the last validly signed checkpoint names.
    truncated: bool
    # Rows up to this id were archived at a checkpoint signed at archived_at
    # (docs/audit.md); None if none were.
    archived_through_id: int | None
    archived_at: datetime | None

    @property
    def ok(self) -> bool:
        return (
            self.first_broken_id is None
            and self.first_bad_checkpoint_id is None
            and not self.truncated
        )


@dataclass(frozen=True)
class _State:
    """The chain after some prefix: rows in it, the last id, that row's hash."""

    rows: int
    last_id: int
    head: bytes


_GENESIS = _State(0, 0, b"")

# Why write_checkpoint would not sign: the error and the audit detail.
_Refusal = tuple[PrivacyError, dict[str, object]]


def _signature_check(cp: AuditCheckpoint, verifier: AuditVerifier) -> CheckpointStatus:
    message = checkpoint_message(
        key_id=cp.key_id,
        last_audit_id=cp.last_audit_id,
        head_hash=bytes(cp.head_hash),
        rows=cp.rows,
        at=cp.at,
    )
    return verifier.check(cp.key_id, message, bytes(cp.signature))


def _rows_after(session: Session, after: int) -> Iterator[tuple[int, str, bytes, bytes]]:
    last = after
    while True:
        batch = session.execute(
            text(
                "SELECT id, privacy.audit_canonical(a) AS canon, prev_hash, row_hash "
                "FROM privacy.audit_log a WHERE id > :after ORDER BY id LIMIT :n"
            ),
            {"after": last, "n": _BATCH},
        ).all()
        if not batch:
            return
        for row in batch:
            yield row.id, row.canon, bytes(row.prev_hash or b""), bytes(row.row_hash or b"")
        last = batch[-1].id


def _walk(
    session: Session,
    start: _State,
    stops: Sequence[int] = (),
) -> tuple[_State, int | None, dict[int, _State]]:
    """Recompute links after ``start``. Returns the state at the end (or just before the
    first broken row), that row's id, and the state as it stood at each id in ``stops``
    (sorted) that was reached: the state after every row with id <= stop."""
    pending = deque(sorted(set(stops)))
    at_stop: dict[int, _State] = {}
    state = start
    for row_id, canon, prev_hash, row_hash in _rows_after(session, start.last_id):
        while pending and pending[0] < row_id:
            at_stop[pending.popleft()] = state
        expected = hashlib.sha256(state.head + canon.encode("utf-8")).digest()
        if prev_hash != state.head or row_hash != expected:
            return state, row_id, at_stop
        state = _State(state.rows + 1, row_id, expected)
    while pending:
        at_stop[pending.popleft()] = state
    return state, None, at_stop


def _judge(cp: AuditCheckpoint, seen: _State, end: _State, complete: bool) -> CheckpointStatus:
    if seen.last_id == cp.last_audit_id:
        if seen.head != bytes(cp.head_hash):
            return "head_mismatch"
        return "ok" if seen.rows == cp.rows else "rows_mismatch"
    # The row the checkpoint ends on is gone. With nothing after it, the log was cut
    # short (truncation); with later rows present, rows were cut out and re-linked.
    return "beyond_end" if complete and seen is end else "rows_missing"


def verify(session: Session, verifier: AuditVerifier) -> VerifyResult:
    """Check every checkpoint's signature and recompute the whole chain once, comparing
    it with each checkpoint at its row. A read: writes nothing."""
    cps = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.last_audit_id, AuditCheckpoint.id)
    ).all()
    status: dict[int, CheckpointStatus] = {cp.id: _signature_check(cp, verifier) for cp in cps}
    signed = [cp for cp in cps if status[cp.id] == "ok"]

    start, anchor = _GENESIS, None
    first = session.execute(
        text("SELECT id, prev_hash FROM privacy.audit_log ORDER BY id LIMIT 1")
    ).first()
    if first is not None and bytes(first.prev_hash or b""):
        # The log does not start at the genesis row: acceptable only if it starts right
        # after a validly signed checkpoint whose head the first row links to (an archive).
        before = [cp for cp in signed if cp.last_audit_id < first.id]
        if before and bytes(before[-1].head_hash) == bytes(first.prev_hash):
            anchor = before[-1]
            start = _State(anchor.rows, anchor.last_audit_id, bytes(anchor.head_hash))

    later = [cp for cp in signed if anchor is None or cp.last_audit_id > anchor.last_audit_id]
    end, broken, at_stop = _walk(session, start, [cp.last_audit_id for cp in later])
    for cp in signed:
        if anchor is not None and cp.last_audit_id <= anchor.last_audit_id:
            status[cp.id] = "ok" if cp is anchor else "archived"
            continue
        seen = at_stop.get(cp.last_audit_id)
        status[cp.id] = "unchecked" if seen is None else _judge(cp, seen, end, broken is None)

    max_id = session.scalar(text("SELECT max(id) FROM privacy.audit_log")) or 0
    bad = [cp for cp in sorted(cps, key=lambda c: c.id) if status[cp.id] in _BAD]
    return VerifyResult(
        rows_checked=end.rows - start.rows,
        first_broken_id=broken,
        head_hash=end.head.hex(),
        checkpoints_total=len(cps),
        checkpoints_checked=sum(1 for v in status.values() if v == "ok"),
        first_bad_checkpoint_id=bad[0].id if bad else None,
        first_bad_checkpoint_reason=status[bad[0].id] if bad else None,
        truncated=bool(signed) and signed[-1].last_audit_id > max_id,
        archived_through_id=anchor.last_audit_id if anchor is not None else None,
        archived_at=anchor.at if anchor is not None else None,
    )


def write_checkpoint(uow: UnitOfWork, actor: Actor, signer: AuditSigner) -> CheckpointWritten:
    """Sign the current head of the audit log. Continues from the latest checkpoint: its
    signature must hold and its row must still carry its head hash, and the rows since
    must link; otherwise nothing is signed (signing a damaged log would bless it), the
    refusal is audited and the operator is sent to ``machi audit verify``."""
    access.require(
        uow, actor, Permission.PRIVACY_VERIFY_AUDIT_LOG, action="privacy.write_checkpoint"
    )
    refused: _Refusal | None = None
    with uow:
        s = uow.session
        start, refused = _resume_point(s, signer.verifier)
        if refused is None:
            end, broken, _ = _walk(s, start)
            if broken is not None:
                refused = (PrivacyError.AUDIT_CHAIN_BROKEN, {"first_broken_id": broken})
            else:
                written = _sign_and_store(uow, actor, signer, end)
                uow.commit()
                return written
    assert refused is not None
    error, detail = refused
    audit.record_alone(
        uow, actor, action="privacy.write_checkpoint", outcome="failed", detail=detail
    )
    raise DomainError(error, MESSAGES[error])


def _resume_point(session: Session, verifier: AuditVerifier) -> tuple[_State, _Refusal | None]:
    latest = session.scalars(
        select(AuditCheckpoint)
        .order_by(AuditCheckpoint.last_audit_id.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return _GENESIS, None
    signature = _signature_check(latest, verifier)
    if signature != "ok":
        return _GENESIS, _invalid(latest, signature)
    if latest.last_audit_id > 0:
        stored = session.scalar(
            text("SELECT row_hash FROM privacy.audit_log WHERE id = :id"),
            {"id": latest.last_audit_id},
        )
        # Only the head row is compared here; rows before it are verify's job (a full walk).
        if stored is None:
            return _GENESIS, _invalid(latest, "beyond_end")
        if bytes(stored) != bytes(latest.head_hash):
            return _GENESIS, _invalid(latest, "head_mismatch")
    return _State(latest.rows, latest.last_audit_id, bytes(latest.head_hash)), None


def _invalid(cp: AuditCheckpoint, reason: CheckpointStatus) -> _Refusal:
    return PrivacyError.AUDIT_CHECKPOINT_INVALID, {"checkpoint_id": cp.id, "reason": reason}


def _sign_and_store(
    uow: UnitOfWork, actor: Actor, signer: AuditSigner, end: _State
) -> CheckpointWritten:
    # Microseconds are what PostgreSQL keeps, so the signed time reads back identical.
    at = uow.clock.now()
    message = checkpoint_message(
        key_id=signer.key_id, last_audit_id=end.last_id, head_hash=end.head, rows=end.rows, at=at
    )
    cp = AuditCheckpoint(
        at=at,
        last_audit_id=end.last_id,
        head_hash=end.head,
        rows=end.rows,
        key_id=signer.key_id,
        signature=signer.sign(message),
    )
    uow.session.add(cp)
    uow.session.flush()
    # This row comes after the checkpoint, so the next checkpoint covers it.
    audit.record(
        uow,
        actor,
        action="privacy.write_checkpoint",
        detail={"checkpoint_id": cp.id, "last_audit_id": end.last_id, "rows": end.rows},
    )
    return CheckpointWritten(cp.id, at, end.last_id, end.rows, end.head.hex(), signer.key_id)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()
