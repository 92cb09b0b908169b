"""個人番号 through HTTP: masked unless the actor holds the number right in a number-use
affair; unmasking needs a reason and is logged; refusals are logged (issue: Privacy core,
acceptance 2; controls.md AUTHZ-05, DISP-01)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from machi.bootstrap import Runtime
from machi.core.numbers import individual_number_check_digit
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from support import enrol, sign_in

NUMBER_BODY = "40000000010"  # synthetic
NUMBER = NUMBER_BODY + str(individual_number_check_digit(NUMBER_BODY))


@pytest.fixture
def subject(rt: Runtime) -> uuid.UUID:
    sid = uuid.uuid4()
    with rt.uow() as uow:
        vault.store_number(uow, Actor.operator(affair="juki"), rt.keys, sid, NUMBER)  # type: ignore[arg-type]
        uow.commit()
    return sid


def _audit(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.uow() as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_number_handler_unmasks_through_the_api_with_a_reason(
    rt: Runtime, client: TestClient, subject: uuid.UUID
) -> None:
    sign_in(client, rt, enrol(rt, "handler", (("number_handler", "juki"),)))
    r = client.post(
        f"/api/privacy/individual-numbers/{subject}/unmask", json={"reason": "certificate"}
    )
    assert r.status_code == 200 and r.json()["individual_number"] == NUMBER
    [row] = _audit(rt, "privacy.view_individual_number")
    assert row.outcome == "ok" and row.detail == {"reason": "certificate"}
    assert row.subject_ids == [str(subject)]
    assert NUMBER not in str(row.detail) + row.terminal


def test_clerk_without_the_right_is_refused_and_the_refusal_logged(
    rt: Runtime, client: TestClient, subject: uuid.UUID
) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    r = client.post(
        f"/api/privacy/individual-numbers/{subject}/unmask", json={"reason": "certificate"}
    )
    assert r.status_code == 403 and r.json()["code"] == "privacy.permission_denied"
    assert NUMBER not in r.text
    [row] = _audit(rt, "privacy.view_individual_number")
    assert row.outcome == "denied"


def test_missing_reason_is_a_clear_error_and_writes_nothing(
    rt: Runtime, client: TestClient, subject: uuid.UUID
) -> None:
    sign_in(client, rt, enrol(rt, "handler2", (("number_handler", "juki"),)))
    r = client.post(f"/api/privacy/individual-numbers/{subject}/unmask", json={})
    assert r.status_code == 422 and r.json()["code"] == "core.invalid_input"
    assert _audit(rt, "privacy.view_individual_number") == []


def test_staff_page_unmask_shows_the_number_then_hides_it(
    rt: Runtime, client: TestClient, subject: uuid.UUID
) -> None:
    sign_in(client, rt, enrol(rt, "handler3", (("number_handler", "nhi"),)))
    r = client.post(
        f"/privacy/individual-numbers/{subject}/unmask", data={"reason": "identity_check"}
    )
    assert r.status_code == 200 and NUMBER in r.text and "記録されています" in r.text
    r = client.post(f"/privacy/individual-numbers/{subject}/unmask", data={"reason": ""})
    assert r.status_code == 422 and NUMBER not in r.text


def test_staff_page_refuses_a_clerk(rt: Runtime, client: TestClient, subject: uuid.UUID) -> None:
    sign_in(client, rt, enrol(rt, "clerk2", (("counter_clerk", "juki"),)))
    r = client.post(
        f"/privacy/individual-numbers/{subject}/unmask", data={"reason": "identity_check"}
    )
    assert r.status_code == 403 and "権限がありません" in r.text and NUMBER not in r.text
