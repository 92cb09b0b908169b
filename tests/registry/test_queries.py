"""Registry read side: the record as of a date (and as recorded at an instant), the
history with changed item names, the household view, the masked 個人番号 and one audit row
per read. Data is inserted with the ORM inside the per-test transaction; no service is
used. All names, dates and numbers are fictitious.

``Registry`` (the builder) is imported by test_search.py and test_access_queries.py."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from machi.bootstrap import Runtime
from machi.core.clock import JST
from machi.core.errors import CoreError, DomainError, NotFoundError
from machi.core.numbers import individual_number_check_digit
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Affair, Permission
from machi.registry import queries, rules
from machi.registry.models import (
    Address,
    Household,
    ProtectionMeasure,
    Resident,
    ResidentVersion,
    TownArea,
)

NUMBER_BODY = "50000000020"  # synthetic
NUMBER = NUMBER_BODY + str(individual_number_check_digit(NUMBER_BODY))


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=JST)


def clerk(*extra: Permission) -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        login_name="clerk",
        terminal="counter-1",
        affair=Affair.JUKI.value,
        permissions=frozenset({Permission.REGISTRY_VIEW, *extra}),
    )


# ---------------------------------------------------------------------------------------
# Builder: ORM rows straight into the test transaction
# ---------------------------------------------------------------------------------------


class Registry:
    """Inserts town areas, addresses, households, residents and history rows. Each call
    commits its own unit of work, which in tests only releases a savepoint."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._serials = (s for s in itertools.count(1000) if rules.is_issuable_serial(s))
        self._codes = itertools.count(1)

    def _add(self, obj: Any) -> Any:
        with self.rt.uow() as uow:
            uow.session.add(obj)
            uow.session.flush()
            key = obj.id
            uow.commit()
        return key

    def address(self, town: str, lot: str, *, kana: str = "カクウ") -> int:
        with self.rt.uow() as uow:
            area = uow.session.scalar(select(TownArea).where(TownArea.name == town))
            if area is None:
                area = TownArea(
                    code=f"{next(self._codes):06d}",
                    name=town,
                    name_kana=kana,
                    postal_code="9999999",
                    address_style="residence_indication",
                )
                uow.session.add(area)
                uow.session.flush()
            address = Address(town_area_id=area.id, lot_no=next(self._codes), lot=lot)
            uow.session.add(address)
            uow.session.flush()
            address_id = address.id
            uow.commit()
        return address_id

    def household(self, formed_on: date = date(2000, 1, 1)) -> uuid.UUID:
        no = rules.addressee_no_from_serial(next(self._serials))
        return self._add(Household(household_no=no, formed_on=formed_on))  # type: ignore[no-any-return]

    def resident(self, status: str = "current") -> uuid.UUID:
        no = rules.addressee_no_from_serial(next(self._serials))
        return self._add(  # type: ignore[no-any-return]
            Resident(addressee_no=no, status=status, created_at=at(2020, 1, 1))
        )

    def version(
        self,
        resident_id: uuid.UUID,
        *,
        history_no: int,
        reason: rules.ChangeReason,
        valid_from: date,
        valid_to: date | None,
        household_id: uuid.UUID,
        address_id: int,
        recorded_at: datetime,
        closed_at: datetime | None = None,
        superseded_at: datetime | None = None,
        removed: bool = False,
        relationship: str = "head",
        display_order: int = 1,
        **items: Any,
    ) -> int:
        notice = reason.origin is rules.Origin.NOTIFICATION
        values: dict[str, Any] = {
            "name": "架空 一郎",
            "name_kana": "カクウ イチロウ",
            "birth_date": date(1980, 5, 5),
            "sex": 1,
            "became_resident_on": valid_from,
            "address_set_on": valid_from,
            "registered_domicile": "架空県架空市1番地",
            "family_register_head": "架空 一郎",
            "notified_on": valid_from if notice else None,
            "notice_kind": "notification" if notice else None,
        }
        values.update(items)
        return self._add(  # type: ignore[no-any-return]
            ResidentVersion(
                resident_id=resident_id,
                history_no=history_no,
                change_reason=reason.value,
                valid_from=valid_from,
                valid_to=valid_to,
                # Closed when the next row was recorded; callers name that instant.
                closed_at=None if valid_to is None else (closed_at or recorded_at),
                recorded_at=recorded_at,
                recorded_by=uuid.uuid4(),
                superseded_at=superseded_at,
                removed=removed,
                household_id=household_id,
                address_id=address_id,
                relationship=relationship,
                display_order=display_order,
                **values,
            )
        )

    def person(
        self,
        name: str,
        kana: str,
        *,
        birth_date: date,
        sex: int,
        address_id: int,
        valid_from: date = date(2010, 4, 1),
        removed_on: date | None = None,
        household_id: uuid.UUID | None = None,
        relationship: str = "head",
        display_order: int = 1,
        **items: Any,
    ) -> uuid.UUID:
        """One resident who moved in on ``valid_from`` and, with ``removed_on``, moved out."""
        rid = self.resident("removed" if removed_on else "current")
        hid = household_id or self.household(valid_from)
        common: dict[str, Any] = {
            "name": name,
            "name_kana": kana,
            "birth_date": birth_date,
            "sex": sex,
            "household_id": hid,
            "address_id": address_id,
            "relationship": relationship,
            "display_order": display_order,
            "became_resident_on": valid_from,
            "address_set_on": valid_from,
            **items,
        }
        self.version(
            rid,
            history_no=1,
            reason=rules.ChangeReason.DOMESTIC_MOVE_IN,
            valid_from=valid_from,
            valid_to=removed_on,
            recorded_at=at(valid_from.year, valid_from.month, valid_from.day),
            **common,
        )
        if removed_on:
            self.version(
                rid,
                history_no=2,
                reason=rules.ChangeReason.DOMESTIC_MOVE_OUT,
                valid_from=removed_on,
                valid_to=None,
                recorded_at=at(removed_on.year, removed_on.month, removed_on.day),
                removed=True,
                **common,
            )
        return rid

    def protect(self, resident_id: uuid.UUID, valid_from: date = date(2026, 1, 1)) -> None:
        self._add(
            ProtectionMeasure(
                case_id=uuid.uuid4(),
                resident_id=resident_id,
                applicant=True,
                scope=["browsing", "resident_record_copy"],
                requested_on=valid_from,
                valid_from=valid_from,
                valid_until=rules.protection_period_end(valid_from),
                registered_by=uuid.uuid4(),
                registered_at=at(valid_from.year, valid_from.month, valid_from.day),
            )
        )


def audit_rows(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


# ---------------------------------------------------------------------------------------
# One life: 転入 → 転居 → 世帯変更 (later corrected by 職権修正) → 死亡
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Life:
    subject: uuid.UUID
    head2: uuid.UUID  # 世帯主 of the household the subject joins
    h1: uuid.UUID
    h2: uuid.UUID
    a1: int
    a2: int
    versions: tuple[int, ...]  # ids by 履歴番号


MOVED_IN = date(2020, 4, 1)
MOVED_WITHIN = date(2023, 6, 1)
JOINED = date(2024, 10, 1)
CORRECTED_AT = at(2025, 2, 1)
DIED = date(2026, 3, 15)


@pytest.fixture
def life(rt: Runtime) -> Life:
    b = Registry(rt)
    a1 = b.address("架空町", "1丁目2番3号")
    a2 = b.address("桜台", "3番地5")
    h1, h2 = b.household(MOVED_IN), b.household(date(2022, 1, 1))
    head2 = b.person(
        "山田 花子",
        "ヤマダ ハナコ",
        birth_date=date(1950, 1, 1),
        sex=2,
        address_id=a2,
        valid_from=date(2022, 1, 1),
        household_id=h2,
    )
    s = b.resident("removed")
    reason = rules.ChangeReason
    v = [
        b.version(
            s,
            history_no=1,
            reason=reason.DOMESTIC_MOVE_IN,
            valid_from=MOVED_IN,
            valid_to=MOVED_WITHIN,
            household_id=h1,
            address_id=a1,
            recorded_at=at(2020, 4, 3),
            closed_at=at(2023, 6, 5),
            moved_in_on=MOVED_IN,
            moved_in_from="架空県別市1番地",
        ),
        b.version(
            s,
            history_no=2,
            reason=reason.MOVE_WITHIN,
            valid_from=MOVED_WITHIN,
            valid_to=JOINED,
            household_id=h1,
            address_id=a2,
            recorded_at=at(2023, 6, 5),
            closed_at=at(2024, 10, 2),
            became_resident_on=MOVED_IN,
            moved_in_on=MOVED_IN,
            moved_in_from="架空県別市1番地",
        ),
        # Recorded with the wrong 続柄, still open when the correction superseded it.
        b.version(
            s,
            history_no=3,
            reason=reason.HOUSEHOLD_CHANGE,
            valid_from=JOINED,
            valid_to=None,
            household_id=h2,
            address_id=a2,
            relationship="cohabitant",
            display_order=2,
            recorded_at=at(2024, 10, 2),
            superseded_at=CORRECTED_AT,
            became_resident_on=MOVED_IN,
            address_set_on=MOVED_WITHIN,
            moved_in_on=MOVED_IN,
            moved_in_from="架空県別市1番地",
        ),
        b.version(
            s,
            history_no=4,
            reason=reason.EX_OFFICIO_CORRECTION,
            valid_from=JOINED,
            valid_to=DIED,
            household_id=h2,
            address_id=a2,
            relationship="kin",
            display_order=2,
            recorded_at=CORRECTED_AT,
            closed_at=at(2026, 3, 16),
            became_resident_on=MOVED_IN,
            address_set_on=MOVED_WITHIN,
            moved_in_on=MOVED_IN,
            moved_in_from="架空県別市1番地",
        ),
        b.version(
            s,
            history_no=5,
            reason=reason.DEATH,
            valid_from=DIED,
            valid_to=None,
            household_id=h2,
            address_id=a2,
            relationship="kin",
            display_order=2,
            recorded_at=at(2026, 3, 16),
            removed=True,
            notified_on=date(2026, 3, 16),
            notice_kind="notice",
            became_resident_on=MOVED_IN,
            address_set_on=MOVED_WITHIN,
            moved_in_on=MOVED_IN,
            moved_in_from="架空県別市1番地",
        ),
    ]
    return Life(s, head2, h1, h2, a1, a2, tuple(v))


# date → (履歴番号, address, household, 続柄 label, removed, member count)
STATES: list[tuple[date, int, str, str, str, bool, int]] = [
    (MOVED_IN, 1, "架空町1丁目2番3号", "h1", "世帯主", False, 1),
    (date(2023, 5, 31), 1, "架空町1丁目2番3号", "h1", "世帯主", False, 1),
    (MOVED_WITHIN, 2, "桜台3番地5", "h1", "世帯主", False, 1),
    (date(2024, 9, 30), 2, "桜台3番地5", "h1", "世帯主", False, 1),
    (JOINED, 4, "桜台3番地5", "h2", "縁故者", False, 2),
    (date(2026, 3, 14), 4, "桜台3番地5", "h2", "縁故者", False, 2),
    (DIED, 5, "桜台3番地5", "h2", "縁故者", True, 1),
    (date(2026, 11, 30), 5, "桜台3番地5", "h2", "縁故者", True, 1),
]


@pytest.mark.parametrize(
    ("on", "history_no", "address", "household", "relationship", "removed", "members"),
    STATES,
    ids=[state[0].isoformat() for state in STATES],
)
def test_as_of_reproduces_each_past_state(
    rt: Runtime,
    life: Life,
    on: date,
    history_no: int,
    address: str,
    household: str,
    relationship: str,
    removed: bool,
    members: int,
) -> None:
    view = queries.resident_record(rt.uow(), clerk(), life.subject, as_of=on)
    assert view.as_of == on
    assert view.history_no == history_no
    assert view.address_text == address
    assert view.household_id == getattr(life, household)
    assert view.relationship_label == relationship
    assert view.removed is removed
    assert len(view.members) == members
    assert view.version_id == life.versions[history_no - 1]


def test_household_members_and_head_as_of_the_same_date(rt: Runtime, life: Life) -> None:
    view = queries.resident_record(rt.uow(), clerk(), life.subject, as_of=date(2025, 1, 1))
    assert [(m.resident_id, m.relationship_label) for m in view.members] == [
        (life.head2, "世帯主"),
        (life.subject, "縁故者"),
    ]
    assert view.head_name == "山田 花子"
    assert view.change_reason_label == "職権修正"
    assert view.birth_date_display == "昭和55年5月5日"
    assert view.sex_label == "男"
    # A 除票 is readable; on that date the household has only its head left.
    removed = queries.resident_record(rt.uow(), clerk(), life.subject)
    assert removed.removed and removed.change_reason_label == "死亡"
    assert [m.resident_id for m in removed.members] == [life.head2]
    assert removed.as_of == rt.clock.business_date()


def test_before_the_first_state_is_not_found_and_audited(rt: Runtime, life: Life) -> None:
    with pytest.raises(NotFoundError):
        queries.resident_record(rt.uow(), clerk(), life.subject, as_of=date(2020, 3, 31))
    with pytest.raises(NotFoundError):
        queries.resident_record(rt.uow(), clerk(), uuid.uuid4())
    rows = audit_rows(rt, "registry.resident_record")
    assert [r.outcome for r in rows] == ["not_found", "not_found"]
    assert rows[0].subject_ids == [str(life.subject)]


def test_as_recorded_at_before_a_correction_shows_the_old_value(rt: Runtime, life: Life) -> None:
    on = date(2025, 1, 1)
    then = queries.resident_record(
        rt.uow(), clerk(), life.subject, as_of=on, as_recorded_at=at(2025, 1, 15)
    )
    now = queries.resident_record(rt.uow(), clerk(), life.subject, as_of=on)
    assert (then.history_no, then.relationship_label) == (3, "同居人")
    assert (now.history_no, now.relationship_label) == (4, "縁故者")
    # Without as_of, the date is the instant's own JST day.
    same_day = queries.resident_record(
        rt.uow(), clerk(), life.subject, as_recorded_at=at(2025, 1, 15)
    )
    assert (same_day.as_of, same_day.history_no) == (date(2025, 1, 15), 3)
    with pytest.raises(DomainError) as err:
        queries.resident_record(
            rt.uow(), clerk(), life.subject, as_recorded_at=datetime(2025, 1, 15, 10)
        )
    assert err.value.code == CoreError.INVALID_INPUT


@pytest.mark.parametrize(
    "recorded", [None, at(2020, 4, 3, 8), at(2024, 12, 1), CORRECTED_AT, at(2026, 11, 30)]
)
def test_the_sql_selector_is_rules_in_force(
    rt: Runtime, life: Life, recorded: datetime | None
) -> None:
    with rt.uow() as uow:
        rows = list(
            uow.session.scalars(
                select(ResidentVersion).where(ResidentVersion.resident_id == life.subject)
            )
        )
    for on, *_ in [*STATES, (date(2020, 3, 31),), (date(2025, 1, 1),)]:
        expected = [
            r.history_no
            for r in rows
            if rules.in_force(
                valid_from=r.valid_from,
                valid_to=r.valid_to,
                recorded_at=r.recorded_at,
                superseded_at=r.superseded_at,
                on=on,
                as_recorded_at=recorded,
                closed_at=r.closed_at,
            )
        ]
        try:
            got = [
                queries.resident_record(
                    rt.uow(), clerk(), life.subject, as_of=on, as_recorded_at=recorded
                ).history_no
            ]
        except NotFoundError:
            got = []
        assert got == expected, (on, recorded)


def test_history_lists_every_version_with_the_names_of_changed_items(
    rt: Runtime, life: Life
) -> None:
    entries = queries.resident_history(rt.uow(), clerk(), life.subject)
    assert [e.history_no for e in entries] == [1, 2, 3, 4, 5]
    assert [e.change_reason_label for e in entries] == [
        "転入",
        "転居",
        "世帯変更",
        "職権修正",
        "死亡",
    ]
    assert [e.superseded for e in entries] == [False, False, True, False, False]
    assert [e.changed_fields for e in entries] == [
        (),
        ("address_id", "address_set_on"),
        ("display_order", "household_id", "relationship"),
        ("relationship",),  # compared with the row it corrects, not with 履歴番号 3's successor
        (),
    ]
    assert entries[1].changed_field_labels == ("住所", "住所を定めた年月日")
    assert entries[0].effective_on == MOVED_IN and entries[0].notified_on == MOVED_IN
    assert entries[4].removed and entries[4].notice_kind == "notice"
    (row,) = audit_rows(rt, "registry.resident_history")
    assert row.subject_ids == [str(life.subject)]
    assert row.detail == {"versions": 5, "superseded": 1}
    with pytest.raises(NotFoundError):
        queries.resident_history(rt.uow(), clerk(), uuid.uuid4())


def test_household_view_as_of(rt: Runtime, life: Life) -> None:
    before = queries.household(rt.uow(), clerk(), life.h2, as_of=date(2025, 1, 1))
    assert [m.resident_id for m in before.members] == [life.head2, life.subject]
    assert before.head is not None and before.head.resident_id == life.head2
    assert before.address_text == "桜台3番地5"
    after = queries.household(rt.uow(), clerk(), life.h2, as_of=date(2026, 6, 1))
    assert [m.resident_id for m in after.members] == [life.head2]
    left = queries.household(rt.uow(), clerk(), life.h1, as_of=date(2026, 6, 1))
    assert left.members == () and left.address_text is None and left.head is None
    rows = audit_rows(rt, "registry.household")
    assert [r.subject_ids for r in rows] == [
        [str(life.head2), str(life.subject)],
        [str(life.head2)],
        [],
    ]
    assert rows[0].detail["household_id"] == str(life.h2)
    with pytest.raises(NotFoundError):
        queries.household(rt.uow(), clerk(), uuid.uuid4())
    assert audit_rows(rt, "registry.household")[-1].outcome == "not_found"


def test_individual_number_is_always_masked_in_the_record(rt: Runtime, life: Life) -> None:
    with rt.uow() as uow:
        vault.store_number(uow, Actor.operator(affair=Affair.JUKI), rt.keys, life.subject, NUMBER)
        uow.commit()
    plain = queries.resident_record(rt.uow(), clerk(), life.subject)
    right = queries.resident_record(
        rt.uow(), clerk(Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER), life.subject
    )
    other = queries.resident_record(rt.uow(), clerk(), life.head2)
    assert (plain.individual_number, plain.can_unmask) == (vault.MASK, False)
    assert (right.individual_number, right.can_unmask) == (vault.MASK, True)
    assert other.individual_number == vault.NOT_RECORDED
    assert NUMBER not in repr(plain) and NUMBER not in repr(right)


def test_one_audit_row_per_read_with_ids_and_no_values(rt: Runtime, life: Life) -> None:
    actor = clerk()
    view = queries.resident_record(rt.uow(), actor, life.subject, as_of=date(2025, 1, 1))
    (row,) = audit_rows(rt, "registry.resident_record")
    assert row.outcome == "ok" and row.actor_user_id == actor.user_id
    assert row.subject_ids == [str(life.subject), str(life.head2)]
    assert row.detail == {"as_of_given": 1, "as_recorded": 0, "removed": 0, "members": 2}
    detail = json.dumps(row.detail, ensure_ascii=False)
    for value in (view.name, view.name_kana, view.address_text, view.birth_date.isoformat()):
        assert value not in detail


def test_protected_residents_are_flagged(rt: Runtime, life: Life) -> None:
    Registry(rt).protect(life.head2)
    view = queries.resident_record(rt.uow(), clerk(), life.head2)
    assert view.protected
    member = queries.resident_record(rt.uow(), clerk(), life.subject, as_of=date(2025, 1, 1))
    assert [m.protected for m in member.members] == [True, False]
    assert not member.protected


def test_views_are_frozen_dataclasses_not_orm_rows(rt: Runtime, life: Life) -> None:
    view = queries.resident_record(rt.uow(), clerk(), life.subject, as_of=date(2025, 1, 1))
    for name in (f.name for f in fields(view)):
        assert not isinstance(getattr(view, name), ResidentVersion | Resident | Household)
    with pytest.raises(AttributeError):
        view.name = "x"  # type: ignore[misc]


def test_find_address_tolerates_width_and_spaces_and_refuses_unknown(rt: Runtime) -> None:
    from machi.core.errors import DomainError
    from machi.registry.errors import RegistryError

    b = Registry(rt)
    address_id = b.address("架空町", "1丁目2番3号")
    with rt.uow() as uow:
        code = uow.session.scalar(select(TownArea.code).where(TownArea.name == "架空町"))
    reader = clerk()
    assert queries.find_address(rt.uow(), reader, code, "１丁目２番３号 ") == address_id
    with pytest.raises(DomainError) as e:
        queries.find_address(rt.uow(), reader, code, "9丁目9番9号")
    assert e.value.code == RegistryError.ADDRESS_NOT_IN_MASTER
