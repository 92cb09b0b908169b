"""Import of the synthetic town into the registry (REGISTRY_BULK_LOAD): set-based, every
synth person becomes a resident with a first version (and a 除票 row when dead or moved
out), 宛名番号 and 世帯番号 carry their check digits, every current household has one
世帯主, every 個人番号 is findable through the vault, and a second import is refused.
The town is synthetic (machi.synth), never real people."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, table, text

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.registry import rules, services
from machi.registry.errors import RegistryError
from machi.registry.services import ImportReport, TownImport
from machi.synth import services as synth
from machi.synth.rules import individual_number_for

SEED = 20261130
RESIDENTS = 2_000
OPERATOR = Actor.operator()
NUMBER_HANDLER = Actor(
    user_id=uuid.UUID(int=501),
    login_name="numbers",
    terminal="T-05",
    affair="juki",
    permissions=frozenset({Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER}),
)


def _scalar(rt: Runtime, sql: str, **params: Any) -> Any:
    with rt.uow() as uow:
        return uow.session.scalar(text(sql), params)


def _footprint(rt: Runtime) -> tuple[int, ...]:
    tables = [
        table(name, schema=schema)
        for schema, name in (
            ("registry", "town_area"),
            ("registry", "resident"),
            ("registry", "resident_version"),
            ("privacy", "individual_number"),
            ("privacy", "audit_log"),
        )
    ]
    with rt.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


@pytest.mark.slow(
    reason="generates a 2,000-resident town and seals ~2,300 個人番号 one by one (vault)"
)
def test_import_town(rt: Runtime) -> None:
    synth.load_town(
        rt.uow(),
        OPERATOR,
        residents=RESIDENTS,
        seed=SEED,
        municipality_name="架空市",
        local_government_code="999997",
        as_of=date(2026, 10, 1),
    )
    progress: list[int] = []
    report = services.import_town(
        rt.uow(), OPERATOR, rt.keys, TownImport(batch=500), on_progress=progress.append
    )

    # Counts match the town: current + removed persons, households, address master.
    persons = _scalar(rt, "SELECT count(*) FROM synth.person")
    removed = _scalar(
        rt,
        "SELECT count(*) FROM synth.person WHERE died_on IS NOT NULL OR moved_out_on IS NOT NULL",
    )
    assert report == ImportReport(
        town_areas=_scalar(rt, "SELECT count(*) FROM synth.town_area"),
        addresses=_scalar(rt, "SELECT count(*) FROM synth.address"),
        households=_scalar(rt, "SELECT count(*) FROM synth.household"),
        residents=persons,
        current_residents=RESIDENTS,
        removed_records=removed,
        versions=persons + removed,
        individual_numbers=persons,
    )
    assert _scalar(rt, "SELECT count(*) FROM registry.resident WHERE status = 'current'") == (
        RESIDENTS
    )
    assert _scalar(rt, "SELECT count(*) FROM registry.resident WHERE status = 'removed'") == removed
    assert progress == sorted(progress) and progress[-1] == persons

    # 除票: the dead and the moved-out end in a removed row with the right reason.
    with rt.uow() as uow:
        removal = dict(
            uow.session.execute(
                text(
                    "SELECT change_reason, count(*) FROM registry.resident_version"
                    " WHERE removed GROUP BY change_reason"
                )
            ).all()
        )
        dead = uow.session.scalar(
            text("SELECT count(*) FROM synth.person WHERE died_on IS NOT NULL")
        )
    assert set(removal) <= {"death", "domestic_move_out", "move_out_abroad"}
    assert removal.get("death", 0) == dead and sum(removal.values()) == removed

    # Numbers: 宛名番号 and 世帯番号 are serials with an M11W2〜7 check digit, all distinct.
    with rt.uow() as uow:
        addressee = uow.session.scalars(text("SELECT addressee_no FROM registry.resident")).all()
        households = uow.session.scalars(text("SELECT household_no FROM registry.household")).all()
    assert len(set(addressee)) == persons and all(map(rules.is_valid_addressee_no, addressee))
    assert len(set(households)) == report.households
    assert all(map(rules.is_valid_addressee_no, households))

    # Every current household has exactly one 世帯主 today; dissolved ones have nobody.
    with rt.uow() as uow:
        heads = uow.session.execute(
            text(
                "SELECT h.id, h.dissolved_on,"
                " count(v.id) FILTER (WHERE v.relationship = 'head') AS heads,"
                " count(v.id) AS members"
                " FROM registry.household h LEFT JOIN registry.resident_version v"
                "  ON v.household_id = h.id AND v.valid_from <= :on"
                "  AND (v.valid_to IS NULL OR v.valid_to > :on)"
                "  AND v.superseded_at IS NULL AND NOT v.removed"
                " GROUP BY h.id, h.dissolved_on"
            ),
            {"on": rt.clock.business_date()},
        ).all()
    current = [h for h in heads if h.dissolved_on is None]
    assert current and all(h.heads == 1 for h in current)
    assert all(h.members == 0 for h in heads if h.dissolved_on is not None)

    # Each person's 個人番号 is sealed in the vault under their resident id: found by
    # number, it leads to the record with the same name and birth date as in synth.
    with rt.uow() as uow:
        sample = uow.session.execute(
            text("SELECT id, name, birth_date FROM synth.person ORDER BY id LIMIT 25")
        ).all()
    for pid, name, born in sample:
        with rt.uow() as uow:
            subject = vault.find_subject_by_number(
                uow, NUMBER_HANDLER, rt.keys, individual_number_for(SEED, pid)
            )
            assert subject is not None
            row = uow.session.execute(
                text(
                    "SELECT name, birth_date FROM registry.resident_version"
                    " WHERE resident_id = :r AND history_no = 1"
                ),
                {"r": subject},
            ).one()
        assert (row.name, row.birth_date) == (name, born)
    assert _scalar(rt, "SELECT count(*) FROM privacy.individual_number") == persons

    # Search keys were computed like the ORM would (machi.core.text), not left blank.
    assert _scalar(rt, "SELECT count(*) FROM registry.resident_version WHERE name_key = ''") == 0

    # One audit row of counts for the import, with no personal value in it.
    with rt.uow() as uow:
        (entry,) = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "registry.import_town")
        ).all()
    assert entry.detail["residents"] == persons and entry.detail["individual_numbers"] == persons
    blob = json.dumps(entry.detail, ensure_ascii=False)
    assert all(name not in blob for _pid, name, _born in sample)

    # Idempotency: a second import is refused with a clear error and writes nothing.
    before = _footprint(rt)
    with pytest.raises(DomainError) as info:
        services.import_town(rt.uow(), OPERATOR, rt.keys, TownImport())
    assert info.value.code == RegistryError.ALREADY_RESIDENT
    assert "一括取込" in info.value.message
    assert _footprint(rt) == before


def test_import_without_a_town_is_refused(rt: Runtime) -> None:
    with pytest.raises(DomainError) as info:
        services.import_town(rt.uow(), OPERATOR, rt.keys, TownImport())
    assert info.value.http_status == 404
    assert _scalar(rt, "SELECT count(*) FROM registry.town_area") == 0
