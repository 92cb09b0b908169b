"""Schema ``registry``: the models and the hand-written migration 0005 agree, and the
database itself enforces the history invariants (no overlapping live versions, one 世帯主
at a time, four-eyes, append-only grants) for the application role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.exc import IntegrityError, ProgrammingError

from machi.core.clock import JST
from machi.registry import models, rules
from machi.registry.models import (
    Address,
    Household,
    PendingApproval,
    Resident,
    ResidentVersion,
    TownArea,
)

AT = datetime(2026, 11, 30, 10, 0, tzinfo=JST)


def _short(d: object) -> str:
    item = d[0] if isinstance(d, list) else d
    return f"{item[0]} {getattr(item[1], 'name', item[1])}"[:100]  # type: ignore[index]


def test_what_alembic_cannot_compare_is_there(connection: Connection) -> None:
    """compare_metadata does not reflect exclusion constraints nor operator classes."""
    exclusions = dict(
        connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'x' AND conrelid = 'registry.resident_version'::regclass"
            )
        ).all()
    )
    assert exclusions == {
        "resident_version_no_overlap": (
            "EXCLUDE USING gist (resident_id WITH =, daterange(valid_from, valid_to) WITH &&)"
            " WHERE ((superseded_at IS NULL))"
        ),
        "resident_version_one_head": (
            "EXCLUDE USING gist (household_id WITH =, daterange(valid_from, valid_to) WITH &&)"
            " WHERE (((superseded_at IS NULL) AND (NOT removed)"
            " AND ((relationship)::text = 'head'::text)))"
        ),
    }
    trigram = connection.execute(
        text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'registry'"
            " AND indexdef LIKE '%USING gin%gin_trgm_ops%' ORDER BY indexname"
        )
    ).scalars()
    assert list(trigram) == [
        "ix_resident_version_alias_name_kana_key_trgm",
        "ix_resident_version_alias_name_key_trgm",
        "ix_resident_version_alias_name_key_variant_trgm",
        "ix_resident_version_name_kana_key_trgm",
        "ix_resident_version_name_key_trgm",
        "ix_resident_version_name_key_variant_trgm",
    ]


def test_code_lists_in_check_constraints_equal_the_rule_enums() -> None:
    assert tuple(r.value for r in rules.ChangeReason) == models.CHANGE_REASONS
    assert tuple(k.value for k in rules.NoticeKind) == models.NOTICE_KINDS
    assert tuple(c.value for c in rules.ForeignResidentClass) == models.FOREIGN_RESIDENT_CLASSES
    assert tuple(s.value for s in rules.ApprovalStatus) == models.APPROVAL_STATUSES
    assert tuple(u.value for u in rules.ProtectedUse) == models.PROTECTED_USES
    assert tuple(c.value for c in rules.IssuanceChannel) == models.ISSUANCE_CHANNELS
    assert tuple(t.value for t in rules.RequesterType) == models.REQUESTER_TYPES


def test_the_orm_computes_search_keys_from_the_names() -> None:
    v = ResidentVersion(
        name="架空　一郎", name_kana="かくう いちろう", alias_name=None, alias_name_kana="ｶｸｳ"
    )
    assert v.name_key == "架空一郎"
    assert v.name_kana_key == "カクウイチロウ"
    assert v.alias_name_key is None
    assert v.alias_name_kana_key == "カクウ"


# ---------------------------------------------------------------------------------------
# Database-enforced invariants, exercised as machi_app inside the per-test transaction
# ---------------------------------------------------------------------------------------


@contextmanager
def _refused(conn: Connection, error: type[Exception] = IntegrityError) -> Iterator[None]:
    """The statement fails and only its savepoint is rolled back."""
    savepoint = conn.begin_nested()
    with pytest.raises(error):
        yield
    savepoint.rollback()


def _town(conn: Connection) -> tuple[int, uuid.UUID]:
    area_id = conn.execute(
        insert(TownArea)
        .values(
            code="000100",
            name="架空町",
            name_kana="カクウチョウ",
            postal_code="0000001",
            address_style="residence_indication",
        )
        .returning(TownArea.id)
    ).scalar_one()
    address_id = conn.execute(
        insert(Address)
        .values(town_area_id=area_id, chome=1, lot_no=2, sub_no=3, lot="1丁目2番3号")
        .returning(Address.id)
    ).scalar_one()
    household_id = uuid.uuid4()
    conn.execute(
        insert(Household).values(
            id=household_id, household_no=1000001, formed_on=date(2020, 4, 1), version=1
        )
    )
    return address_id, household_id


def _resident(conn: Connection, addressee_no: int) -> uuid.UUID:
    resident_id = uuid.uuid4()
    conn.execute(
        insert(Resident).values(
            id=resident_id, addressee_no=addressee_no, status="current", created_at=AT, version=1
        )
    )
    return resident_id


def _version(
    conn: Connection,
    resident_id: uuid.UUID,
    address_id: int,
    household_id: uuid.UUID,
    *,
    history_no: int,
    valid_from: date,
    valid_to: date | None,
    superseded_at: datetime | None = None,
    relationship: str = "head",
) -> int:
    values: dict[str, Any] = {
        "resident_id": resident_id,
        "history_no": history_no,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "closed_at": None if valid_to is None else AT,
        "change_reason": "domestic_move_in",
        "notified_on": valid_from,
        "notice_kind": "notification",
        "recorded_at": AT,
        "superseded_at": superseded_at,
        "removed": False,
        "name": "架空 一郎",
        "name_kana": "カクウ イチロウ",
        "name_kana_confirmed": True,
        "name_key": "架空一郎",
        "name_kana_key": "カクウイチロウ",
        "birth_date": date(1990, 1, 1),
        "birth_date_precision": "day",
        "sex": 1,
        "adult_guardianship": False,
        "household_id": household_id,
        "relationship": relationship,
        "display_order": 1,
        "address_id": address_id,
        "became_resident_on": date(2020, 4, 1),
        "address_set_on": date(2020, 4, 1),
        "registered_domicile": "架空県架空市1番地",
        "family_register_head": "架空 一郎",
        "foreign_resident": False,
    }
    return conn.execute(
        insert(ResidentVersion).values(**values).returning(ResidentVersion.id)
    ).scalar_one()


def test_live_versions_of_one_resident_cannot_overlap(connection: Connection) -> None:
    address_id, household_id = _town(connection)
    rid = _resident(connection, 1000010)
    _version(
        connection,
        rid,
        address_id,
        household_id,
        history_no=1,
        valid_from=date(2020, 4, 1),
        valid_to=date(2024, 4, 1),
    )
    with _refused(connection):
        _version(
            connection,
            rid,
            address_id,
            household_id,
            history_no=2,
            valid_from=date(2023, 1, 1),
            valid_to=None,
        )
    # Adjacent half-open ranges do not overlap: [2020-04-01, 2024-04-01) then [2024-04-01, ∞).
    _version(
        connection,
        rid,
        address_id,
        household_id,
        history_no=2,
        valid_from=date(2024, 4, 1),
        valid_to=None,
    )


def test_superseded_versions_may_overlap_live_ones(connection: Connection) -> None:
    address_id, household_id = _town(connection)
    rid = _resident(connection, 1000010)
    _version(
        connection,
        rid,
        address_id,
        household_id,
        history_no=1,
        valid_from=date(2020, 4, 1),
        valid_to=None,
        superseded_at=AT,
    )
    _version(
        connection,
        rid,
        address_id,
        household_id,
        history_no=2,
        valid_from=date(2020, 4, 1),
        valid_to=None,
    )
    with _refused(connection):  # but a second open live row is refused
        _version(
            connection,
            rid,
            address_id,
            household_id,
            history_no=3,
            valid_from=date(2021, 4, 1),
            valid_to=None,
        )


def test_a_household_has_one_head_at_a_time(connection: Connection) -> None:
    address_id, household_id = _town(connection)
    first, second = _resident(connection, 1000010), _resident(connection, 1000029)
    _version(
        connection,
        first,
        address_id,
        household_id,
        history_no=1,
        valid_from=date(2020, 4, 1),
        valid_to=None,
    )
    with _refused(connection):
        _version(
            connection,
            second,
            address_id,
            household_id,
            history_no=1,
            valid_from=date(2022, 4, 1),
            valid_to=None,
        )
    _version(
        connection,
        second,
        address_id,
        household_id,
        history_no=1,
        valid_from=date(2022, 4, 1),
        valid_to=None,
        relationship="wife",
    )


def test_history_rows_only_close_or_supersede_and_are_never_deleted(
    connection: Connection,
) -> None:
    address_id, household_id = _town(connection)
    rid = _resident(connection, 1000010)
    vid = _version(
        connection,
        rid,
        address_id,
        household_id,
        history_no=1,
        valid_from=date(2020, 4, 1),
        valid_to=None,
    )
    this = update(ResidentVersion).where(ResidentVersion.id == vid)
    with _refused(connection):  # closing needs the instant it was closed
        connection.execute(this.values(valid_to=date(2025, 1, 1)))
    with _refused(connection):  # which is not before the row was recorded
        connection.execute(this.values(valid_to=date(2025, 1, 1), closed_at=AT - timedelta(1)))
    connection.execute(this.values(valid_to=date(2025, 1, 1), closed_at=AT))
    connection.execute(this.values(superseded_at=AT))
    # Each is set once: a closed row is never re-opened or re-dated, a superseded row
    # never un-superseded (what the registry said at any instant stays reproducible).
    for again in (
        {"valid_to": date(2025, 2, 1)},
        {"valid_to": None, "closed_at": None},
        {"closed_at": AT + timedelta(1)},
        {"superseded_at": None},
        {"superseded_at": AT + timedelta(1)},
    ):
        with _refused(connection):
            connection.execute(this.values(**again))
    with _refused(connection, ProgrammingError):
        connection.execute(this.values(name="別名"))
    with _refused(connection, ProgrammingError):
        connection.execute(text("DELETE FROM registry.resident_version"))
    with _refused(connection, ProgrammingError):
        connection.execute(text("DELETE FROM registry.resident"))


def test_the_database_refuses_self_approval(connection: Connection) -> None:
    clerk, other = uuid.uuid4(), uuid.uuid4()
    approval_id = connection.execute(
        insert(PendingApproval)
        .values(
            action="registry.ex_officio_correction",
            resident_ids=[uuid.uuid4()],
            payload={"fields": ["name"]},
            status="pending",
            requested_by=clerk,
            requested_at=AT,
            version=1,
        )
        .returning(PendingApproval.id)
    ).scalar_one()
    this = update(PendingApproval).where(PendingApproval.id == approval_id)
    with _refused(connection):
        connection.execute(this.values(status="approved", approved_by=clerk, approved_at=AT))
    connection.execute(this.values(status="approved", approved_by=other, approved_at=AT))
