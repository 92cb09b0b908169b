"""The My Number vault: the only code that reads or writes ``privacy.individual_number``.
Other contexts store, find and show 個人番号 through these functions and never touch the
table (design.md, My Number vault; controls.md AUTHZ-05, DISP-01, PHYS-13).

- A number is stored only sealed with AES-256-GCM (the key id travels with each row),
  bound to its subject so a sealed value cannot be moved to another person.
- Exact lookup uses a blind index, HMAC-SHA256 under the keyring's index key; the index
  key never changes with encryption-key rotation (see :func:`rebuild_index`).
- Everything shows :data:`MASK` unless the actor holds ``privacy.view_individual_number``
  in a 個人番号利用事務; each unmask needs a reason and is audited before it is returned.
- No number, and no part of one, is ever put in an audit row, a log line or an error.

Two kinds of entry points. :func:`store_number`, :func:`find_subject_by_number` and
:func:`number_for_display` join the caller's open unit of work: the caller's own service is
the declared action and commits. :func:`display_number`, :func:`rotate_keys` and
:func:`rebuild_index` are whole actions: they open their own unit of work (pass one that
is not open) and check their permission first.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from machi.core.errors import ConflictError, DomainError
from machi.core.numbers import is_valid_individual_number
from machi.core.uow import UnitOfWork
from machi.privacy import access, audit
from machi.privacy.actor import Actor
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.keys import Keyring
from machi.privacy.models import IndividualNumber
from machi.privacy.permissions import Permission

# What every screen, list, print and export shows instead of the number (DISP-01/02/04).
# No digit is kept, not even the last four: 4 of 12 digits narrow a number down to 10^7
# candidates (10^6 with the check digit) and, joined with a name and birth date, help
# identify the person; staff who need the number have the right to see all of it.
# Its length does not depend on the input, so it says nothing about the value either.
MASK = "＊" * 12
# Shown where a subject has no number on record, so "masked" and "none" differ on screen.
NOT_RECORDED = "未登録"

ACTION_STORE = "privacy.store_individual_number"
ACTION_SEARCH = "privacy.search_by_number"
ACTION_VIEW = "privacy.view_individual_number"
ACTION_PRINT = "privacy.print_individual_number"
ACTION_ROTATE = "privacy.rotate_keys"
ACTION_REBUILD_INDEX = "privacy.rebuild_index"

NOTE_MIN, NOTE_MAX = 2, 100
# A run of 12 digits in a free-text note is most likely a 個人番号 typed into the wrong
# field; separators are ignored so "1234 5678 9012" is caught too.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−－ー]")
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


class UnmaskReason(StrEnum):
    """Why a number is being shown unmasked (docs/decisions/0004-unmask-reasons.md).
    A fixed list, so the audit log holds a code rather than free text about a person."""

    IDENTITY_CHECK = "identity_check"
    CERTIFICATE = "certificate"
    ASSESSMENT_COLLECTION = "assessment_collection"
    INFORMATION_LINKAGE = "information_linkage"
    OTHER = "other"


UNMASK_REASON_LABELS: dict[UnmaskReason, str] = {
    UnmaskReason.IDENTITY_CHECK: "窓口での本人確認",
    UnmaskReason.CERTIFICATE: "証明書発行",
    UnmaskReason.ASSESSMENT_COLLECTION: "賦課・収納事務",
    UnmaskReason.INFORMATION_LINKAGE: "情報連携",
    UnmaskReason.OTHER: "その他",
}


def _error(code: PrivacyError, *, status: int | None = None) -> DomainError:
    return DomainError(code, MESSAGES[code], status=status)


def _context(subject_id: uuid.UUID) -> bytes:
    return f"individual_number:{subject_id}".encode()


def _index(keys: Keyring, number: str) -> bytes:
    # Domain-separated, so the same index key could index another kind of value later
    # without two kinds ever sharing an index value.
    return keys.hmac_index(b"individual_number\x00" + number.encode("ascii"))


def _open(keys: Keyring, row: IndividualNumber) -> str:
    if not keys.has_key(row.key_id):
        # A process started before a rotation does not know the new key: fail closed.
        raise _error(PrivacyError.KEY_UNAVAILABLE, status=503)
    return keys.open(row.ciphertext, context=_context(row.subject_id)).decode("ascii")


def _current(
    uow: UnitOfWork, subject_id: uuid.UUID, *, lock: bool = False
) -> IndividualNumber | None:
    query = select(IndividualNumber).where(
        IndividualNumber.subject_id == subject_id, IndividualNumber.superseded_at.is_(None)
    )
    return uow.session.scalar(query.with_for_update() if lock else query)


def _batch_after(
    uow: UnitOfWork, last_id: int, size: int, *where: ColumnElement[bool]
) -> Sequence[IndividualNumber]:
    """The next ``size`` rows after ``last_id``, locked: keyset paging, so a long run
    neither revisits rows nor misses rows inserted meanwhile."""
    return uow.session.scalars(
        select(IndividualNumber)
        .where(IndividualNumber.id > last_id, *where)
        .order_by(IndividualNumber.id)
        .limit(size)
        .with_for_update()
    ).all()


def masked(number_or_none: str | None) -> str:
    """What to show for a number without the right to see it: :data:`MASK` for any value
    (whatever its content or length), :data:`NOT_RECORDED` for none."""
    return NOT_RECORDED if number_or_none is None else MASK


def store_number(
    uow: UnitOfWork, actor: Actor, keys: Keyring, subject_id: uuid.UUID, number: str
) -> None:
    """Record ``number`` as the 個人番号 of ``subject_id``.

    Joins the caller's open unit of work: it neither opens ``with uow:`` nor commits, and
    the caller's service is the declared, authorised action. ``number`` must be 12 ASCII
    digits with a valid check digit (callers normalise full-width input first). A number
    already current for another subject is refused. A different number for the same
    subject supersedes the old row, which is kept (番号法 第7条第2項: numbers can change);
    storing the number the subject already has changes nothing.
    """
    if not is_valid_individual_number(number):
        raise _error(PrivacyError.INVALID_INDIVIDUAL_NUMBER)
    s = uow.session
    index = _index(keys, number)
    holder = s.scalar(
        select(IndividualNumber.subject_id).where(
            IndividualNumber.blind_index == index, IndividualNumber.superseded_at.is_(None)
        )
    )
    if holder == subject_id:
        return
    if holder is not None:
        raise _error(PrivacyError.INDIVIDUAL_NUMBER_IN_USE, status=409)
    now = uow.clock.now()
    # Locked, so two changes of the same subject's number cannot both supersede it.
    previous = _current(uow, subject_id, lock=True)
    try:
        if previous is not None:
            previous.superseded_at = now
            # Flushed before the insert: the partial unique index allows one current row.
            s.flush()
        s.add(
            IndividualNumber(
                subject_id=subject_id,
                ciphertext=keys.seal(number.encode("ascii"), context=_context(subject_id)),
                key_id=keys.current,
                blind_index=index,
                recorded_at=now,
            )
        )
        s.flush()
    except IntegrityError:
        # Another transaction stored the same number or the same subject first. The
        # database's message carries index values, so it is not chained into this error.
        raise ConflictError() from None
    audit.record(
        uow,
        actor,
        action=ACTION_STORE,
        subjects=[subject_id],
        detail={"superseded": int(previous is not None), "key_id": keys.current},
    )


def store_first_numbers(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    pairs: Sequence[tuple[uuid.UUID, str]],
) -> int:
    """Seal numbers for subjects that have none yet, in one COPY: for bulk loads (a
    migration or the synthetic town), where per-row storing would dominate the run. Joins
    the caller's open unit of work. Every number is validated; a subject that already has
    a number or a number held by someone else fails the whole batch (the unique indexes
    refuse it), so nothing is half-stored. One audit row records the count."""
    for _subject, number in pairs:
        if not is_valid_individual_number(number):
            raise _error(PrivacyError.INVALID_INDIVIDUAL_NUMBER)
    now = uow.clock.now()
    rows = [
        (
            subject,
            keys.seal(number.encode("ascii"), context=_context(subject)),
            keys.current,
            _index(keys, number),
            now,
        )
        for subject, number in pairs
    ]
    dbapi = uow.session.connection().connection.driver_connection
    assert dbapi is not None
    try:
        with (
            dbapi.cursor() as cur,
            cur.copy(
                "COPY privacy.individual_number"
                " (subject_id, ciphertext, key_id, blind_index, recorded_at) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except Exception as exc:  # the database's text names index values: not chained
        if type(exc).__name__ in ("UniqueViolation", "IntegrityError"):
            raise ConflictError() from None
        raise
    audit.record(
        uow,
        actor,
        action=ACTION_STORE,
        detail={"bulk": True, "count": len(rows), "key_id": keys.current},
    )
    return len(rows)


def find_subject_by_number(
    uow: UnitOfWork, actor: Actor, keys: Keyring, number: str
) -> uuid.UUID | None:
    """The subject whose current 個人番号 is ``number``, or None.

    Joins the caller's open unit of work (no commit here). Searching by number needs the
    number right, like seeing it (controls.md AUTHZ-05); the search is audited with its
    outcome, never with the number searched for."""
    access.require(uow, actor, Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER, action=ACTION_SEARCH)
    if not is_valid_individual_number(number):
        raise _error(PrivacyError.INVALID_INDIVIDUAL_NUMBER)
    subject = uow.session.scalar(
        select(IndividualNumber.subject_id).where(
            IndividualNumber.blind_index == _index(keys, number),
            IndividualNumber.superseded_at.is_(None),
        )
    )
    audit.record(
        uow,
        actor,
        action=ACTION_SEARCH,
        subjects=[subject] if subject is not None else [],
        detail={"found": int(subject is not None)},
    )
    return subject


def is_current_number(uow: UnitOfWork, keys: Keyring, subject_id: uuid.UUID, number: str) -> bool:
    """Whether ``number`` is the subject's current 個人番号, compared by blind index
    (nothing is decrypted). Joins the caller's open unit of work: the caller is the
    declared action that was handed both numbers (REG-CTRL-25: a change names the old one)."""
    row = _current(uow, subject_id)
    return (
        row is not None
        and is_valid_individual_number(number)
        and hmac.compare_digest(row.blind_index, _index(keys, number))
    )


def number_for_display(uow: UnitOfWork, actor: Actor, subject_id: uuid.UUID) -> str:
    """What list and detail screens show for everybody: :data:`MASK` if a number is on
    record, :data:`NOT_RECORDED` if not. Joins the caller's open unit of work; nothing is
    decrypted, so nothing beyond the caller's own read is audited. ``actor`` is taken so
    that every vault call says who is asking."""
    del actor
    return MASK if _current(uow, subject_id) is not None else NOT_RECORDED


def number_for_certificate(
    uow: UnitOfWork, actor: Actor, keys: Keyring, subject_id: uuid.UUID
) -> str | None:
    """The number to print on a 住民票の写し the person asked for with the number
    (住基法 第12条第5項; DISP-05). Joins the caller's open unit of work: the caller is the
    declared issuing action and has checked the request; this records that the number was
    printed (not its value). None when no number is on record."""
    row = _current(uow, subject_id)
    if row is None:
        return None
    audit.record(uow, actor, action=ACTION_PRINT, subjects=[subject_id])
    return _open(keys, row)


def _reason_detail(reason: UnmaskReason | str, note: str) -> dict[str, str]:
    try:
        code = UnmaskReason(reason)
    except ValueError:
        raise _error(PrivacyError.UNMASK_REASON_REQUIRED) from None
    if code is not UnmaskReason.OTHER:
        # The fixed code says it all; free text is kept only where no code fits.
        return {"reason": code.value}
    text = unicodedata.normalize("NFKC", note).strip()
    if not NOTE_MIN <= len(text) <= NOTE_MAX:
        raise _error(PrivacyError.UNMASK_REASON_REQUIRED)
    if _TWELVE_DIGITS.search(_SEPARATORS.sub("", text)):
        raise _error(PrivacyError.UNMASK_NOTE_HAS_NUMBER)
    return {"reason": code.value, "note": text}


def display_number(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    subject_id: uuid.UUID,
    *,
    reason: UnmaskReason | str,
    note: str = "",
) -> str:
    """The 個人番号 of ``subject_id``, unmasked, for an actor holding the number right in a
    個人番号利用事務 (AUTHZ-05, DISP-01); anyone else gets PermissionDenied (audited).

    ``reason`` is a code from :class:`UnmaskReason`; for ``other``, ``note`` must say why
    in 2–100 characters and may not contain a number. A whole action: it opens its own
    unit of work (pass one that is not open) and commits the audit row before returning,
    so no number is ever shown without its log entry."""
    access.require(
        uow,
        actor,
        Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER,
        action=ACTION_VIEW,
        subjects=(subject_id,),
    )
    detail = _reason_detail(reason, note)
    with uow:
        row = _current(uow, subject_id)
        if row is None:
            raise _error(PrivacyError.INDIVIDUAL_NUMBER_NOT_RECORDED, status=404)
        number = _open(keys, row)
        audit.record(uow, actor, action=ACTION_VIEW, subjects=[subject_id], detail=detail)
        uow.commit()
    return number


Progress = Callable[[int, int], None]


def _pending_rotation(uow: UnitOfWork, current: str) -> int:
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(IndividualNumber)
            .where(IndividualNumber.key_id != current)
        )
        or 0
    )


def rotate_keys(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    *,
    save: Callable[[Keyring], None],
    new_key: bool = True,
    batch: int = 1000,
    on_progress: Progress | None = None,
) -> int:
    """Re-encrypt every stored number (current and superseded) under the current key.

    With ``new_key`` (the default) a new key is first added to the keyring as current and
    handed to ``save``, which must make it durable: only then is any row sealed with it.
    Without ``new_key`` the run finishes an interrupted one (or catches rows written by a
    process that still had the old keyring). Each batch is its own transaction with an
    audit row carrying counts only; a re-run picks up exactly the rows not yet on the
    current key, so stopping at any point is safe. ``on_progress(done, total)`` follows
    each batch. Returns the number of rows re-encrypted. The index key is not changed
    (that would change every blind index): see :func:`rebuild_index`.
    """
    access.require(uow, actor, Permission.PRIVACY_ROTATE_KEYS, action=ACTION_ROTATE)
    if batch < 1:
        raise ValueError("batch must be positive")
    if new_key:
        keys = keys.with_new_key()
        save(keys)
    with uow:
        total = _pending_rotation(uow, keys.current)
        audit.record(
            uow,
            actor,
            action=ACTION_ROTATE,
            detail={
                "step": "start",
                "key_id": keys.current,
                "new_key": int(new_key),
                "rows_pending": total,
            },
        )
        uow.commit()
    if on_progress is not None:
        on_progress(0, total)
    done = 0
    last_id = 0
    while True:
        with uow:
            rows = _batch_after(uow, last_id, batch, IndividualNumber.key_id != keys.current)
            if not rows:
                break
            for row in rows:
                plain = _open(keys, row).encode("ascii")
                row.ciphertext = keys.seal(plain, context=_context(row.subject_id))
                row.key_id = keys.current
            audit.record(
                uow,
                actor,
                action=ACTION_ROTATE,
                detail={"step": "batch", "key_id": keys.current, "rows": len(rows)},
            )
            uow.commit()
        done += len(rows)
        last_id = rows[-1].id
        if on_progress is not None:
            on_progress(done, max(total, done))
    return done


def rebuild_index(
    uow: UnitOfWork,
    actor: Actor,
    keys: Keyring,
    *,
    save: Callable[[Keyring], None],
    batch: int = 1000,
    on_progress: Progress | None = None,
) -> int:
    """Replace the index key and recompute every blind index with it (docs/security.md).

    Unlike rotation this cannot be spread over many transactions: while old and new
    indexes were mixed, a lookup or the uniqueness check would miss numbers. So all rows
    change in one transaction, and the application must be stopped meanwhile (a running
    process still indexes with the old key). The new key is saved first; if the run then
    fails, the indexes are still the old ones and simply running it again (with yet
    another new key) repairs everything, since indexes are computed from the sealed
    numbers, not from the old key. Returns the number of rows re-indexed.
    """
    access.require(uow, actor, Permission.PRIVACY_ROTATE_KEYS, action=ACTION_REBUILD_INDEX)
    if batch < 1:
        raise ValueError("batch must be positive")
    keys = keys.with_new_index_key()
    save(keys)
    with uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(IndividualNumber)) or 0
        if on_progress is not None:
            on_progress(0, total)
        done = 0
        last_id = 0
        while True:
            rows = _batch_after(uow, last_id, batch)
            if not rows:
                break
            for row in rows:
                row.blind_index = _index(keys, _open(keys, row))
            s.flush()
            # Keep memory flat over millions of rows: flushed rows are not needed again.
            s.expunge_all()
            done += len(rows)
            last_id = rows[-1].id
            if on_progress is not None:
                on_progress(done, max(total, done))
        audit.record(uow, actor, action=ACTION_REBUILD_INDEX, detail={"rows": done})
        uow.commit()
    return done
