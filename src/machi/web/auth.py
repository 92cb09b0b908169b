"""Staff login (password, then TOTP), idle lock screen, logout, and the home page.

The session cookie holds a random token; the server keeps only its hash. Every request
to a staff page resumes the session, which also applies the idle lock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import services as privacy
from machi.privacy.services import SessionView

COOKIE = "machi_session"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
router = APIRouter(include_in_schema=False)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def terminal_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    rt = runtime(request)
    ctx |= {
        "settings": rt.settings,
        "demo": rt.settings.demo,
        "idle_minutes": rt.settings.idle_lock_minutes,
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def _set_cookie(response: Response, rt: Runtime, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=rt.settings.secure_cookies,
        path="/",
    )


class LoginRequired(Exception):
    """Raised by the staff-page dependency; answered with a redirect."""

    def __init__(self, to: str) -> None:
        self.to = to


def staff(request: Request) -> SessionView:
    """Dependency for staff pages: an active, unlocked session or a redirect."""
    rt = runtime(request)
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired("/login")
    try:
        view = privacy.resume(
            rt.uow(), token=token, idle=timedelta(minutes=rt.settings.idle_lock_minutes)
        )
    except DomainError:
        raise LoginRequired("/login") from None
    if view.stage == "password":
        raise LoginRequired("/login/totp")
    if view.stage == "locked":
        raise LoginRequired("/lock")
    return view


Staff = Annotated[SessionView, Depends(staff)]


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
            rt.uow(), rt.keys, token=token, code=code, max_failed=rt.settings.max_failed_logins
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
