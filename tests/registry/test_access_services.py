"""Access tables for the registry's commands (controls.md AUTHZ-01; REG-CTRL-11 for
決裁): every (role, affair) pair is tried; the pairs granted by roles.yaml pass, all
others are refused with PermissionDenied and one 'denied' audit row, and change nothing.

Setup that a passing call needs is made only for actors that pass the gate
(``access.allowed``), so a refused call cannot write anything but its denial. The
harness's actors have no user id; a command records who made it (``recorded_by``), so
each call lends its actor one. Synthetic data only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection

from machi.bootstrap import Runtime
from machi.privacy import access
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.privacy.services import load_roles
from machi.registry import services
from machi.registry.models import Address, TownArea
from machi.registry.rules import (
    ApplicantKind,
    Identification,
    IdentityDocument,
    LegalBasis,
    RequesterType,
)
from machi.registry.services import (
    Birth,
    BulkExportRequest,
    CardBasedMoveIn,
    Death,
    Decision,
    DisclosureRequest,
    ExOfficioCorrection,
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
    TownImport,
)
from machi.synth import services as synth
from support import assert_access

RECORDERS = {("counter_clerk", "juki"), ("registry_supervisor", "juki")}
SUPERVISOR_ONLY = {("registry_supervisor", "juki")}
TODAY = date(2026, 11, 30)
SETUP = Actor(
    user_id=uuid.UUID(int=401),
    login_name="setup",
    terminal="T-00",
    affair="juki",
    permissions=frozenset(
        {
            Permission.REGISTRY_RECORD_CHANGE,
            Permission.REGISTRY_REQUEST_EX_OFFICIO,
            Permission.REGISTRY_MANAGE_PROTECTION,
            Permission.REGISTRY_ISSUE_CERTIFICATE,
            Permission.REGISTRY_EXPORT,
        }
    ),
)
NOBODY = uuid.UUID(int=0)

# The 届出人 in person with a photo card checked: what every notice below presents
# (REG-CTRL-01).
NOTIFIED = Identification(ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,))


class Town:
    """A fictitious 町字 and a fresh household per call that needs one."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.serial = 0
        with rt.uow() as uow:
            area = TownArea(
                code="000401",
                name="権限町",
                name_kana="ケンゲンチョウ",
                postal_code="9990401",
                address_style="lot_number",
            )
            uow.session.add(area)
            uow.session.flush()
            lots = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in range(1, 200)]
            uow.session.add_all(lots)
            uow.session.flush()
            self.lots = [a.id for a in lots]
            uow.commit()

    def person(self, relationship: str = "head", **kw: Any) -> NewPerson:
        self.serial += 1
        values: dict[str, Any] = {
            "name": f"権限 太郎{self.serial}",
            "name_kana": "ケンゲン タロウ",
            "birth_date": date(1980, 1, 1),
            "sex": 1,
            "relationship": relationship,
            "registered_domicile": "架空県架空市本町1番地",
        }
        values.update(kw)
        return NewPerson(**values)

    def move_in(self, *persons: NewPerson) -> MoveIn:
        self.serial += 1
        return MoveIn(
            persons=persons or (self.person(),),
            address_id=self.lots[self.serial % len(self.lots)],
            building=None,
            effective_on=date(2026, 11, 20),
            notified_on=date(2026, 11, 24),
            moved_in_from="架空県他市1番地",
            move_out_certificate=True,
            identification=Identification(
                ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
            ),
        )

    def family(self) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        """(head, wife, household), entered by the setup actor."""
        done = services.move_in(
            self.rt.uow(),
            SETUP,
            self.move_in(self.person(), self.person("wife", sex=2)),
        )
        head, wife = done.resident_ids
        return head, wife, done.household_ids[0]


@pytest.fixture
def town(rt: Runtime) -> Town:
    load_roles(rt.uow(), Actor.operator())
    return Town(rt)


def staff(actor: Actor, i: int) -> Actor:
    return replace(actor, user_id=uuid.UUID(int=1000 + i))


def table(
    rt: Runtime,
    action: str,
    permission: Permission,
    allowed: set[tuple[str, str]],
    run: Callable[[Actor, bool], object],
) -> None:
    """``run(actor, passes)`` builds what a passing call needs only when it will pass."""
    assert_access(
        rt,
        action,
        lambda actor, i: run(staff(actor, i), access.allowed(actor, permission)),
        allowed,
    )


RECORD = Permission.REGISTRY_RECORD_CHANGE


def test_move_in(rt: Runtime, town: Town) -> None:
    table(
        rt,
        "registry.move_in",
        RECORD,
        RECORDERS,
        lambda actor, _ok: services.move_in(rt.uow(), actor, town.move_in()),
    )


def test_card_based_move_in(rt: Runtime, town: Town) -> None:
    table(
        rt,
        "registry.card_based_move_in",
        RECORD,
        RECORDERS,
        lambda actor, _ok: services.card_based_move_in(
            rt.uow(), actor, CardBasedMoveIn(town.move_in(), date(2026, 11, 15))
        ),
    )


def test_birth(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        household = town.family()[2] if ok else uuid.uuid4()
        baby = town.person("child", birth_date=date(2026, 11, 25))
        return services.birth(rt.uow(), actor, Birth(household, baby))

    table(rt, "registry.birth", RECORD, RECORDERS, run)


def test_planned_move_out_and_confirm(rt: Runtime, town: Town) -> None:
    def out(actor: Actor, ok: bool) -> object:
        head = town.family()[0] if ok else NOBODY
        cmd = PlannedMoveOut((head,), TODAY, TODAY, "架空県他市", identification=NOTIFIED)
        return services.planned_move_out(rt.uow(), actor, cmd)

    table(rt, "registry.planned_move_out", RECORD, RECORDERS, out)

    def confirm(actor: Actor, ok: bool) -> object:
        head = NOBODY
        if ok:
            head = town.family()[0]
            plan = PlannedMoveOut((head,), TODAY, TODAY, "架空県他市", identification=NOTIFIED)
            services.planned_move_out(rt.uow(), SETUP, plan)
        return services.confirm_move_out(
            rt.uow(), actor, MoveOutConfirmation(head, TODAY, "架空県他市", TODAY)
        )

    table(rt, "registry.confirm_move_out", RECORD, RECORDERS, confirm)


def test_move_within(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        head, wife, _h = town.family() if ok else (NOBODY, NOBODY, NOBODY)
        cmd = MoveWithin(
            (head, wife), town.lots[-1], "移転荘", TODAY, TODAY, identification=NOTIFIED
        )
        return services.move_within(rt.uow(), actor, cmd)

    table(rt, "registry.move_within", RECORD, RECORDERS, run)


def test_death(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        head = town.family()[0] if ok else NOBODY
        return services.death(rt.uow(), actor, Death(head, TODAY))

    table(rt, "registry.death", RECORD, RECORDERS, run)


def test_household_split(rt: Runtime, town: Town) -> None:
    def split(actor: Actor, ok: bool) -> object:
        _head, wife, household = town.family() if ok else (NOBODY, NOBODY, NOBODY)
        cmd = HouseholdSplit(household, {wife: "head"}, TODAY, TODAY, identification=NOTIFIED)
        return services.household_split(rt.uow(), actor, cmd)

    table(rt, "registry.household_split", RECORD, RECORDERS, split)


def test_household_merge(rt: Runtime, town: Town) -> None:
    def merge(actor: Actor, ok: bool) -> object:
        source = into = NOBODY
        joining = NOBODY
        if ok:
            _head, joining, into = town.family()
            cmd = HouseholdSplit(
                into, {joining: "head"}, date(2026, 11, 25), TODAY, identification=NOTIFIED
            )
            source = services.household_split(rt.uow(), SETUP, cmd).household_ids[1]
        cmd = HouseholdMerge(source, into, {joining: "wife"}, TODAY, TODAY, identification=NOTIFIED)
        return services.household_merge(rt.uow(), actor, cmd)

    table(rt, "registry.household_merge", RECORD, RECORDERS, merge)


def test_household_head_change(rt: Runtime, town: Town) -> None:
    def head_change(actor: Actor, ok: bool) -> object:
        head, wife, household = town.family() if ok else (NOBODY, NOBODY, NOBODY)
        cmd = HouseholdHeadChange(
            household, wife, {head: "husband"}, TODAY, TODAY, identification=NOTIFIED
        )
        return services.household_head_change(rt.uow(), actor, cmd)

    table(rt, "registry.household_head_change", RECORD, RECORDERS, head_change)


def test_change_foreign_resident_status(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        rid = NOBODY
        if ok:
            foreign = town.person(
                registered_domicile=None,
                foreign_resident=True,
                nationality="ZZ",
                foreign_resident_class="special_permanent_resident",
                residence_card_no=f"AB{town.serial:08d}CD",
            )
            (rid,) = services.move_in(rt.uow(), SETUP, town.move_in(foreign)).resident_ids
        cmd = ForeignResidentStatusChange(
            rid,
            TODAY,
            "YY",
            "special_permanent_resident",
            None,
            None,
            None,
            f"EF{town.serial:08d}GH",
        )
        return services.change_foreign_resident_status(rt.uow(), actor, cmd)

    table(rt, "registry.change_foreign_resident_status", RECORD, RECORDERS, run)


def test_change_individual_number(rt: Runtime, town: Town) -> None:
    from machi.core.numbers import individual_number_check_digit

    def run(actor: Actor, ok: bool) -> object:
        head = town.family()[0] if ok else NOBODY
        first11 = f"{20000000000 + town.serial:011d}"
        number = first11 + str(individual_number_check_digit(first11))
        cmd = IndividualNumberChange(
            head,
            number,
            effective_on=TODAY,
            identification=Identification(
                ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
            ),
        )
        return services.change_individual_number(rt.uow(), actor, rt.keys, cmd)

    table(rt, "registry.change_individual_number", RECORD, RECORDERS, run)


def test_request_ex_officio(rt: Runtime, town: Town) -> None:
    def request(actor: Actor, ok: bool) -> object:
        head = town.family()[0] if ok else NOBODY
        cmd = ExOfficioCorrection(head, {"building": "訂正荘"})
        return services.request_ex_officio(rt.uow(), actor, cmd)

    permission = Permission.REGISTRY_REQUEST_EX_OFFICIO
    table(rt, "registry.request_ex_officio", permission, RECORDERS, request)


def _draft(rt: Runtime, town: Town) -> int:
    head = town.family()[0]
    cmd = ExOfficioCorrection(head, {"building": "訂正荘"})
    return services.request_ex_officio(rt.uow(), SETUP, cmd)


def test_approve_ex_officio(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        draft = _draft(rt, town) if ok else -1
        return services.approve_ex_officio(rt.uow(), actor, Decision(draft, verified=True))

    table(rt, "registry.approve_ex_officio", Permission.REGISTRY_APPROVE, SUPERVISOR_ONLY, run)


def test_reject_ex_officio(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        draft = _draft(rt, town) if ok else -1
        return services.reject_ex_officio(rt.uow(), actor, Decision(draft))

    table(rt, "registry.reject_ex_officio", Permission.REGISTRY_APPROVE, SUPERVISOR_ONLY, run)


def _disclosure(resident_id: uuid.UUID) -> DisclosureRequest:
    return DisclosureRequest(
        resident_ids=(resident_id,),
        requester_type=RequesterType.PUBLIC_AGENCY,
        legal_basis=LegalBasis.PUBLIC_AGENCY,
        requester="架空県警察本部",
        purpose="捜査関係事項照会",
        identification=Identification(ApplicantKind.SELF, (IdentityDocument.DRIVERS_LICENSE,)),
    )


def test_request_disclosure(rt: Runtime, town: Town) -> None:
    def run(actor: Actor, ok: bool) -> object:
        head = town.family()[0] if ok else NOBODY
        return services.request_disclosure(rt.uow(), actor, _disclosure(head))

    allowed = RECORDERS
    table(rt, "registry.request_disclosure", Permission.REGISTRY_ISSUE_CERTIFICATE, allowed, run)


def test_request_bulk_export(rt: Runtime) -> None:
    load_roles(rt.uow(), Actor.operator())

    def run(actor: Actor, _ok: bool) -> object:
        return services.request_bulk_export(rt.uow(), actor, BulkExportRequest("年次の統計資料"))

    allowed = SUPERVISOR_ONLY | {("registry_supervisor", "admin")}
    table(rt, "registry.request_bulk_export", Permission.REGISTRY_EXPORT, allowed, run)


def test_approve_and_reject_request(rt: Runtime, town: Town) -> None:
    def request() -> int:
        return services.request_disclosure(rt.uow(), SETUP, _disclosure(town.family()[0]))

    def approve(actor: Actor, ok: bool) -> object:
        return services.approve_request(rt.uow(), actor, Decision(request() if ok else -1))

    def reject(actor: Actor, ok: bool) -> object:
        return services.reject_request(rt.uow(), actor, Decision(request() if ok else -1))

    table(rt, "registry.approve_request", Permission.REGISTRY_APPROVE, SUPERVISOR_ONLY, approve)
    table(rt, "registry.reject_request", Permission.REGISTRY_APPROVE, SUPERVISOR_ONLY, reject)


def test_protection_measures(rt: Runtime, town: Town) -> None:
    manage = Permission.REGISTRY_MANAGE_PROTECTION

    def register(actor: Actor, ok: bool) -> object:
        wife = town.family()[1] if ok else NOBODY
        return services.register_protection_measure(
            rt.uow(), actor, ProtectionMeasureRequest(wife, TODAY, TODAY)
        )

    table(rt, "registry.register_protection_measure", manage, SUPERVISOR_ONLY, register)

    def end(actor: Actor, ok: bool) -> object:
        measure = NOBODY
        if ok:
            wife = town.family()[1]
            request = ProtectionMeasureRequest(wife, TODAY, TODAY)
            (measure,) = services.register_protection_measure(rt.uow(), SETUP, request).measure_ids
        cmd = ProtectionMeasureEnd(measure, TODAY, "request")
        return services.end_protection_measure(rt.uow(), actor, cmd)

    table(rt, "registry.end_protection_measure", manage, SUPERVISOR_ONLY, end)


def test_import_town(rt: Runtime, connection: Connection) -> None:
    """Roles only (the operator's shell grant, Actor.operator in affair admin, is not a
    role). REGISTRY_BULK_LOAD may be used in juki and in admin (PERMISSION_AFFAIRS), so a
    registry_supervisor granted the role in admin passes too. The import runs once per
    empty registry: each passing call is rolled back so the next starts empty."""
    load_roles(rt.uow(), Actor.operator())

    def run(actor: Actor, ok: bool) -> object:
        if not ok:
            return services.import_town(rt.uow(), actor, rt.keys, TownImport())
        trial = connection.begin_nested()
        try:
            synth.load_town(
                rt.uow(),
                Actor.operator(),
                residents=3,
                seed=5,
                municipality_name="架空村",
                local_government_code="999997",
                as_of=date(2026, 10, 1),
            )
            return services.import_town(rt.uow(), actor, rt.keys, TownImport())
        finally:
            trial.rollback()

    allowed = SUPERVISOR_ONLY | {("registry_supervisor", "admin")}
    table(rt, "registry.import_town", Permission.REGISTRY_BULK_LOAD, allowed, run)
