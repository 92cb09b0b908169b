"""Staff pages of the privacy context: the 個人番号 unmask step."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from machi.core.errors import DomainError
from machi.privacy import queries, services, vault
from machi.privacy.actor import Actor
from machi.privacy.permissions import AFFAIR_NAMES, Affair, Permission
from machi.web.deps import StaffActor, declares, render, runtime

router = APIRouter(include_in_schema=False)
SHOW_SECONDS = 60


@router.post(
    "/privacy/individual-numbers/{subject_id}/unmask",
    response_class=HTMLResponse,
    openapi_extra=declares(vault.ACTION_VIEW),
)
def unmask(
    request: Request,
    subject_id: uuid.UUID,
    actor: StaffActor,
    reason: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    rt = runtime(request)
    try:
        number = vault.display_number(
            rt.uow(), actor, rt.keys, subject_id, reason=reason, note=note
        )
    except DomainError as e:
        return render(request, "privacy/number_shown.html", e.http_status, error=e.message)
    return render(
        request,
        "privacy/number_shown.html",
        number=number,
        mask=vault.MASK,
        seconds=SHOW_SECONDS,
    )


# -- administration: staff accounts and the access-rights matrix -------------------------


def _users_page(request: Request, actor: Actor, status: int = 200, **ctx: Any) -> HTMLResponse:
    rt = runtime(request)
    users = services.list_users(rt.uow(), actor)
    return render(
        request,
        "privacy/users.html",
        status,
        users=users,
        affairs=[(a.value, AFFAIR_NAMES[a]) for a in Affair],
        **ctx,
    )


def _after(
    request: Request, actor: Actor, change: Callable[[], object], notice: str
) -> HTMLResponse:
    """Run one admin change and show the user list again, with its outcome."""
    try:
        change()
    except DomainError as e:
        return _users_page(request, actor, e.http_status, error=e.message)
    return _users_page(request, actor, notice=notice)


@router.get(
    "/admin/users", response_class=HTMLResponse, openapi_extra=declares("privacy.list_users")
)
def users_page(request: Request, actor: StaffActor) -> HTMLResponse:
    return _users_page(request, actor)


@router.post(
    "/admin/users", response_class=HTMLResponse, openapi_extra=declares("privacy.create_user")
)
def create_user(
    request: Request,
    actor: StaffActor,
    login_name: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")],
    display_name: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(max_length=256)],
    role_code: Annotated[str, Form(max_length=64)],
    affair: Annotated[str, Form(max_length=32)],
) -> HTMLResponse:
    rt = runtime(request)
    try:
        created = services.create_user(
            rt.uow(),
            actor,
            rt.keys,
            services.NewUser(login_name, display_name, password, ((role_code, affair),)),
        )
    except DomainError as e:
        return _users_page(request, actor, e.http_status, error=e.message)
    # The TOTP secret is shown this once, to be entered into the new user's authenticator.
    return _users_page(
        request, actor, notice=f"{login_name} を作成しました。", totp_secret=created.totp_secret
    )


@router.post(
    "/admin/users/{login_name}/grants",
    response_class=HTMLResponse,
    openapi_extra=declares("privacy.grant_role"),
)
def grant(
    request: Request,
    login_name: str,
    actor: StaffActor,
    role_code: Annotated[str, Form(max_length=64)],
    affair: Annotated[str, Form(max_length=32)],
) -> HTMLResponse:
    rt = runtime(request)
    return _after(
        request,
        actor,
        lambda: services.grant_role(rt.uow(), actor, login_name, role_code, affair),
        f"{login_name} に権限を付与しました。",
    )


@router.post(
    "/admin/users/{login_name}/grants/revoke",
    response_class=HTMLResponse,
    openapi_extra=declares("privacy.revoke_role"),
)
def revoke(
    request: Request,
    login_name: str,
    actor: StaffActor,
    role_code: Annotated[str, Form(max_length=64)],
    affair: Annotated[str, Form(max_length=32)],
) -> HTMLResponse:
    rt = runtime(request)
    return _after(
        request,
        actor,
        lambda: services.revoke_role(rt.uow(), actor, login_name, role_code, affair),
        f"{login_name} の権限を取り消しました。",
    )


@router.post(
    "/admin/users/{login_name}/unlock",
    response_class=HTMLResponse,
    openapi_extra=declares("privacy.unlock_user"),
)
def unlock(request: Request, login_name: str, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    return _after(
        request,
        actor,
        lambda: services.unlock_user(rt.uow(), actor, login_name),
        f"{login_name} のロックを解除しました。",
    )


@router.get(
    "/admin/roles", response_class=HTMLResponse, openapi_extra=declares("privacy.list_roles")
)
def roles_page(request: Request, actor: StaffActor) -> HTMLResponse:
    rt = runtime(request)
    try:
        roles = services.list_roles(rt.uow(), actor)
    except DomainError as e:
        return render(request, "web/error.html", e.http_status, error=e.message)
    permissions = sorted(p.value for p in Permission)
    return render(request, "privacy/roles.html", roles=roles, permissions=permissions)


# -- the daily review of the audit log (controls.md LOG-08) --------------------------------


@router.get(
    "/privacy/audit/report",
    response_model=None,
    openapi_extra=declares("privacy.audit_report"),
)
def audit_report(
    request: Request,
    actor: StaffActor,
    day: date | None = None,
    format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
) -> Response:
    """The day's review report; yesterday by default. The PDF is the copy to file."""
    rt = runtime(request)
    day = day or rt.clock.business_date() - timedelta(days=1)
    report = queries.audit_report(rt.uow(), actor, day=day)
    if format == "pdf":
        return Response(
            report.pdf(),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="audit-report-{day}.pdf"'},
        )
    # The report is a whole document of its own (the same one the PDF is made from).
    return HTMLResponse(report.html(fonts=()))
