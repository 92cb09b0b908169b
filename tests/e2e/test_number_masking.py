"""Browser acceptance of the privacy core: without the number right a user sees the 個人番号
masked and no way to unmask it; with it, sees it after giving a reason, and the view is in
the audit log (issue: Privacy core, acceptance 2; DISP-01, AUTHZ-05)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from machi.core.numbers import individual_number_check_digit
from machi.privacy import vault
from machi.privacy.actor import Actor
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from machi.registry import services
from machi.registry.models import Address
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from support import Enrolled, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BODY = "61234567890"  # synthetic
NUMBER = BODY + str(individual_number_check_digit(BODY))


@pytest.fixture(scope="module")
def resident(live_server: LiveServer) -> uuid.UUID:
    rt = live_server.rt
    with rt.uow() as uow:
        address_id = uow.session.scalars(select(Address.id).order_by(Address.id)).first()
    clerk = Actor(
        user_id=uuid.uuid4(),
        login_name="seed",
        terminal="test",
        affair="juki",
        permissions=frozenset(Permission),
    )
    done = services.move_in(
        rt.uow(),
        clerk,
        services.MoveIn(
            persons=(
                services.NewPerson(
                    name="番号 確認",
                    name_kana="バンゴウ カクニン",
                    birth_date=date(1975, 3, 3),
                    sex=1,
                    relationship="head",
                    registered_domicile="架空県架空市本町1番地",
                    family_register_head="番号 確認",
                ),
            ),
            address_id=address_id,
            building=None,
            effective_on=date(2026, 11, 2),
            notified_on=date(2026, 11, 5),
            moved_in_from="架空県見本市中町1番地",
            move_out_certificate=True,
            identification=Identification(
                ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
            ),
        ),
    )
    rid = done.resident_ids[0]
    with rt.uow() as uow:
        vault.store_number(uow, clerk, rt.keys, rid, NUMBER)
        uow.commit()
    return rid


def sign_in(page: Any, server: LiveServer, login: str, password: str, totp: Any) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("ログインID").fill(login)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("確認コード").fill(totp.now())
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{server.url}/")


def test_clerk_sees_only_the_mask(live_server: LiveServer, resident: uuid.UUID, page: Any) -> None:
    sign_in(page, live_server, live_server.login_name, live_server.password, live_server.totp)
    page.goto(f"{live_server.url}/registry/residents/{resident}")
    assert page.get_by_test_id("individual-number").inner_text() == "＊" * 12
    assert page.get_by_role("button", name="番号を表示").count() == 0
    assert NUMBER not in page.content()


def test_handler_unmasks_with_a_reason_and_it_is_logged(
    live_server: LiveServer, resident: uuid.UUID, page: Any
) -> None:
    handler = live_server.handler
    assert isinstance(handler, Enrolled)
    sign_in(page, live_server, handler.login_name, handler.password, handler.totp)
    page.goto(f"{live_server.url}/registry/residents/{resident}")
    assert page.get_by_test_id("individual-number").inner_text() == "＊" * 12
    page.get_by_label("表示理由").select_option(label="証明書発行")
    page.get_by_role("button", name="番号を表示").click()
    assert page.get_by_test_id("individual-number").inner_text() == NUMBER
    with live_server.rt.uow() as uow:
        views = uow.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "privacy.view_individual_number",
                AuditEntry.outcome == "ok",
            )
        ).all()
    assert [(v.subject_ids, v.detail) for v in views] == [
        ([str(resident)], {"reason": "certificate"})
    ]
