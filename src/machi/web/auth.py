"""Staff login (password, then TOTP), idle lock screen, logout, and the home page.

The session cookie holds a random token; the server keeps only its hash. Every request
to a staff page resumes the session, which also applies the idle lock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import services as privacy
from machi.web.deps import COOKIE, Staff, render, runtime, terminal_of

router = APIRouter(include_in_schema=False)


def _set_cookie(response: Response, rt: Runtime, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=rt.settings.secure_cookies,
        path="/",
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "web/login.html")


@router.post("/login", response_model=None)
def login(
    request: Request,
    login_name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    rt = runtime(request)
    try:
        token = privacy.login_password(
            rt.uow(),
            login_name=login_name.strip(),
            password=password,
            terminal=terminal_of(request),
            max_failed=rt.settings.max_failed_logins,
        )
    except DomainError as e:
        return render(
            request, "web/login.html", e.http_status, error=e.message, login_name=login_name
        )
    response = RedirectResponse("/login/totp", status_code=303)
    _set_cookie(response, rt, token)
    return response


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request) -> HTMLResponse:
    return render(request, "web/totp.html")


@router.post("/login/totp", response_model=None)
def totp(request: Request, code: Annotated[str, Form(max_length=10)] = "") -> Response:
    rt = runtime(request)
    token = request.cookies.get(COOKIE, "")
    try:
        privacy.login_totp(
            rt.uow(),
            rt.keys,
            token=token,
            code=code,
            max_failed=rt.settings.max_failed_logins,
            max_sessions=rt.settings.max_sessions_per_user,
        )
    except DomainError as e:
        if e.http_status == 423 or str(e.code) == "privacy.session_invalid":
            return render(request, "web/login.html", e.http_status, error=e.message)
        return render(request, "web/totp.html", e.http_status, error=e.message)
    return RedirectResponse("/", status_code=303)


@router.get("/lock", response_class=HTMLResponse)
def lock_screen(request: Request) -> HTMLResponse:
    return render(request, "web/lock.html")


@router.post("/lock", response_model=None)
def unlock(request: Request, password: Annotated[str, Form(max_length=256)] = "") -> Response:
    rt = runtime(request)
    token = request.cookies.get(COOKIE, "")
    try:
        privacy.unlock_screen(
            rt.uow(), token=token, password=password, max_failed=rt.settings.max_failed_logins
        )
    except DomainError as e:
        if e.http_status == 423 or str(e.code) == "privacy.session_invalid":
            return render(request, "web/login.html", e.http_status, error=e.message)
        return render(request, "web/lock.html", e.http_status, error=e.message)
    return RedirectResponse("/", status_code=303)


@router.post("/logout", response_model=None)
def logout(request: Request) -> Response:
    rt = runtime(request)
    token = request.cookies.get(COOKIE)
    if token:
        privacy.logout(rt.uow(), token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Staff) -> HTMLResponse:
    return render(request, "web/home.html", who=who)


@router.post("/affair", response_model=None)
def switch_affair(
    request: Request, who: Staff, affair: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    """業務選択: work in another affair the user holds a role in."""
    rt = runtime(request)
    privacy.switch_affair(rt.uow(), token=request.cookies.get(COOKIE, ""), affair=affair)
    return RedirectResponse("/", status_code=303)
