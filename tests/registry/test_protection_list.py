"""A supervisor sees the resident's 支援措置 on the protection page and can pick the one to
end; only supervisors may list them (OQ-02)."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from machi.privacy import services as privacy
from machi.privacy.actor import Actor
from machi.registry import queries, services
from registry.test_services import SUPERVISOR, family, lots  # noqa: F401
from support import assert_access, enrol, sign_in


def _register(rt: Runtime, rid: object) -> None:
    services.register_protection_measure(
        rt.uow(),
        SUPERVISOR,
        services.ProtectionMeasureRequest(
            applicant_id=rid,  # type: ignore[arg-type]
            requested_on=date(2026, 11, 25),
            valid_from=date(2026, 11, 25),
            offender_addressee_nos=(123,),
        ),
    )


def test_measures_are_listed_newest_first_without_offender_numbers(
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    _register(rt, head)
    [m] = queries.protection_measures(rt.uow(), SUPERVISOR, head)
    assert (m.applicant, m.valid_from, m.valid_until, m.ended_on) == (
        True,
        date(2026, 11, 25),
        date(2027, 11, 24),  # one year, the start day counted (民法 第143条)
        None,
    )
    assert m.offenders == 1 and "123" not in repr(m)


def test_the_page_shows_the_measure_to_end(
    client: TestClient,
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    head = family(rt, lots).resident_ids[0]
    _register(rt, head)
    [m] = queries.protection_measures(rt.uow(), SUPERVISOR, head)
    sign_in(client, rt, enrol(rt, "sup", (("registry_supervisor", "juki"),)))
    page = client.get(f"/registry/residents/{head}/protection")
    assert page.status_code == 200 and "登録済みの支援措置" in page.text
    assert f'name="measure_id" value="{m.measure_id}"' in page.text and "継続中" in page.text


def test_protection_measures_access(rt: Runtime, lots: list[int]) -> None:  # noqa: F811
    privacy.load_roles(rt.uow(), Actor.operator())
    head = family(rt, lots).resident_ids[0]
    assert_access(
        rt,
        "registry.protection_measures",
        lambda actor, _i: queries.protection_measures(rt.uow(), actor, head),
        {("registry_supervisor", "juki")},
    )


def test_reg_ctrl_33_the_list_of_residents_whose_issuance_is_stopped(
    client: TestClient,
    rt: Runtime,
    lots: list[int],  # noqa: F811
) -> None:
    """発行停止者一覧: the residents with a 支援措置 in force on the day, soonest end first;
    a measure ended, or not yet begun, is not listed."""
    head, wife = family(rt, lots).resident_ids
    _register(rt, wife)  # 2026-11-25 .. 2027-11-24
    services.register_protection_measure(
        rt.uow(),
        SUPERVISOR,
        services.ProtectionMeasureRequest(
            applicant_id=head,
            requested_on=date(2026, 11, 30),
            valid_from=date(2026, 11, 30),
            valid_until=date(2027, 5, 31),
            scope=("resident_record_copy",),
        ),
    )
    listed = queries.protected_residents(rt.uow(), SUPERVISOR)
    assert [(v.resident_id, v.valid_until, v.scope) for v in listed] == [
        (head, date(2027, 5, 31), ("住民票の写し等",)),
        (wife, date(2027, 11, 24), ("閲覧", "住民票の写し等", "除票の写し等", "附票の写し等")),
    ]
    # On 2026-11-27 the husband's measure had not begun.
    earlier = queries.protected_residents(rt.uow(), SUPERVISOR, on=date(2026, 11, 27))
    assert [v.resident_id for v in earlier] == [wife]
    sign_in(client, rt, enrol(rt, "sup33", (("registry_supervisor", "juki"),)))
    page = client.get("/registry/protection")
    assert page.status_code == 200 and "架空 花子" in page.text and "令和9年5月31日" in page.text


def test_protected_residents_access(rt: Runtime, lots: list[int]) -> None:  # noqa: F811
    privacy.load_roles(rt.uow(), Actor.operator())
    assert_access(
        rt,
        "registry.protected_residents",
        lambda actor, _i: queries.protected_residents(rt.uow(), actor),
        {("registry_supervisor", "juki")},
    )
