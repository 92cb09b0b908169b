"""住民基本台帳の一部の写しの閲覧 (REG-CTRL-09; 住基法第11条, 第11条の2; OQ-14): the 申出
records its scope, a second person approves it, and the list shows that scope only, the
four items only, in address order, without anyone under a 支援措置. The residents and the
expected lists are worked out by hand from their birth dates and addresses."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import replace
from datetime import date

import pytest
from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.privacy.services import load_roles
from machi.registry import queries, services
from machi.registry.errors import RegistryError
from machi.registry.models import Address, TownArea
from machi.registry.queries import BrowsingRow
from machi.registry.rules import BrowsingBasis, BrowsingScope
from machi.registry.services import BrowsingRequest, Decision, ProtectionMeasureRequest
from registry.test_services import (  # noqa: F401  (lots is a fixture)
    CLERK,
    NOTIFIED,
    SUPERVISOR,
    TODAY,
    audits,
    lots,
    move_in_cmd,
    person,
    refused,
)
from support import assert_access, enrol, sign_in

# The counter clerk's role includes 閲覧 (roles.yaml); the shared CLERK predates it.
BROWSER = replace(CLERK, permissions=CLERK.permissions | {Permission.REGISTRY_BROWSING})
SURVEY = BrowsingRequest(
    legal_basis=BrowsingBasis.SURVEY,
    requester="架空大学 社会調査室",
    purpose="市民意識調査の対象者の抽出",
    scope=BrowsingScope(("000101",), min_age=18, max_age=69),
    identification=NOTIFIED,
)


@pytest.fixture
def town(rt: Runtime, lots: list[int]) -> dict[str, object]:  # noqa: F811
    """As of 2026-11-30, after 転入 on 2026-11-20:
    架空町1番地: 太郎 (男, 46), 花子 (女, 44), 娘 (女, 17: 18 on 2026-12-01);
    架空町2番地: 一人 (男, 70 today); 架空町3番地: 保護 (女, 36) under a 支援措置;
    空地町1番地: 外 (男, 41)."""
    with rt.uow() as uow:
        area = TownArea(
            code="000102",
            name="空地町",
            name_kana="アキチチョウ",
            postal_code="9990002",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        other = Address(town_area_id=area.id, lot_no=1, lot="1番地")
        uow.session.add(other)
        uow.session.flush()
        other_id = other.id
        uow.commit()
    family = (
        person(),
        person("架空 花子", "wife", name_kana="カクウ ハナコ", sex=2, birth_date=date(1982, 6, 1)),
        person("架空 娘", "child", name_kana="カクウ ムスメ", sex=2, birth_date=date(2008, 12, 1)),
    )
    ids = services.move_in(rt.uow(), CLERK, move_in_cmd(lots, *family)).resident_ids
    alone = person("架空 一人", name_kana="カクウ カズト", birth_date=date(1956, 11, 30))
    services.move_in(rt.uow(), CLERK, move_in_cmd(lots, alone, address_id=lots[1]))
    hidden = person("架空 保護", name_kana="カクウ マモル", sex=2, birth_date=date(1990, 1, 1))
    (protected,) = services.move_in(
        rt.uow(), CLERK, move_in_cmd(lots, hidden, address_id=lots[2])
    ).resident_ids
    services.register_protection_measure(
        rt.uow(), SUPERVISOR, ProtectionMeasureRequest(protected, TODAY, TODAY)
    )
    outside = person("架空 外", name_kana="カクウ ソト", birth_date=date(1985, 1, 1))
    services.move_in(rt.uow(), CLERK, move_in_cmd(lots, outside, address_id=other_id))
    return {"taro": ids[0], "hanako": ids[1]}


def approved(rt: Runtime, request: BrowsingRequest) -> int:
    approval = services.request_browsing(rt.uow(), BROWSER, request)
    services.approve_request(rt.uow(), SUPERVISOR, Decision(approval))
    return approval


def test_reg_ctrl_09_the_list_shows_the_recorded_scope_only(
    rt: Runtime, town: dict[str, object]
) -> None:
    approval = services.request_browsing(rt.uow(), BROWSER, SURVEY)
    # Not before 決裁, and not approved by the clerk who received it.
    with pytest.raises(DomainError) as early:
        queries.browsing_list(rt.uow(), BROWSER, approval)
    assert early.value.code == RegistryError.APPROVAL_NOT_USABLE
    refused(
        rt,
        lambda: services.approve_request(
            rt.uow(), replace(SUPERVISOR, user_id=CLERK.user_id), Decision(approval)
        ),
        RegistryError.APPROVAL_BY_REQUESTER,
    )
    services.approve_request(rt.uow(), SUPERVISOR, Decision(approval))
    listed = queries.browsing_list(rt.uow(), BROWSER, approval)
    # 18〜69 in 架空町: 娘 is 17, 一人 turned 70 today, 保護 is protected, 外 lives elsewhere.
    assert listed.rows == (
        BrowsingRow("架空 太郎", date(1980, 4, 1), 1, "架空町1番地"),
        BrowsingRow("架空 花子", date(1982, 6, 1), 2, "架空町1番地"),
    )
    assert [f.name for f in dataclasses.fields(BrowsingRow)] == [
        "name",
        "birth_date",
        "sex",
        "address",
    ]
    (viewed,) = audits(rt, "registry.browsing_list")
    assert set(viewed.subject_ids) == {str(town["taro"]), str(town["hanako"])}
    assert viewed.detail == {"approval_id": approval, "count": 2}
    # The approval serves the viewing again (it is not a one-off copy).
    assert queries.browsing_list(rt.uow(), BROWSER, approval).rows == listed.rows


def test_women_of_all_ages_in_address_order(rt: Runtime, town: dict[str, object]) -> None:
    women = replace(SURVEY, scope=BrowsingScope(("000101", "000102"), sex=2))
    listed = queries.browsing_list(rt.uow(), BROWSER, approved(rt, women))
    assert [(r.name, r.address) for r in listed.rows] == [
        ("架空 花子", "架空町1番地"),
        ("架空 娘", "架空町1番地"),
    ]


def test_a_request_needs_purpose_scope_and_known_towns(
    rt: Runtime, town: dict[str, object]
) -> None:
    for bad, code in (
        (replace(SURVEY, purpose=" "), RegistryError.PURPOSE_REQUIRED),
        (replace(SURVEY, scope=BrowsingScope(())), RegistryError.BROWSING_SCOPE_INVALID),
        (
            replace(SURVEY, scope=BrowsingScope(("000101",), 70, 18)),
            RegistryError.BROWSING_SCOPE_INVALID,
        ),
        (replace(SURVEY, scope=BrowsingScope(("999999",))), RegistryError.BROWSING_SCOPE_INVALID),
        (replace(SURVEY, identification=None), RegistryError.IDENTIFICATION_REQUIRED),
    ):
        refused(rt, lambda bad=bad: services.request_browsing(rt.uow(), BROWSER, bad), code)
    # Another kind of approval does not open a 閲覧.
    export = services.request_bulk_export(rt.uow(), SUPERVISOR, services.BulkExportRequest("照合"))
    services.approve_request(rt.uow(), replace(SUPERVISOR, user_id=CLERK.user_id), Decision(export))
    with pytest.raises(DomainError) as wrong:
        queries.browsing_list(rt.uow(), BROWSER, export)
    assert wrong.value.code == RegistryError.APPROVAL_NOT_USABLE


def test_browsing_access(rt: Runtime, town: dict[str, object]) -> None:
    load_roles(rt.uow(), Actor.operator())
    allowed = {("counter_clerk", "juki"), ("registry_supervisor", "juki")}

    def request(actor: Actor, i: int) -> object:
        return services.request_browsing(
            rt.uow(), replace(actor, user_id=uuid.UUID(int=3000 + i)), SURVEY
        )

    assert_access(rt, "registry.request_browsing", request, allowed)
    approval = approved(rt, SURVEY)
    assert_access(
        rt,
        "registry.browsing_list",
        lambda actor, _i: queries.browsing_list(rt.uow(), actor, approval),
        allowed,
    )


def test_browsing_pages(client: TestClient, rt: Runtime, town: dict[str, object]) -> None:
    clerk = enrol(rt, "clerk09", (("counter_clerk", "juki"),))
    sign_in(client, rt, clerk)
    page = client.get("/registry/browsing")
    assert page.status_code == 200 and "住基法第11条の2第1項第1号" in page.text
    form = {
        "legal_basis": "art11_2_1_1",
        "requester": "架空大学 社会調査室",
        "purpose": "市民意識調査",
        "min_age": "18",
        "max_age": "69",
        "applicant": "self",
        "identity_documents": "drivers_license",
    }
    no_town = client.post("/registry/browsing", data=form)
    assert no_town.status_code == 422 and "閲覧の範囲" in no_town.text
    received = client.post("/registry/browsing", data={**form, "town_area_codes": "000101"})
    assert received.status_code == 200
    approval = re.search(r"承認番号 <strong>(\d+)", received.text).group(1)  # type: ignore[union-attr]
    assert client.get(f"/registry/browsing/{approval}").status_code == 422  # not yet approved
    client.post("/logout")
    sign_in(client, rt, enrol(rt, "sup09", (("registry_supervisor", "juki"),)))
    queue = client.get("/registry/approvals").text
    assert "市民意識調査" in queue and "000101" in queue and "18〜69歳" in queue
    assert client.post(f"/registry/requests/{approval}/approve").status_code == 200
    client.post("/logout")
    sign_in(client, rt, clerk)
    shown = client.get(f"/registry/browsing/{approval}").text
    assert "架空 太郎" in shown and "架空 花子" in shown
    assert "架空 娘" not in shown and "架空 保護" not in shown and "架空 外" not in shown
