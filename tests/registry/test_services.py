"""Registry commands against PostgreSQL: each 異動 with a worked example, and its refusals,
which must write nothing (row counts, audit rows and outbox rows compared before and
after). Requirement ids (REG-CTRL-nn, OQ-nn) are those of shared/spec/registry.md. Every
name, number and address is fictitious."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, table, update
from sqlalchemy.exc import IntegrityError

from machi.bootstrap import Runtime
from machi.core.errors import ConflictError, CoreError, DomainError, NotFoundError
from machi.core.models import OutboxEvent
from machi.core.numbers import individual_number_check_digit
from machi.core.text import normalize_kana, normalize_name
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.registry import rules, services
from machi.registry.errors import RegistryError
from machi.registry.models import (
    Address,
    Household,
    PendingApproval,
    ProtectionMeasure,
    RecordNote,
    Resident,
    ResidentVersion,
    TownArea,
)
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from machi.registry.services import (
    Birth,
    CardBasedMoveIn,
    Death,
    Decision,
    ExOfficioCorrection,
    ExOfficioDeletion,
    ExOfficioEntry,
    ForeignResidentStatusChange,
    HouseholdHeadChange,
    HouseholdMerge,
    HouseholdSplit,
    IndividualNumberChange,
    MoveIn,
    MoveOutConfirmation,
    MoveWithin,
    NewPerson,
    PlannedMoveOut,
    ProtectionMeasureEnd,
    ProtectionMeasureRequest,
    Recorded,
)

TODAY = date(2026, 11, 30)  # the FixedClock of tests/conftest.py
FORMER_TOWN = "999989"  # fictitious 地方公共団体コード with a valid check digit
_CLERK_PERMS = frozenset(
    {
        Permission.REGISTRY_VIEW,
        Permission.REGISTRY_RECORD_CHANGE,
        Permission.REGISTRY_REQUEST_EX_OFFICIO,
        Permission.REGISTRY_ISSUE_CERTIFICATE,
    }
)
# The 届出人 in person with a photo card checked: what every notice below presents
# (REG-CTRL-01).
NOTIFIED = Identification(ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,))

CLERK = Actor(
    user_id=uuid.UUID(int=101),
    login_name="clerk",
    terminal="T-01",
    affair="juki",
    grants=frozenset({("counter_clerk", "juki")}),
    permissions=_CLERK_PERMS,
)
SUPERVISOR = Actor(
    user_id=uuid.UUID(int=102),
    login_name="supervisor",
    terminal="T-02",
    affair="juki",
    grants=frozenset({("registry_supervisor", "juki")}),
    permissions=_CLERK_PERMS
    | {
        Permission.REGISTRY_APPROVE,
        Permission.REGISTRY_MANAGE_PROTECTION,
        Permission.REGISTRY_BULK_LOAD,
        Permission.REGISTRY_EXPORT,
    },
)
NUMBER_HANDLER = Actor(
    user_id=uuid.UUID(int=103),
    login_name="numbers",
    terminal="T-03",
    affair="juki",
    permissions=frozenset({Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER}),
)
COUNTED = (
    "registry.town_area",
    "registry.address",
    "registry.household",
    "registry.resident",
    "registry.resident_version",
    "registry.pending_approval",
    "registry.protection_measure",
    "registry.record_note",
    "privacy.individual_number",
    "privacy.audit_log",
    "core.outbox",
)


# -- setup --------------------------------------------------------------------------------


def number(first11: str) -> str:
    """A fictitious 個人番号 with a valid check digit."""
    return first11 + str(individual_number_check_digit(first11))


def person(name: str = "架空 太郎", relationship: str = "head", **kw: Any) -> NewPerson:
    values: dict[str, Any] = {
        "name": name,
        "name_kana": "カクウ タロウ",
        "birth_date": date(1980, 4, 1),
        "sex": 1,
        "relationship": relationship,
        "registered_domicile": "架空県架空市本町1番地",
        "family_register_head": "架空 太郎",
    }
    values.update(kw)
    return NewPerson(**values)


def foreigner(**kw: Any) -> NewPerson:
    values: dict[str, Any] = {
        "name": "SAMPLE ALEX",
        "name_kana": "サンプル アレックス",
        "birth_date": date(1990, 5, 5),
        "sex": 1,
        "relationship": "head",
        "foreign_resident": True,
        "nationality": "ZZ",
        "foreign_resident_class": "mid_to_long_term",
        "residence_status": "技術・人文知識・国際業務",
        "residence_period": "3年",
        "residence_expires_on": date(2028, 4, 1),
        "residence_card_no": "AB12345678CD",
        "alphabet_name": "SAMPLE ALEX",
    }
    values.update(kw)
    return NewPerson(**values)


@pytest.fixture
def lots(rt: Runtime) -> list[int]:
    """Address master: three lots of a fictitious 町字."""
    with rt.uow() as uow:
        area = TownArea(
            code="000101",
            name="架空町",
            name_kana="カクウチョウ",
            postal_code="9990001",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        rows = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in (1, 2, 3, 4)]
        uow.session.add_all(rows)
        uow.session.flush()
        ids = [a.id for a in rows]
        uow.commit()
    return ids


def move_in_cmd(lots: list[int], *persons: NewPerson, **kw: Any) -> MoveIn:
    values: dict[str, Any] = {
        "persons": persons or (person(),),
        "address_id": lots[0],
        "building": None,
        "effective_on": date(2026, 11, 20),
        "notified_on": date(2026, 11, 25),
        "moved_in_from": "架空県架空市中町1番地",
        "moved_in_from_local_government_code": FORMER_TOWN,
        "move_out_certificate": True,
        "identification": Identification(
            ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
        ),
    }
    values.update(kw)
    return MoveIn(**values)


def family(rt: Runtime, lots: list[int], *extra: NewPerson) -> Recorded:
    """A household of 世帯主 and 妻 (and ``extra``) that moved in on 2026-11-20."""
    wife = person(
        "架空 花子", "wife", name_kana="カクウ ハナコ", sex=2, birth_date=date(1982, 6, 1)
    )
    return services.move_in(rt.uow(), CLERK, move_in_cmd(lots, person(), wife, *extra))


def footprint(rt: Runtime) -> dict[str, int]:
    with rt.uow() as uow:
        return {
            name: uow.session.scalar(
                select(func.count()).select_from(
                    table(name.split(".")[1], schema=name.split(".")[0])
                )
            )
            or 0
            for name in COUNTED
        }


def refused(rt: Runtime, call: Callable[[], object], code: object) -> DomainError:
    """The call is refused with ``code`` and leaves no trace (domain rows, audit, outbox)."""
    before = footprint(rt)
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.code == code, info.value.message
    assert footprint(rt) == before
    return info.value


def versions(rt: Runtime, resident_id: uuid.UUID, *, live: bool = True) -> list[ResidentVersion]:
    with rt.uow() as uow:
        q = select(ResidentVersion).where(ResidentVersion.resident_id == resident_id)
        if live:
            q = q.where(ResidentVersion.superseded_at.is_(None))
        return list(uow.session.scalars(q.order_by(ResidentVersion.history_no)))


def open_row(rt: Runtime, resident_id: uuid.UUID) -> ResidentVersion:
    (row,) = [v for v in versions(rt, resident_id) if v.valid_to is None]
    return row


def as_of(rt: Runtime, resident_id: uuid.UUID, on: date) -> ResidentVersion | None:
    rows = [
        v
        for v in versions(rt, resident_id, live=False)
        if rules.in_force(
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            recorded_at=v.recorded_at,
            superseded_at=v.superseded_at,
            closed_at=v.closed_at,
            on=on,
        )
    ]
    assert len(rows) <= 1
    return rows[0] if rows else None


def resident(rt: Runtime, resident_id: uuid.UUID) -> Resident:
    with rt.uow() as uow:
        row = uow.session.get(Resident, resident_id)
        assert row is not None
        return row


def audits(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def events(rt: Runtime, name: str) -> list[dict[str, Any]]:
    with rt.uow() as uow:
        return [
            e.payload
            for e in uow.session.scalars(
                select(OutboxEvent).where(OutboxEvent.name == name).order_by(OutboxEvent.id)
            )
        ]


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def no_personal_values(entry: AuditEntry, *values: str) -> None:
    """None of ``values`` in the row's detail. Ids (UUIDs) are taken out first: a short
    宛名番号 such as 19 is found inside a random UUID now and then, which is not a leak."""
    blob = _UUID.sub("<id>", json.dumps(entry.detail, ensure_ascii=False))
    for v in values:
        assert v not in blob


# -- 転入 ----------------------------------------------------------------------------------


def test_move_in_enters_a_household_with_history_audit_and_events(
    rt: Runtime, lots: list[int]
) -> None:
    """E-01: 転入 of a family forms a household; 宛名番号 carry a valid check digit."""
    done = family(rt, lots)
    assert not done.late_notice and len(done.resident_ids) == 2
    head, wife = done.resident_ids
    (household_id,) = done.household_ids
    for rid in done.resident_ids:
        r = resident(rt, rid)
        assert r.status == "current" and rules.is_valid_addressee_no(r.addressee_no)
        (v,) = versions(rt, rid)
        assert (v.history_no, v.valid_from, v.valid_to) == (1, date(2026, 11, 20), None)
        assert v.change_reason == "domestic_move_in" and v.notice_kind == "notification"
        assert v.notified_on == date(2026, 11, 25) and v.recorded_by == CLERK.user_id
        assert v.moved_in_on == v.became_resident_on == v.address_set_on == date(2026, 11, 20)
        assert v.moved_in_from_local_government_code == FORMER_TOWN
        assert v.household_id == household_id and v.address_id == lots[0]
    assert [open_row(rt, r).relationship for r in (head, wife)] == ["head", "wife"]
    assert [open_row(rt, r).display_order for r in (head, wife)] == [1, 2]
    with rt.uow() as uow:
        h = uow.session.get(Household, household_id)
        assert h is not None and rules.is_valid_addressee_no(h.household_no)
    (entry,) = audits(rt, "registry.move_in")
    assert entry.detail["change_reason"] == ["domestic_move_in"]
    assert entry.detail["move_out_certificate"] == "collected"
    assert set(entry.subject_ids) == {str(head), str(wife), str(household_id)}
    no_personal_values(entry, "架空", "カクウ", FORMER_TOWN)
    moved = events(rt, "registry.resident_moved_in")
    assert [m["resident_id"] for m in moved] == [str(head), str(wife)]
    assert moved[0]["from_local_government_code"] == FORMER_TOWN and not moved[0]["re_entry"]


def test_late_move_in_is_recorded_and_flagged_not_refused(rt: Runtime, lots: list[int]) -> None:
    """OQ-01 / 法第22条: 転入 on 1 Oct notified on 30 Nov is past the 14 days; recorded with
    the late flag on the version (memo) and in the audit detail."""
    cmd = move_in_cmd(lots, effective_on=date(2026, 10, 1), notified_on=TODAY)
    done = services.move_in(rt.uow(), CLERK, cmd)
    assert done.late_notice
    v = open_row(rt, done.resident_ids[0])
    with rt.uow() as uow:
        (note,) = uow.session.scalars(select(RecordNote).where(RecordNote.version_id == v.id))
    assert note.kind == "memo" and note.body == services.LATE_NOTICE_MEMO
    assert audits(rt, "registry.move_in")[0].detail["late_notice"] is True


def test_move_in_from_abroad(rt: Runtime, lots: list[int]) -> None:
    """E-03 / 法第30条の46: a 中長期在留者 arriving from abroad; a Japanese national too."""
    cmd = move_in_cmd(
        lots,
        foreigner(),
        from_abroad=True,
        moved_in_from="国外",
        moved_in_from_local_government_code=None,
    )
    (rid,) = services.move_in(rt.uow(), CLERK, cmd).resident_ids
    v = open_row(rt, rid)
    assert v.change_reason == "foreign_resident_entry" and v.foreign_resident
    assert v.became_foreign_resident_on == date(2026, 11, 20) and v.registered_domicile is None
    # A family with members of both nationalities: each gets its own reason.
    spouse = foreigner(relationship="wife", sex=2, residence_card_no="AB99999999CD")
    cmd = replace(cmd, persons=(person(), spouse), address_id=lots[1])
    japanese, foreign = services.move_in(rt.uow(), CLERK, cmd).resident_ids
    assert open_row(rt, japanese).change_reason == "move_in_from_abroad"
    assert open_row(rt, foreign).change_reason == "foreign_resident_entry"
    assert audits(rt, "registry.move_in")[-1].detail["change_reason"] == [
        "foreign_resident_entry",
        "move_in_from_abroad",
    ]
    assert audits(rt, "registry.move_in")[-1].detail["move_out_certificate"] == "not_applicable"


def test_move_in_joins_an_existing_household(rt: Runtime, lots: list[int]) -> None:
    done = family(rt, lots)
    child = person("架空 一郎", "child", name_kana="カクウ イチロウ", birth_date=date(2005, 1, 1))
    cmd = move_in_cmd(lots, child, household_id=done.household_ids[0])
    (rid,) = services.move_in(rt.uow(), CLERK, cmd).resident_ids
    v = open_row(rt, rid)
    assert (v.household_id, v.relationship, v.display_order) == (done.household_ids[0], "child", 3)


def _already_here(rt: Runtime, lots: list[int]) -> MoveIn:
    services.move_in(rt.uow(), CLERK, move_in_cmd(lots, person(resident_record_code="12345678901")))
    return move_in_cmd(lots, person(resident_record_code="12345678901"), address_id=lots[1])


def _card_taken(rt: Runtime, lots: list[int]) -> MoveIn:
    services.move_in(rt.uow(), CLERK, move_in_cmd(lots, foreigner()))
    return move_in_cmd(lots, foreigner(name="OTHER SAM"), address_id=lots[1])


def _household_gone(rt: Runtime, lots: list[int]) -> MoveIn:
    return move_in_cmd(lots, household_id=uuid.uuid4())


@pytest.mark.parametrize(
    ("build", "code"),
    [
        # REG-CTRL-17: the CS logic check, 転入 of a person already resident.
        (_already_here, RegistryError.ALREADY_RESIDENT),
        (_card_taken, RegistryError.ALREADY_RESIDENT),
        (
            lambda rt, lots: move_in_cmd(lots, effective_on=date(2026, 11, 26)),
            RegistryError.EFFECTIVE_ON_AFTER_NOTIFIED_ON,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, effective_on=date(2026, 12, 5)),
            RegistryError.EFFECTIVE_ON_IN_FUTURE,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, notified_on=date(2026, 12, 1)),
            RegistryError.NOTIFIED_ON_IN_FUTURE,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(birth_date=date(2026, 11, 21))),
            RegistryError.EFFECTIVE_ON_BEFORE_BIRTH,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(resident_record_code="1234")),
            RegistryError.INVALID_RESIDENT_RECORD_CODE,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(), person("架空 次郎")),
            RegistryError.HOUSEHOLD_HEAD_DUPLICATED,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(relationship="wife")),
            RegistryError.HOUSEHOLD_HEAD_MISSING,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(relationship="grandson")),
            RegistryError.INVALID_RELATIONSHIP,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(registered_domicile=None)),
            RegistryError.REGISTERED_DOMICILE_REQUIRED,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, foreigner(residence_card_no=None)),
            RegistryError.FOREIGN_RESIDENT_ITEM_MISSING,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, foreigner(residence_card_no="AB123")),
            RegistryError.INVALID_RESIDENCE_CARD_NO,
        ),
        (
            lambda rt, lots: move_in_cmd(lots, person(alias_name="通称")),
            RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT,
        ),
        # Missing codes (reported): a wrong check digit, an unknown lot.
        (
            lambda rt, lots: move_in_cmd(lots, moved_in_from_local_government_code="999980"),
            CoreError.INVALID_INPUT,
        ),
        (lambda rt, lots: move_in_cmd(lots, address_id=-1), CoreError.INVALID_INPUT),
        (_household_gone, CoreError.NOT_FOUND),
    ],
)
def test_move_in_refusals_write_nothing(
    rt: Runtime, lots: list[int], build: Callable[[Runtime, list[int]], MoveIn], code: object
) -> None:
    cmd = build(rt, lots)
    refused(rt, lambda: services.move_in(rt.uow(), CLERK, cmd), code)


def test_re_entry_reuses_the_removed_record_and_its_addressee_no(
    rt: Runtime, lots: list[int]
) -> None:
    """REG-CTRL-26: a 転入 of someone whose 除票 is here reuses the record and 宛名番号."""
    first = services.move_in(
        rt.uow(), CLERK, move_in_cmd(lots, person(resident_record_code="12345678901"))
    )
    (rid,) = first.resident_ids
    number_before = resident(rt, rid).addressee_no
    services.planned_move_out(
        rt.uow(),
        CLERK,
        PlannedMoveOut(
            (rid,),
            date(2026, 11, 24),
            date(2026, 11, 24),
            "架空県他市1番地",
            FORMER_TOWN,
            identification=NOTIFIED,
        ),
    )
    again = move_in_cmd(
        lots,
        person(resident_record_code="12345678901"),
        effective_on=date(2026, 11, 28),
        notified_on=TODAY,
    )
    assert services.move_in(rt.uow(), CLERK, again).resident_ids == (rid,)
    r = resident(rt, rid)
    assert (r.status, r.addressee_no) == ("current", number_before)
    assert [(v.history_no, v.removed) for v in versions(rt, rid)] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert events(rt, "registry.resident_moved_in")[-1]["re_entry"] is True


def test_card_based_move_in(rt: Runtime, lots: list[int]) -> None:
    """E-02 / OQ-08: within 30 days of the planned move-out and 14 of the move-in."""
    cmd = CardBasedMoveIn(move_in_cmd(lots), planned_move_out_on=date(2026, 11, 15))
    (rid,) = services.card_based_move_in(rt.uow(), CLERK, cmd).resident_ids
    assert open_row(rt, rid).change_reason == "card_based_move_in"
    assert audits(rt, "registry.card_based_move_in")[0].detail["move_out_certificate"] == (
        "card_based"
    )
    late = CardBasedMoveIn(
        move_in_cmd(lots, person("架空 次郎"), address_id=lots[1]),
        planned_move_out_on=date(2026, 10, 1),
    )
    refused(
        rt,
        lambda: services.card_based_move_in(rt.uow(), CLERK, late),
        RegistryError.CARD_BASED_MOVE_IN_EXPIRED,
    )


# -- 転出 ----------------------------------------------------------------------------------


def test_planned_move_out_keeps_what_a_move_out_certificate_needs(
    rt: Runtime, lots: list[int]
) -> None:
    """E-05: 転出 notified in advance; the removed row starts on the planned date and keeps
    every item of the 転出証明書 (住基令第23条) plus the planned destination."""
    head, wife = family(rt, lots).resident_ids
    cmd = PlannedMoveOut(
        (head, wife),
        planned_on=date(2026, 12, 10),
        notified_on=TODAY,
        destination="架空県他市2番地",
        destination_local_government_code=FORMER_TOWN,
        destination_postal_code="9990002",
        identification=NOTIFIED,
    )
    done = services.planned_move_out(rt.uow(), CLERK, cmd)
    assert not done.late_notice
    before, after = versions(rt, head)
    assert before.valid_to == after.valid_from == date(2026, 12, 10) and after.removed
    assert after.change_reason == "domestic_move_out" and after.notified_on == TODAY
    assert after.planned_move_out_to_local_government_code == FORMER_TOWN
    assert (after.planned_move_out_on, after.planned_move_out_to_postal_code) == (
        date(2026, 12, 10),
        "9990002",
    )
    for item in ("name", "birth_date", "sex", "relationship", "registered_domicile", "address_id"):
        assert getattr(after, item) == getattr(before, item)
    assert resident(rt, head).status == "removed"
    # Until the planned day the person is still a resident.
    now_row = as_of(rt, head, TODAY)
    assert now_row is not None and now_row.id == before.id
    with rt.uow() as uow:
        h = uow.session.get(Household, done.household_ids[0])
        assert h is not None and h.dissolved_on == date(2026, 12, 10)
    moved = events(rt, "registry.resident_moved_out")
    assert [m["confirmed"] for m in moved] == [False, False]


def test_head_moving_out_leaves_the_sole_member_as_head(rt: Runtime, lots: list[int]) -> None:
    """標準仕様 j490: with one member left, that member becomes 世帯主 ex officio."""
    head, wife = family(rt, lots).resident_ids
    cmd = PlannedMoveOut(
        (head,), TODAY, TODAY, "架空県他市2番地", FORMER_TOWN, identification=NOTIFIED
    )
    done = services.planned_move_out(rt.uow(), CLERK, cmd)
    assert set(done.resident_ids) == {head, wife}
    w = open_row(rt, wife)
    assert (w.relationship, w.change_reason, w.valid_from) == (
        "head",
        "household_head_change",
        TODAY,
    )
    (changed,) = events(rt, "registry.household_changed")
    assert changed["resident_id"] == str(wife) and changed["became_head"] is True


def test_move_out_notified_after_the_move_is_late_and_after_14_days_refused(
    rt: Runtime, lots: list[int]
) -> None:
    """法第24条 asks for advance notice: after the move it is late; 14 days on, 職権消除."""
    (rid,) = services.move_in(
        rt.uow(),
        CLERK,
        move_in_cmd(lots, effective_on=date(2026, 10, 1), notified_on=date(2026, 10, 5)),
    ).resident_ids
    too_late = PlannedMoveOut(
        (rid,), date(2026, 11, 2), TODAY, "架空県他市", FORMER_TOWN, identification=NOTIFIED
    )
    refused(
        rt,
        lambda: services.planned_move_out(rt.uow(), CLERK, too_late),
        RegistryError.MOVE_OUT_NOTICE_TOO_LATE,
    )
    late = replace(too_late, planned_on=date(2026, 11, 25))
    assert services.planned_move_out(rt.uow(), CLERK, late).late_notice
    refused(
        rt,
        lambda: services.planned_move_out(rt.uow(), CLERK, replace(late, planned_on=TODAY)),
        RegistryError.NOT_RESIDENT,
    )


def test_confirm_move_out_fixes_the_removed_record(rt: Runtime, lots: list[int]) -> None:
    """E-05 / OQ-17: the 転入通知 adds the confirmed date and destination; planned stays."""
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    refused(
        rt,
        lambda: services.confirm_move_out(
            rt.uow(), CLERK, MoveOutConfirmation(rid, TODAY, "他市", TODAY)
        ),
        CoreError.INVALID_INPUT,
    )
    services.planned_move_out(
        rt.uow(),
        CLERK,
        PlannedMoveOut(
            (rid,),
            date(2026, 11, 25),
            date(2026, 11, 24),
            "予定先",
            FORMER_TOWN,
            identification=NOTIFIED,
        ),
    )
    cmd = MoveOutConfirmation(rid, date(2026, 11, 26), "確定先", TODAY, FORMER_TOWN, "9990003")
    services.confirm_move_out(rt.uow(), CLERK, cmd)
    v = open_row(rt, rid)
    assert v.removed and v.change_reason == "move_out_confirmation" and v.notice_kind == "notice"
    assert (v.planned_move_out_to, v.moved_out_to) == ("予定先", "確定先")
    assert (v.moved_out_on, v.move_in_notice_received_on) == (date(2026, 11, 26), TODAY)
    assert events(rt, "registry.resident_moved_out")[-1]["confirmed"] is True
    refused(rt, lambda: services.confirm_move_out(rt.uow(), CLERK, cmd), CoreError.INVALID_INPUT)


# -- 転居 ----------------------------------------------------------------------------------


def test_move_within_changes_only_the_address(rt: Runtime, lots: list[int]) -> None:
    """E-04 / REG-CTRL-18: the whole household moves; only address items change."""
    done = family(rt, lots)
    cmd = MoveWithin(
        done.resident_ids,
        lots[1],
        "架空荘 101号室",
        date(2026, 11, 28),
        TODAY,
        identification=NOTIFIED,
    )
    services.move_within(rt.uow(), CLERK, cmd)
    for rid in done.resident_ids:
        before, after = versions(rt, rid)
        assert after.change_reason == "move_within" and after.valid_from == date(2026, 11, 28)
        changed = rules.changed_fields(services._snapshot(before), services._snapshot(after))
        assert set(changed) == {"address_id", "building", "address_set_on"}
    (entry,) = audits(rt, "registry.move_within")
    assert entry.detail["fields"] == ["address_id", "address_set_on", "building"]
    no_personal_values(entry, "架空荘")
    assert [e["previous_household_id"] for e in events(rt, "registry.resident_moved_within")] == [
        None,
        None,
    ]


def test_move_within_of_part_of_a_household_forms_a_new_one(rt: Runtime, lots: list[int]) -> None:
    child = person("架空 一郎", "child", name_kana="カクウ イチロウ", birth_date=date(2000, 1, 1))
    done = family(rt, lots, child)
    head, _wife, son = done.resident_ids
    cmd = MoveWithin(
        (son,),
        lots[2],
        None,
        date(2026, 11, 28),
        TODAY,
        new_relationships={son: "head"},
        identification=NOTIFIED,
    )
    result = services.move_within(rt.uow(), CLERK, cmd)
    v = open_row(rt, son)
    assert v.household_id not in done.household_ids and v.relationship == "head"
    assert open_row(rt, head).relationship == "head"  # still two left: nothing else changes
    assert set(result.household_ids) == {done.household_ids[0], v.household_id}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"address_id": None}, RegistryError.MOVE_WITHIN_ADDRESS_UNCHANGED),
        ({"effective_on": date(2026, 11, 19)}, CoreError.INVALID_INPUT),  # before the 転入
        ({"resident_ids": "head"}, CoreError.INVALID_INPUT),  # part of the household, no place
        ({"new_relationships": "wife-head"}, RegistryError.HOUSEHOLD_HEAD_MISSING),
    ],
)
def test_move_within_refusals_write_nothing(
    rt: Runtime, lots: list[int], change: dict[str, Any], code: object
) -> None:
    head, wife = family(rt, lots).resident_ids
    cmd = MoveWithin(
        (head, wife), lots[1], None, date(2026, 11, 28), TODAY, identification=NOTIFIED
    )
    if "address_id" in change:
        cmd = replace(cmd, address_id=lots[0])
    if "effective_on" in change:
        cmd = replace(cmd, effective_on=change["effective_on"])
    if change.get("resident_ids") == "head":
        cmd = replace(cmd, resident_ids=(head,))
    if change.get("new_relationships") == "wife-head":
        cmd = replace(cmd, resident_ids=(wife,), new_relationships={wife: "wife"})
    refused(rt, lambda: services.move_within(rt.uow(), CLERK, cmd), code)


def test_move_within_closes_each_row_and_numbers_the_next(rt: Runtime, lots: list[int]) -> None:
    """Each mover's row in force is closed on the 異動日, as recorded now (``closed_at``,
    docs/decisions/0009), and the new row takes the next 履歴番号, counting the rows a
    職権修正 re-recorded; the new rows keep the search keys of the names (REG-CTRL-18)."""
    done = family(rt, lots)
    head, wife = done.resident_ids
    draft = services.request_ex_officio(
        rt.uow(),
        CLERK,
        ExOfficioCorrection(wife, {"building": "架空荘 1号室"}, applies_from=date(2026, 11, 24)),
    )
    services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(draft, verified=True))
    cmd = MoveWithin(
        done.resident_ids, lots[1], None, date(2026, 11, 28), TODAY, identification=NOTIFIED
    )
    services.move_within(rt.uow(), CLERK, cmd)
    now = rt.clock.now()
    # 履歴番号 1 for the 転入; the wife's 1 was superseded by 2 and 3 (split on 11-24).
    for rid, numbers in ((head, [1, 2]), (wife, [1, 2, 3, 4])):
        assert [v.history_no for v in versions(rt, rid, live=False)] == numbers
        *_, before, after = versions(rt, rid)
        assert (before.valid_to, before.closed_at) == (date(2026, 11, 28), now)
        assert (after.valid_from, after.valid_to, after.closed_at) == (
            date(2026, 11, 28),
            None,
            None,
        )
        assert (after.recorded_at, after.recorded_by, after.address_id) == (
            now,
            CLERK.user_id,
            lots[1],
        )
        assert after.name_key == normalize_name(after.name)
        assert after.name_kana_key == normalize_kana(after.name_kana)
        assert after.alias_name_key is None and after.alias_name_kana_key is None
    assert open_row(rt, wife).building is None  # the new address has no 方書


def test_move_within_of_a_foreign_resident_keeps_the_alias_search_keys(
    rt: Runtime, lots: list[int]
) -> None:
    alex = foreigner(alias_name="架空 太郎", alias_name_kana="カクウ タロウ")
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots, alex)).resident_ids
    cmd = MoveWithin((rid,), lots[1], None, date(2026, 11, 28), TODAY, identification=NOTIFIED)
    services.move_within(rt.uow(), CLERK, cmd)
    v = open_row(rt, rid)
    assert (v.address_id, v.alias_name) == (lots[1], "架空 太郎")
    assert v.alias_name_key == normalize_name("架空 太郎")
    assert v.alias_name_kana_key == normalize_kana("カクウ タロウ")


def test_late_move_within_is_recorded_with_a_memo_on_each_new_row(
    rt: Runtime, lots: list[int]
) -> None:
    """OQ-01: a 転居届 more than 14 days after the move is recorded, flagged in the audit
    row, and each mover's new version carries the late-notice memo."""
    early = move_in_cmd(lots, effective_on=date(2026, 10, 1), notified_on=date(2026, 10, 5))
    wife = person("架空 花子", "wife", name_kana="カクウ ハナコ", sex=2)
    done = services.move_in(rt.uow(), CLERK, replace(early, persons=(person(), wife)))
    cmd = MoveWithin(
        done.resident_ids, lots[1], None, date(2026, 11, 1), TODAY, identification=NOTIFIED
    )
    assert services.move_within(rt.uow(), CLERK, cmd).late_notice
    (entry,) = audits(rt, "registry.move_within")
    assert entry.detail["late_notice"] is True
    with rt.uow() as uow:
        notes = uow.session.scalars(
            select(RecordNote).where(RecordNote.resident_id.in_(done.resident_ids))
        ).all()
    memos = {(n.resident_id, n.version_id) for n in notes if n.body == services.LATE_NOTICE_MEMO}
    assert memos == {(rid, open_row(rt, rid).id) for rid in done.resident_ids}


def test_move_within_into_another_household(rt: Runtime, lots: list[int]) -> None:
    """E-04: a 世帯主 moves to join a household at its address, with the 続柄 given and the
    next 表示順位 there; the one member left behind becomes 世帯主 ex officio."""
    done = family(rt, lots)
    head, wife = done.resident_ids
    host = services.move_in(
        rt.uow(),
        CLERK,
        move_in_cmd(lots, person("架空 次郎", name_kana="カクウ ジロウ"), address_id=lots[1]),
    )
    (target,) = host.household_ids
    cmd = MoveWithin(
        (head,),
        lots[1],
        None,
        date(2026, 11, 28),
        TODAY,
        new_relationships={head: "cohabitant"},
        join_household_id=target,
        identification=NOTIFIED,
    )
    result = services.move_within(rt.uow(), CLERK, cmd)
    moved = open_row(rt, head)
    assert (moved.household_id, moved.relationship, moved.display_order) == (
        target,
        "cohabitant",
        2,
    )
    assert (moved.address_id, moved.change_reason) == (lots[1], "move_within")
    left = open_row(rt, wife)
    assert (left.household_id, left.relationship, left.address_id) == (
        done.household_ids[0],
        "head",
        lots[0],
    )
    assert (left.change_reason, left.valid_from) == ("household_head_change", date(2026, 11, 28))
    assert open_row(rt, host.resident_ids[0]).relationship == "head"  # the host stays 世帯主
    assert result.resident_ids == (head, wife)
    assert result.household_ids == (done.household_ids[0], target)
    (event,) = events(rt, "registry.resident_moved_within")
    assert (event["household_id"], event["previous_household_id"]) == (
        str(target),
        str(done.household_ids[0]),
    )
    (change,) = events(rt, "registry.household_changed")
    assert (change["resident_id"], change["became_head"]) == (str(wife), True)
    (entry,) = audits(rt, "registry.move_within")
    assert entry.detail["head_changes"] == 1
    assert set(entry.subject_ids) == {str(head), str(done.household_ids[0]), str(target)}


def test_move_within_refuses_and_writes_nothing(rt: Runtime, lots: list[int]) -> None:
    """Refusals of a 転居, each leaving no trace: an address missing from the 住所辞書 or
    abolished by the 異動日, someone unknown or no longer resident, a version on screen
    that is no longer current, and a household to join that is the mover's own or at
    another address."""
    done = family(rt, lots)
    head, wife = done.resident_ids
    cmd = MoveWithin(
        done.resident_ids, lots[1], None, date(2026, 11, 28), TODAY, identification=NOTIFIED
    )

    def move(c: MoveWithin) -> Callable[[], object]:
        return lambda: services.move_within(rt.uow(), CLERK, c)

    unknown = refused(rt, move(replace(cmd, address_id=max(lots) + 1)), CoreError.INVALID_INPUT)
    assert unknown.field == "address_id"
    with rt.uow() as uow:
        uow.session.execute(
            update(Address).where(Address.id == lots[2]).values(abolished_on=date(2026, 11, 28))
        )
        uow.commit()
    gone = refused(rt, move(replace(cmd, address_id=lots[2])), CoreError.INVALID_INPUT)
    assert gone.field == "address_id"
    stranger = replace(cmd, resident_ids=(*done.resident_ids, uuid.uuid4()))
    refused(rt, move(stranger), CoreError.NOT_FOUND)
    seen = resident(rt, head).version
    services.move_within(rt.uow(), CLERK, cmd)
    back = replace(cmd, address_id=lots[0], effective_on=date(2026, 11, 29))
    refused(rt, move(replace(back, expected_versions={head: seen})), CoreError.CONFLICT)
    own = replace(
        back,
        resident_ids=(wife,),
        new_relationships={wife: "wife"},
        join_household_id=done.household_ids[0],
    )
    assert refused(rt, move(own), CoreError.INVALID_INPUT).field == "join_household_id"
    host = services.move_in(
        rt.uow(),
        CLERK,
        move_in_cmd(lots, person("架空 次郎", name_kana="カクウ ジロウ"), address_id=lots[3]),
    )
    elsewhere = replace(own, join_household_id=host.household_ids[0])
    assert refused(rt, move(elsewhere), CoreError.INVALID_INPUT).field == "address_id"
    services.death(rt.uow(), CLERK, Death(head, date(2026, 11, 29)))
    refused(rt, move(replace(back, resident_ids=(head,))), RegistryError.NOT_RESIDENT)


# -- 出生・死亡 ------------------------------------------------------------------------------


def test_birth_enters_a_child_in_the_household(rt: Runtime, lots: list[int]) -> None:
    """E-08: 出生 entered ex officio at the household's address, from the birth date."""
    done = family(rt, lots)
    baby = person("架空 三郎", "child", name_kana="カクウ サブロウ", birth_date=date(2026, 11, 25))
    (rid,) = services.birth(
        rt.uow(), CLERK, Birth(done.household_ids[0], baby, notified_on=TODAY)
    ).resident_ids
    v = open_row(rt, rid)
    assert (v.change_reason, v.notice_kind, v.valid_from) == ("birth", "notice", date(2026, 11, 25))
    assert (v.address_id, v.display_order, v.moved_in_on) == (lots[0], 3, None)
    assert events(rt, "registry.resident_born")[0]["resident_id"] == str(rid)
    future = replace(baby, birth_date=date(2026, 12, 1))
    refused(
        rt,
        lambda: services.birth(rt.uow(), CLERK, Birth(done.household_ids[0], future)),
        RegistryError.BIRTH_DATE_IN_FUTURE,
    )
    refused(
        rt,
        lambda: services.birth(rt.uow(), CLERK, Birth(uuid.uuid4(), baby)),
        CoreError.NOT_FOUND,
    )


def test_death_removes_the_record(rt: Runtime, lots: list[int]) -> None:
    """E-09: the 住民票 becomes a 除票 from the date of death; the widow becomes 世帯主."""
    head, wife = family(rt, lots).resident_ids
    services.death(rt.uow(), CLERK, Death(head, date(2026, 11, 27), notified_on=TODAY))
    v = open_row(rt, head)
    assert v.removed and (v.change_reason, v.valid_from) == ("death", date(2026, 11, 27))
    assert resident(rt, head).status == "removed"
    assert open_row(rt, wife).relationship == "head"
    assert events(rt, "registry.resident_died")[0]["resident_id"] == str(head)
    refused(
        rt,
        lambda: services.death(rt.uow(), CLERK, Death(head, date(2026, 11, 28))),
        RegistryError.NOT_RESIDENT,
    )
    refused(
        rt,
        lambda: services.death(rt.uow(), CLERK, Death(wife, date(1970, 1, 1))),
        RegistryError.EFFECTIVE_ON_BEFORE_BIRTH,
    )
    refused(
        rt,
        lambda: services.death(rt.uow(), CLERK, Death(uuid.uuid4(), TODAY)),
        CoreError.NOT_FOUND,
    )


# -- 世帯変更 --------------------------------------------------------------------------------


def test_household_split_merge_and_head_change(rt: Runtime, lots: list[int]) -> None:
    """E-07: 世帯分離 → 世帯合併 → 世帯主変更, each with its 続柄 restated."""
    child = person("架空 一郎", "child", name_kana="カクウ イチロウ", birth_date=date(2000, 1, 1))
    done = family(rt, lots, child)
    head, wife, son = done.resident_ids
    (home,) = done.household_ids
    split = services.household_split(
        rt.uow(),
        CLERK,
        HouseholdSplit(home, {son: "head"}, date(2026, 11, 26), TODAY, identification=NOTIFIED),
    )
    new = split.household_ids[1]
    assert (open_row(rt, son).household_id, open_row(rt, son).relationship) == (new, "head")
    merged = HouseholdMerge(
        new, home, {son: "child"}, date(2026, 11, 27), TODAY, identification=NOTIFIED
    )
    services.household_merge(rt.uow(), CLERK, merged)
    assert (open_row(rt, son).household_id, open_row(rt, son).relationship) == (home, "child")
    with rt.uow() as uow:
        gone = uow.session.get(Household, new)
        assert gone is not None and gone.dissolved_on == date(2026, 11, 27)
    change = HouseholdHeadChange(
        home, wife, {head: "husband"}, date(2026, 11, 28), TODAY, identification=NOTIFIED
    )
    services.household_head_change(rt.uow(), CLERK, change)
    assert [open_row(rt, r).relationship for r in (head, wife, son)] == ["husband", "head", "child"]
    reasons = [e["change_reason"] for e in events(rt, "registry.household_changed")]
    assert reasons == [
        "household_split",
        "household_merge",
        "household_head_change",
        "household_head_change",
    ]
    became = [e["became_head"] for e in events(rt, "registry.household_changed")]
    assert became == [True, False, False, True]


def test_household_change_refusals_write_nothing(rt: Runtime, lots: list[int]) -> None:
    done = family(rt, lots)
    _head, wife = done.resident_ids
    (home,) = done.household_ids
    day = date(2026, 11, 28)
    refused(
        rt,
        lambda: services.household_split(
            rt.uow(), CLERK, HouseholdSplit(home, {}, day, TODAY, identification=NOTIFIED)
        ),
        RegistryError.HOUSEHOLD_SPLIT_EMPTY,
    )
    refused(
        rt,
        lambda: services.household_split(
            rt.uow(),
            CLERK,
            HouseholdSplit(home, {wife: "wife"}, day, TODAY, identification=NOTIFIED),
        ),
        RegistryError.HOUSEHOLD_SPLIT_WITHOUT_HEAD,
    )
    refused(
        rt,
        lambda: services.household_head_change(
            rt.uow(),
            CLERK,
            HouseholdHeadChange(home, wife, {}, day, TODAY, identification=NOTIFIED),
        ),
        RegistryError.HOUSEHOLD_HEAD_DUPLICATED,
    )
    refused(
        rt,
        lambda: services.household_head_change(
            rt.uow(),
            CLERK,
            HouseholdHeadChange(home, uuid.uuid4(), {}, day, TODAY, identification=NOTIFIED),
        ),
        CoreError.INVALID_INPUT,
    )
    (other,) = services.move_in(
        rt.uow(), CLERK, move_in_cmd(lots, person("架空 次郎"), address_id=lots[1])
    ).household_ids
    refused(
        rt,
        lambda: services.household_merge(
            rt.uow(), CLERK, HouseholdMerge(other, home, {}, day, TODAY, identification=NOTIFIED)
        ),
        CoreError.INVALID_INPUT,
    )


# -- 外国人住民, 個人番号 ---------------------------------------------------------------------


def test_foreign_resident_status_change(rt: Runtime, lots: list[int]) -> None:
    """E-17 / 法第30条の50: new 在留期間 and card on the 入管庁 notice."""
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots, foreigner())).resident_ids
    change = ForeignResidentStatusChange(
        rid,
        effective_on=date(2026, 11, 27),
        nationality="ZZ",
        foreign_resident_class="mid_to_long_term",
        residence_status="技術・人文知識・国際業務",
        residence_period="5年",
        residence_expires_on=date(2031, 11, 27),
        residence_card_no="EF87654321GH",
        notified_on=TODAY,
    )
    services.change_foreign_resident_status(rt.uow(), CLERK, change)
    v = open_row(rt, rid)
    assert (v.residence_period, v.residence_card_no, v.change_reason) == (
        "5年",
        "EF87654321GH",
        "ex_officio_correction",
    )
    (entry,) = audits(rt, "registry.change_foreign_resident_status")
    assert entry.detail["fields"] == [
        "residence_card_no",
        "residence_expires_on",
        "residence_period",
    ]
    no_personal_values(entry, "EF87654321GH")
    assert events(rt, "registry.foreign_resident_status_changed")[0]["foreign_resident_class"] == (
        "mid_to_long_term"
    )
    expired = replace(
        change, residence_expires_on=date(2026, 11, 1), residence_card_no="ZZ11111111ZZ"
    )
    refused(
        rt,
        lambda: services.change_foreign_resident_status(rt.uow(), CLERK, expired),
        RegistryError.RESIDENCE_PERIOD_EXPIRED,
    )
    (japanese,) = services.move_in(
        rt.uow(), CLERK, move_in_cmd(lots, address_id=lots[1])
    ).resident_ids
    refused(
        rt,
        lambda: services.change_foreign_resident_status(
            rt.uow(), CLERK, replace(change, resident_id=japanese)
        ),
        RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT,
    )


def test_change_individual_number_goes_through_the_vault(rt: Runtime, lots: list[int]) -> None:
    """REG-CTRL-23 / REG-CTRL-25: check digit verified, number sealed in the vault in the
    same transaction, never in the audit detail or an event."""
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    first, second = number("10000000001"), number("10000000002")
    cmd = IndividualNumberChange(
        rid,
        first,
        effective_on=TODAY,
        identification=Identification(
            ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
        ),
    )
    services.change_individual_number(rt.uow(), CLERK, rt.keys, cmd)
    services.change_individual_number(
        rt.uow(),
        CLERK,
        rt.keys,
        replace(cmd, individual_number=second, claimed_on=TODAY, previous_number=first),
    )
    with rt.uow() as uow:
        assert vault.find_subject_by_number(uow, NUMBER_HANDLER, rt.keys, second) == rid
        assert vault.find_subject_by_number(uow, NUMBER_HANDLER, rt.keys, first) is None
    assert [v.change_reason for v in versions(rt, rid)][1:] == ["individual_number_change"] * 2
    assert open_row(rt, rid).notice_kind == "claim"
    assert [e["first_assignment"] for e in events(rt, "registry.individual_number_changed")] == [
        True,
        False,
    ]
    for entry in audits(rt, "registry.change_individual_number"):
        no_personal_values(entry, first, second)
    assert first not in repr(cmd)
    bad = replace(cmd, individual_number=first[:-1] + str((int(first[-1]) + 1) % 10))
    error = refused(
        rt,
        lambda: services.change_individual_number(rt.uow(), CLERK, rt.keys, bad),
        RegistryError.INVALID_INDIVIDUAL_NUMBER,
    )
    assert bad.individual_number not in str(error)


# -- 職権 drafts and 決裁 --------------------------------------------------------------------


def test_ex_officio_correction_needs_a_second_person_and_keeps_both_time_axes(
    rt: Runtime, lots: list[int]
) -> None:
    """REG-CTRL-11/12/16: a 職権修正 is drafted by one person and approved by another; the
    wrong rows are superseded, so the record reads right "as of" any date and as it was
    "as recorded at" an instant before the correction."""
    head, _wife = family(rt, lots).resident_ids
    services.move_within(
        rt.uow(),
        CLERK,
        MoveWithin(
            (head, _wife), lots[1], None, date(2026, 11, 25), TODAY, identification=NOTIFIED
        ),
    )
    before_fix = rt.clock.now()
    rt.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    footprint_before = footprint(rt)
    draft_id = services.request_ex_officio(
        rt.uow(), CLERK, ExOfficioCorrection(head, {"name": "架空 太朗"})
    )
    with rt.uow() as uow:
        draft = uow.session.get(PendingApproval, draft_id)
        assert draft is not None and draft.status == "pending"
        assert draft.payload["fields"] == ["name"] and draft.draft_values == {"name": "架空 太朗"}
        assert "架空" not in json.dumps(draft.payload, ensure_ascii=False)
    after_draft = footprint(rt)
    assert after_draft["registry.resident_version"] == footprint_before["registry.resident_version"]
    # The author cannot approve, and the database refuses it too.
    clerk_as_approver = replace(SUPERVISOR, user_id=CLERK.user_id)
    refused(
        rt,
        lambda: services.approve_ex_officio(
            rt.uow(), clerk_as_approver, Decision(draft_id, verified=True)
        ),
        RegistryError.APPROVAL_BY_REQUESTER,
    )
    with rt.uow() as uow, pytest.raises(IntegrityError):
        uow.session.execute(
            update(PendingApproval)
            .where(PendingApproval.id == draft_id)
            .values(status="approved", approved_by=CLERK.user_id, approved_at=rt.clock.now())
        )
    services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(draft_id, verified=True))
    with rt.uow() as uow:
        draft = uow.session.get(PendingApproval, draft_id)
        assert draft is not None and draft.status == "approved" and draft.draft_values is None
    rows = versions(rt, head, live=False)
    assert [(r.history_no, r.superseded_at is not None) for r in rows] == [
        (1, True),
        (2, True),
        (3, False),
        (4, False),
    ]
    for on in (date(2026, 11, 21), date(2026, 11, 26)):
        now_view = as_of(rt, head, on)
        assert now_view is not None and now_view.name == "架空 太朗"
        assert now_view.approval_id == draft_id and now_view.recorded_by == SUPERVISOR.user_id
    then = [
        r
        for r in rows
        if rules.in_force(
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            recorded_at=r.recorded_at,
            superseded_at=r.superseded_at,
            closed_at=r.closed_at,
            on=date(2026, 11, 26),
            as_recorded_at=before_fix,
        )
    ]
    assert [r.name for r in then] == ["架空 太郎"]
    assert open_row(rt, head).change_reason == "move_within"  # the 異動 itself is kept
    (corrected,) = events(rt, "registry.resident_record_corrected")
    assert corrected["changed_fields"] == "name"
    assert [a.detail["approval_id"] for a in audits(rt, "registry.request_ex_officio")] == [
        draft_id
    ]
    (approval,) = audits(rt, "registry.approve_ex_officio")
    no_personal_values(approval, "架空")
    refused(
        rt,
        lambda: services.approve_ex_officio(
            rt.uow(), SUPERVISOR, Decision(draft_id, verified=True)
        ),
        RegistryError.APPROVAL_NOT_PENDING,
    )


def test_correction_from_a_date_splits_the_version(rt: Runtime, lots: list[int]) -> None:
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    draft = services.request_ex_officio(
        rt.uow(),
        CLERK,
        ExOfficioCorrection(rid, {"building": "架空荘 1号室"}, applies_from=date(2026, 11, 24)),
    )
    services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(draft, verified=True))
    early, late = (as_of(rt, rid, d) for d in (date(2026, 11, 21), date(2026, 11, 25)))
    assert early is not None and late is not None
    assert (early.building, late.building) == (None, "架空荘 1号室")
    assert (early.change_reason, late.change_reason) == (
        "domestic_move_in",
        "ex_officio_correction",
    )


def test_stale_draft_is_a_conflict_and_rejection_drops_the_values(
    rt: Runtime, lots: list[int]
) -> None:
    head, wife = family(rt, lots).resident_ids
    draft = services.request_ex_officio(rt.uow(), CLERK, ExOfficioCorrection(head, {"sex": 2}))
    services.move_within(
        rt.uow(),
        CLERK,
        MoveWithin((head, wife), lots[1], None, TODAY, TODAY, identification=NOTIFIED),
    )
    refused(
        rt,
        lambda: services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(draft, verified=True)),
        CoreError.CONFLICT,
    )
    services.reject_ex_officio(rt.uow(), SUPERVISOR, Decision(draft))
    with rt.uow() as uow:
        row = uow.session.get(PendingApproval, draft)
        assert row is not None and (row.status, row.draft_values) == ("rejected", None)
    assert audits(rt, "registry.reject_ex_officio")[0].detail["approval_id"] == draft


@pytest.mark.parametrize(
    ("corrections", "code"),
    [
        ({"relationship": "child"}, CoreError.INVALID_INPUT),  # a 世帯変更, not a correction
        ({"birth_date": "not a date"}, CoreError.INVALID_INPUT),
        ({"birth_date": date(2026, 11, 25)}, RegistryError.EFFECTIVE_ON_BEFORE_BIRTH),
        ({"sex": 1}, CoreError.INVALID_INPUT),  # nothing would change
        ({"alias_name": "通称"}, RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT),
    ],
)
def test_bad_correction_drafts_are_refused_and_write_nothing(
    rt: Runtime, lots: list[int], corrections: dict[str, Any], code: object
) -> None:
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    cmd = ExOfficioCorrection(rid, corrections)
    refused(rt, lambda: services.request_ex_officio(rt.uow(), CLERK, cmd), code)


def test_ex_officio_deletion_and_entry(rt: Runtime, lots: list[int]) -> None:
    """E-12 / E-13: 職権消除 (居住の実態なし) and 職権回復 by 職権記載, both after 決裁."""
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    deletion = services.request_ex_officio(
        rt.uow(), CLERK, ExOfficioDeletion(rid, date(2026, 11, 27))
    )
    assert resident(rt, rid).status == "current"  # a draft changes nothing
    services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(deletion, verified=True))
    v = open_row(rt, rid)
    assert v.removed and v.change_reason == "ex_officio_deletion" and v.approval_id == deletion
    assert events(rt, "registry.resident_removed_ex_officio")[0]["resident_id"] == str(rid)
    entry = ExOfficioEntry(person(resident_id=rid), lots[1], None, date(2026, 11, 29))
    draft = services.request_ex_officio(rt.uow(), CLERK, entry)
    services.approve_ex_officio(rt.uow(), SUPERVISOR, Decision(draft, verified=True))
    v = open_row(rt, rid)
    assert not v.removed and v.change_reason == "ex_officio_entry" and v.address_id == lots[1]
    assert resident(rt, rid).status == "current"
    assert events(rt, "registry.resident_entered_ex_officio")[0]["resident_id"] == str(rid)
    refused(
        rt,
        lambda: services.request_ex_officio(
            rt.uow(), CLERK, replace(entry, change_reason=rules.ChangeReason.BIRTH)
        ),
        CoreError.INVALID_INPUT,
    )


# -- 支援措置 -------------------------------------------------------------------------------


def test_protection_measure_register_and_end(rt: Runtime, lots: list[int]) -> None:
    """OQ-02: one case for the 申出者 and the child protected with them; ended explicitly."""
    head, wife = family(rt, lots).resident_ids
    request = ProtectionMeasureRequest(
        applicant_id=wife,
        accompanying_ids=(),
        requested_on=TODAY,
        valid_from=TODAY,
        offender_addressee_nos=(resident(rt, head).addressee_no,),
    )
    done = services.register_protection_measure(rt.uow(), SUPERVISOR, request)
    with rt.uow() as uow:
        (m,) = uow.session.scalars(select(ProtectionMeasure))
    assert (m.case_id, m.applicant, m.valid_until) == (done.case_id, True, date(2027, 11, 29))
    assert sorted(m.scope) == sorted(u.value for u in rules.ProtectedUse)
    (entry,) = audits(rt, "registry.register_protection_measure")
    assert entry.detail["offenders"] == 1
    no_personal_values(entry, str(resident(rt, head).addressee_no))
    refused(
        rt,
        lambda: services.register_protection_measure(
            rt.uow(), SUPERVISOR, replace(request, valid_until=date(2026, 1, 1))
        ),
        RegistryError.PROTECTION_MEASURE_PERIOD_INVALID,
    )
    end = ProtectionMeasureEnd(m.id, date(2026, 12, 1), "request")
    services.end_protection_measure(rt.uow(), SUPERVISOR, end)
    assert events(rt, "registry.protection_measure_ended")[0]["end_reason"] == "request"
    refused(
        rt,
        lambda: services.end_protection_measure(rt.uow(), SUPERVISOR, end),
        RegistryError.PROTECTION_MEASURE_PERIOD_INVALID,
    )


def test_a_command_needs_a_staff_user(rt: Runtime, lots: list[int]) -> None:
    """recorded_by is who committed the change: an actor without a user is refused."""
    nobody = replace(CLERK, user_id=None)
    before = footprint(rt)
    with pytest.raises(DomainError) as info:
        services.move_in(rt.uow(), nobody, move_in_cmd(lots))
    assert info.value.http_status == 403
    after = footprint(rt)
    assert after.pop("privacy.audit_log") == before.pop("privacy.audit_log") + 1
    assert after == before


def test_optimistic_version_from_the_screen(rt: Runtime, lots: list[int]) -> None:
    """A version the clerk saw that is no longer current: 409, nothing written."""
    (rid,) = services.move_in(rt.uow(), CLERK, move_in_cmd(lots)).resident_ids
    seen = resident(rt, rid).version
    services.move_within(
        rt.uow(), CLERK, MoveWithin((rid,), lots[1], None, TODAY, TODAY, identification=NOTIFIED)
    )
    stale = Death(rid, TODAY, expected_version=seen)
    refused(rt, lambda: services.death(rt.uow(), CLERK, stale), CoreError.CONFLICT)
    with pytest.raises(ConflictError):
        services.death(rt.uow(), CLERK, stale)
    services.death(rt.uow(), CLERK, replace(stale, expected_version=resident(rt, rid).version))
    with pytest.raises(NotFoundError):
        services.death(rt.uow(), CLERK, Death(uuid.uuid4(), TODAY))


def test_commands_do_not_show_personal_values_in_their_repr(lots: list[int]) -> None:
    """A command in a traceback or a log line names its fields, never their values."""
    cmd = move_in_cmd(lots, foreigner(), moved_in_from="架空国架空州")
    shown = repr(cmd) + repr(cmd.persons[0])
    for value in ("SAMPLE ALEX", "サンプル", "AB12345678CD", "架空国架空州"):
        assert value not in shown
    assert "persons" in shown and "residence_card_no" in shown
