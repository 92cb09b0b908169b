"""Administration of staff accounts and roles, through the services and the staff pages
(issue: Privacy core, item 1: roles manageable in the admin UI and CLI, loadable from YAML)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import services
from machi.privacy.access import PermissionDenied
from machi.privacy.actor import Actor
from machi.privacy.errors import PrivacyError
from machi.privacy.models import AuditEntry
from machi.privacy.permissions import Permission
from support import enrol, sign_in


def test_grant_outside_the_matrix_is_refused(rt: Runtime) -> None:
    enrol(rt, "target", (("auditor", "privacy"),))
    with pytest.raises(DomainError) as e:
        services.grant_role(rt.uow(), Actor.operator(), "target", "no_such_role", "juki")
    assert e.value.code == PrivacyError.UNKNOWN_ROLE
    with pytest.raises(DomainError) as e:
        services.grant_role(rt.uow(), Actor.operator(), "target", "nhi_staff", "no_affair")
    assert e.value.code == PrivacyError.UNKNOWN_AFFAIR


def test_revoked_role_stops_working_on_the_next_request(rt: Runtime) -> None:
    who = enrol(rt, "handler", (("number_handler", "juki"),))
    token = services.login_password(
        rt.uow(), login_name="handler", password=who.password, terminal="t", max_failed=5
    )
    view = services.login_totp(
        rt.uow(), rt.keys, token=token, code=who.totp.at(rt.clock.now()), max_failed=5
    )
    assert Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER in view.permissions
    services.revoke_role(rt.uow(), Actor.operator(), "handler", "number_handler", "juki")
    view = services.resume(rt.uow(), token=token, idle=timedelta(minutes=10))
    assert view.permissions == frozenset() and view.affair is None


def test_switching_affair_changes_permissions(rt: Runtime) -> None:
    who = enrol(rt, "two", (("counter_clerk", "juki"), ("privacy_officer", "privacy")))
    token = services.login_password(
        rt.uow(), login_name="two", password=who.password, terminal="t", max_failed=5
    )
    view = services.login_totp(
        rt.uow(), rt.keys, token=token, code=who.totp.at(rt.clock.now()), max_failed=5
    )
    assert view.affair == "juki" and Permission.REGISTRY_VIEW in view.permissions
    assert Permission.PRIVACY_VIEW_AUDIT_LOG not in view.permissions
    view = services.switch_affair(rt.uow(), token=token, affair="privacy")
    assert Permission.PRIVACY_VIEW_AUDIT_LOG in view.permissions
    assert Permission.REGISTRY_VIEW not in view.permissions
    with pytest.raises(DomainError):
        services.switch_affair(rt.uow(), token=token, affair="nhi")  # holds no role there


def test_load_roles_refuses_unknown_permission_and_changes_nothing(
    rt: Runtime, tmp_path: Path
) -> None:
    services.load_roles(rt.uow(), Actor.operator())
    bad = tmp_path / "roles.yaml"
    bad.write_text(
        "roles:\n  - code: auditor\n    name_ja: 監査\n    permissions: [privacy.everything]\n",
        encoding="utf-8",
    )
    with pytest.raises(DomainError) as e:
        services.load_roles(rt.uow(), Actor.operator(), bad)
    assert e.value.code == PrivacyError.INVALID_ROLE_FILE
    [auditor] = [r for r in services.list_roles(rt.uow(), Actor.operator()) if r.code == "auditor"]
    assert "privacy.view_audit_log" in auditor.permissions


def test_admin_pages_create_grant_unlock(rt: Runtime, client: TestClient) -> None:
    sign_in(client, rt, enrol(rt, "admin1", (("administrator", "admin"),)))
    page = client.get("/")
    assert "利用者管理" in page.text and "ロールと権限" in page.text
    r = client.post(
        "/admin/users",
        data={
            "login_name": "newbie",
            "display_name": "新人 職員",
            "password": "initial password 1",
            "role_code": "counter_clerk",
            "affair": "juki",
        },
    )
    assert r.status_code == 200 and "newbie を作成しました。" in r.text
    assert 'data-testid="totp-secret"' in r.text
    r = client.post("/admin/users/newbie/grants", data={"role_code": "nhi_staff", "affair": "nhi"})
    assert "nhi_staff@nhi" in r.text
    r = client.post("/admin/users/newbie/grants", data={"role_code": "bogus", "affair": "nhi"})
    assert r.status_code == 422 and "登録されていないロールです。" in r.text
    roles = client.get("/admin/roles")
    assert roles.status_code == 200 and "個人番号取扱者" in roles.text


def test_clerk_sees_no_admin_menu_and_is_refused_with_a_page(
    rt: Runtime, client: TestClient
) -> None:
    sign_in(client, rt, enrol(rt, "clerk", (("counter_clerk", "juki"),)))
    assert "利用者管理" not in client.get("/").text
    r = client.get("/admin/users")
    assert r.status_code == 403 and "この操作を行う権限がありません。" in r.text
    assert r.headers["content-type"].startswith("text/html")
    with rt.uow() as uow:
        denied = uow.session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert [d.action for d in denied] == ["privacy.list_users"]


def test_privacy_officer_reads_the_daily_report(rt: Runtime, client: TestClient) -> None:
    sign_in(client, rt, enrol(rt, "officer", (("privacy_officer", "privacy"),)))
    r = client.get("/privacy/audit/report?day=2026-11-29")
    assert r.status_code == 200 and "令和8年11月29日" in r.text
    pdf = client.get("/privacy/audit/report?day=2026-11-29&format=pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_denied_user_actions_raise_permission_denied(rt: Runtime) -> None:
    with pytest.raises(PermissionDenied):
        services.list_users(rt.uow(), Actor(user_id=None, login_name="x", terminal="t"))
