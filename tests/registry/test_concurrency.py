"""Two clerks change the same 住民票 at once (optimistic locking on the version columns of
``registry.resident`` / ``registry.household``): the second gets ConflictError (409) and
nothing of the first is lost. Real transactions with real commits on a fresh database
(``migrated_engine``), two units of work; no rollback fixture in between. Fictitious data."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text

from machi.core.clock import JST, FixedClock
from machi.core.db import make_sessions
from machi.core.errors import ConflictError
from machi.core.uow import UnitOfWork
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.registry import services
from machi.registry.models import Address, Resident, ResidentVersion, TownArea
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from machi.registry.services import (
    Birth,
    Death,
    HouseholdHeadChange,
    MoveIn,
    MoveWithin,
    NewPerson,
    Recorded,
)

TODAY = date(2026, 11, 30)

# The 届出人 in person with a photo card checked: what every notice below presents
# (REG-CTRL-01).
NOTIFIED = Identification(ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,))


def clerk(n: int) -> Actor:
    return Actor(
        user_id=uuid.UUID(int=300 + n),
        login_name=f"clerk{n}",
        terminal=f"T-{n:02d}",
        affair="juki",
        grants=frozenset({("counter_clerk", "juki")}),
        permissions=frozenset({Permission.REGISTRY_VIEW, Permission.REGISTRY_RECORD_CHANGE}),
    )


A, B = clerk(1), clerk(2)


def uow_on(engine: Engine) -> UnitOfWork:
    return UnitOfWork(make_sessions(engine), FixedClock(datetime(2026, 11, 30, 10, tzinfo=JST)))


@dataclass(frozen=True)
class Family:
    head: uuid.UUID
    wife: uuid.UUID
    household: uuid.UUID
    lots: tuple[int, int]


@pytest.fixture
def family(migrated_engine: Engine) -> Family:
    with uow_on(migrated_engine) as uow:
        area = TownArea(
            code="000301",
            name="並行町",
            name_kana="ヘイコウチョウ",
            postal_code="9990301",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        lots = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in (1, 2)]
        uow.session.add_all(lots)
        uow.session.flush()
        first, second = (a.id for a in lots)
        uow.commit()

    def person(name: str, relationship: str, sex: int) -> NewPerson:
        return NewPerson(
            name=name,
            name_kana="ヘイコウ",
            birth_date=date(1970, 1, 1),
            sex=sex,
            relationship=relationship,
            registered_domicile="架空県架空市本町1番地",
        )

    done = services.move_in(
        uow_on(migrated_engine),
        A,
        MoveIn(
            persons=(person("並行 太郎", "head", 1), person("並行 花子", "wife", 2)),
            address_id=first,
            building=None,
            effective_on=date(2026, 11, 20),
            notified_on=date(2026, 11, 24),
            moved_in_from="架空県他市1番地",
            move_out_certificate=True,
            identification=Identification(
                ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
            ),
        ),
    )
    head, wife = done.resident_ids
    return Family(head, wife, done.household_ids[0], (first, second))


def _counts(engine: Engine, resident_id: uuid.UUID) -> tuple[int, int, int]:
    with uow_on(engine) as uow:
        s = uow.session
        versions = s.scalar(
            select(func.count())
            .select_from(ResidentVersion)
            .where(ResidentVersion.resident_id == resident_id)
        )
        audit = s.scalar(select(func.count()).select_from(AuditEntry))
        version = s.scalar(select(Resident.version).where(Resident.id == resident_id))
    return versions or 0, audit or 0, version or 0


def _open(engine: Engine, resident_id: uuid.UUID) -> ResidentVersion:
    with uow_on(engine) as uow:
        row = uow.session.scalar(
            select(ResidentVersion).where(
                ResidentVersion.resident_id == resident_id,
                ResidentVersion.valid_to.is_(None),
                ResidentVersion.superseded_at.is_(None),
            )
        )
        assert row is not None
        return row


def test_second_clerk_with_the_version_on_screen_gets_a_conflict(
    migrated_engine: Engine, family: Family
) -> None:
    """Both clerks open the record at the same version; A records a 転居 and commits; B's
    death entry, made against what B saw, is refused with 409 and writes nothing."""
    seen = _counts(migrated_engine, family.head)[2]
    move = MoveWithin(
        (family.head, family.wife),
        family.lots[1],
        None,
        date(2026, 11, 28),
        TODAY,
        expected_versions={family.head: seen},
        identification=NOTIFIED,
    )
    services.move_within(uow_on(migrated_engine), A, move)
    after_a = _counts(migrated_engine, family.head)
    with pytest.raises(ConflictError) as info:
        services.death(uow_on(migrated_engine), B, Death(family.head, TODAY, expected_version=seen))
    assert info.value.http_status == 409
    assert _counts(migrated_engine, family.head) == after_a
    kept = _open(migrated_engine, family.head)
    assert (kept.change_reason, kept.address_id) == ("move_within", family.lots[1])


# A claim of residents (alone or after their households): their version bump.
_RESIDENT_CLAIM = re.compile(r"UPDATE registry\.resident (?:AS \w+ )?SET version")


@pytest.fixture
def paused_claim(migrated_engine: Engine) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Holds the thread named ``clerk-a`` right after its first claim (the version bump of
    a resident), inside its open transaction, until released: (claimed, release)."""
    claimed, release = threading.Event(), threading.Event()

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            threading.current_thread().name == "clerk-a"
            and _RESIDENT_CLAIM.search(statement)
            and not claimed.is_set()
        ):
            claimed.set()
            release.wait(timeout=30)

    event.listen(migrated_engine, "after_cursor_execute", hold)
    yield claimed, release
    release.set()
    event.remove(migrated_engine, "after_cursor_execute", hold)


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_concurrent_transactions_on_one_record(
    migrated_engine: Engine,
    family: Family,
    paused_claim: tuple[threading.Event, threading.Event],
) -> None:
    """A real race without any version from a screen: clerk A's 転居 has claimed the
    record and not committed; clerk B's 世帯主変更 reads the old version and waits for A's
    row lock. When A commits, B's claim matches no row: ConflictError. A's change is whole
    and B left no trace (no history row, no audit row)."""
    claimed, release = paused_claim
    outcome: dict[str, object] = {}

    def run(name: str, fn: Any) -> threading.Thread:
        def target() -> None:
            try:
                outcome[name] = fn()
            except Exception as exc:
                outcome[name] = exc

        t = threading.Thread(target=target, name=f"clerk-{name}")
        t.start()
        return t

    before_b = _counts(migrated_engine, family.wife)
    move = MoveWithin(
        (family.head, family.wife),
        family.lots[1],
        None,
        date(2026, 11, 28),
        TODAY,
        identification=NOTIFIED,
    )
    a = run("a", lambda: services.move_within(uow_on(migrated_engine), A, move))
    assert claimed.wait(timeout=10)
    change = HouseholdHeadChange(
        family.household,
        family.wife,
        {family.head: "husband"},
        date(2026, 11, 29),
        TODAY,
        identification=NOTIFIED,
    )
    b = run("b", lambda: services.household_head_change(uow_on(migrated_engine), B, change))
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(migrated_engine):
        assert time.monotonic() < deadline, "B never waited for A's lock"
        time.sleep(0.01)
    release.set()
    a.join(timeout=10)
    b.join(timeout=10)
    assert not isinstance(outcome["a"], Exception), outcome["a"]
    assert isinstance(outcome["b"], ConflictError), outcome["b"]
    for rid in (family.head, family.wife):
        kept = _open(migrated_engine, rid)
        assert (kept.change_reason, kept.address_id) == ("move_within", family.lots[1])
    versions, audit, _ = _counts(migrated_engine, family.wife)
    assert versions == before_b[0] + 1  # A's 転居 only
    assert audit == before_b[1] + 1  # A's audit row only
    with uow_on(migrated_engine) as uow:
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_user_id == B.user_id)
        ).all()
    assert actions == []


def _start(name: str, fn: Callable[[], object], outcome: dict[str, object]) -> threading.Thread:
    """Runs ``fn`` in a thread named ``clerk-<name>``; its result or exception goes into
    ``outcome[name]``."""

    def target() -> None:
        try:
            outcome[name] = fn()
        except Exception as exc:
            outcome[name] = exc

    t = threading.Thread(target=target, name=f"clerk-{name}")
    t.start()
    return t


def _move_in_alone(engine: Engine, address_id: int) -> uuid.UUID:
    done = services.move_in(
        uow_on(engine),
        A,
        MoveIn(
            persons=(
                NewPerson(
                    name="下宿 一郎",
                    name_kana="ゲシュク イチロウ",
                    birth_date=date(1990, 1, 1),
                    sex=1,
                    relationship="head",
                    registered_domicile="架空県架空市本町2番地",
                ),
            ),
            address_id=address_id,
            building=None,
            effective_on=date(2026, 11, 20),
            notified_on=date(2026, 11, 24),
            moved_in_from="架空県他市2番地",
            move_out_certificate=True,
            identification=NOTIFIED,
        ),
    )
    (rid,) = done.resident_ids
    return rid


def test_opposite_orders_wait_for_each_other_instead_of_deadlocking(
    migrated_engine: Engine, family: Family
) -> None:
    """Two clerks record, at the same moment, a 転居 of the same two people from two
    households into a new one, naming them in opposite order. Claims lock households, then
    residents, each in id order, so one clerk waits for the other instead of both waiting
    for each other: the first is recorded, the second is refused with 409 (what it read
    has changed meanwhile), and the database reports no error at all (no deadlock)."""
    lodger = _move_in_alone(migrated_engine, family.lots[1])
    both_read = threading.Barrier(2, timeout=10)
    claiming: set[str] = set()
    sqlstates: list[str | None] = []

    def together(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        name = threading.current_thread().name
        if name.startswith("clerk-") and "UPDATE" in statement and name not in claiming:
            claiming.add(name)
            both_read.wait()  # each has read what it changes: now both claim at once

    def failed(context: Any) -> None:
        sqlstates.append(getattr(context.original_exception, "sqlstate", None))

    def move(order: tuple[uuid.UUID, uuid.UUID]) -> MoveWithin:
        return MoveWithin(
            order,
            family.lots[1],
            "並行荘 2号室",
            date(2026, 11, 28),
            TODAY,
            new_relationships={family.wife: "head", lodger: "cohabitant"},
            identification=NOTIFIED,
        )

    outcome: dict[str, object] = {}
    event.listen(migrated_engine, "before_cursor_execute", together)
    event.listen(migrated_engine, "handle_error", failed)
    try:
        clerks = [
            _start(
                "a",
                lambda: services.move_within(
                    uow_on(migrated_engine), A, move((family.wife, lodger))
                ),
                outcome,
            ),
            _start(
                "b",
                lambda: services.move_within(
                    uow_on(migrated_engine), B, move((lodger, family.wife))
                ),
                outcome,
            ),
        ]
        for t in clerks:
            t.join(timeout=30)
    finally:
        event.remove(migrated_engine, "before_cursor_execute", together)
        event.remove(migrated_engine, "handle_error", failed)
    assert sqlstates == []  # a deadlock would be 40P01 here
    refused = [o for o in outcome.values() if isinstance(o, Exception)]
    assert len(outcome) == 2 and len(refused) == 1, outcome
    assert isinstance(refused[0], ConflictError), refused[0]
    wife, moved = _open(migrated_engine, family.wife), _open(migrated_engine, lodger)
    assert wife.household_id == moved.household_id != family.household
    assert (wife.relationship, moved.relationship) == ("head", "cohabitant")
    assert _counts(migrated_engine, lodger)[0] == 2  # the 転入 and one 転居
    with uow_on(migrated_engine) as uow:
        moves = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "registry.move_within")
        ).all()
    assert len(moves) == 1


def test_a_household_changed_after_it_was_read_is_a_conflict(
    migrated_engine: Engine, family: Family
) -> None:
    """Clerk A's 転居 of the whole household has read who lives in it, and claimed
    nothing yet, when clerk B enters a newborn into the household and commits. A's claim
    finds the household changed since it was read and is refused (409): the couple is not
    moved without the baby, and A leaves no trace."""
    read, release = threading.Event(), threading.Event()

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            threading.current_thread().name == "clerk-a"
            and statement.startswith("SELECT")
            and "registry.resident_version" in statement
            and not read.is_set()
        ):
            read.set()
            release.wait(timeout=30)

    outcome: dict[str, object] = {}
    move = MoveWithin(
        (family.head, family.wife),
        family.lots[1],
        None,
        date(2026, 11, 28),
        TODAY,
        identification=NOTIFIED,
    )
    event.listen(migrated_engine, "after_cursor_execute", hold)
    try:
        a = _start("a", lambda: services.move_within(uow_on(migrated_engine), A, move), outcome)
        assert read.wait(timeout=10)
        baby = NewPerson(
            name="並行 三郎",
            name_kana="ヘイコウ サブロウ",
            birth_date=date(2026, 11, 25),
            sex=1,
            relationship="child",
            registered_domicile="架空県架空市本町1番地",
        )
        born = services.birth(
            uow_on(migrated_engine), B, Birth(family.household, baby, notified_on=TODAY)
        )
        release.set()
        a.join(timeout=10)
    finally:
        release.set()
        event.remove(migrated_engine, "after_cursor_execute", hold)
    assert isinstance(outcome["a"], ConflictError), outcome["a"]
    for rid in (family.head, family.wife, *born.resident_ids):
        kept = _open(migrated_engine, rid)
        assert (kept.household_id, kept.address_id) == (family.household, family.lots[0])
    with uow_on(migrated_engine) as uow:
        moves = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "registry.move_within")
        ).all()
    assert moves == []


def test_a_household_that_changes_while_a_move_waits_is_a_conflict(
    migrated_engine: Engine, family: Family
) -> None:
    """Clerk B enters a newborn into the household and has claimed it, not committed, when
    clerk A records a 転居 of the couple as the whole household; A waits for B's lock. When
    B commits, the household A read is no longer the one there: A is refused with 409 and
    leaves no trace, rather than moving the couple without the baby."""
    claimed, release = threading.Event(), threading.Event()

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            threading.current_thread().name == "clerk-b"
            and "UPDATE registry.household" in statement
            and not claimed.is_set()
        ):
            claimed.set()
            release.wait(timeout=30)

    baby = NewPerson(
        name="並行 三郎",
        name_kana="ヘイコウ サブロウ",
        birth_date=date(2026, 11, 25),
        sex=1,
        relationship="child",
        registered_domicile="架空県架空市本町1番地",
    )
    move = MoveWithin(
        (family.head, family.wife),
        family.lots[1],
        None,
        date(2026, 11, 28),
        TODAY,
        identification=NOTIFIED,
    )
    outcome: dict[str, object] = {}
    event.listen(migrated_engine, "after_cursor_execute", hold)
    try:
        b = _start(
            "b",
            lambda: services.birth(
                uow_on(migrated_engine), B, Birth(family.household, baby, notified_on=TODAY)
            ),
            outcome,
        )
        assert claimed.wait(timeout=10)
        a = _start("a", lambda: services.move_within(uow_on(migrated_engine), A, move), outcome)
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(migrated_engine):
            assert time.monotonic() < deadline, "A never waited for B's lock"
            time.sleep(0.01)
        release.set()
        b.join(timeout=10)
        a.join(timeout=10)
    finally:
        release.set()
        event.remove(migrated_engine, "after_cursor_execute", hold)
    assert isinstance(outcome["a"], ConflictError), outcome["a"]
    born = outcome["b"]
    assert isinstance(born, Recorded), born
    for rid in (family.head, family.wife, *born.resident_ids):
        kept = _open(migrated_engine, rid)
        assert (kept.household_id, kept.address_id) == (family.household, family.lots[0])
    with uow_on(migrated_engine) as uow:
        moves = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "registry.move_within")
        ).all()
    assert moves == []
