"""What routes share: the runtime, the terminal, templates, and who is acting.

Staff pages use :data:`Staff` (a redirect to the login page when there is no usable
session); API routes use :data:`ApiActor` (a 401 problem instead). Every route that reaches
a service names the action it performs with :func:`declares`, so tests/architecture can
match routes to actions and their access tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from machi.bootstrap import Runtime
from machi.core.errors import DomainError
from machi.privacy import services as privacy
from machi.privacy.actor import Actor
from machi.privacy.errors import MESSAGES, PrivacyError
from machi.privacy.permissions import AFFAIR_NAMES
from machi.privacy.services import SessionView

COOKIE = "machi_session"
PACKAGE = Path(__file__).resolve().parent.parent
# Each context keeps its templates in <context>/templates/<context>/.
templates = Jinja2Templates(directory=sorted(PACKAGE.glob("*/templates")))

# Routes anyone may reach: logging in and out, and the health check.
OPEN = frozenset({"/login", "/login/totp", "/lock", "/logout", "/health", "/certificates/verify"})
# Routes that only need a signed-in session and show no personal data.
SESSION_ONLY = frozenset({"/", "/affair"})


class Problem(BaseModel):
    """RFC 9457 problem details, as every error leaves the API."""

    type: str
    title: str
    status: int
    code: str
    instance: str
    field: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an API router can give."""
    described = {
        401: "ログインしていない、またはセッションが無効",
        403: "権限がない (記録される)",
        404: "対象が見つからない",
        409: "他の操作と競合した",
        422: "入力内容または業務ルールに誤りがある",
    }
    return {
        s: {
            "model": Problem,
            "description": described[s],
            "content": {"application/problem+json": {}},
        }
        for s in statuses
    }


# What every authenticated API route may answer besides success.
API_PROBLEMS = problem_responses(401, 403, 404, 422)


# Free text from forms, queries and JSON: no control characters. PostgreSQL refuses NUL
# in text, and nobody types the others; refusing them at the edge gives a clear 422.
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def declares(action: str) -> dict[str, Any]:
    """``openapi_extra`` naming the declared action a route performs."""
    return {"x-machi-action": action}


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
        "affair_names": {a.value: name for a, name in AFFAIR_NAMES.items()},
    }
    # Pages reached through the staff dependency show the menu for who is signed in.
    view = getattr(request.state, "session_view", None)
    if view is not None and "who" not in ctx:
        ctx["who"] = view
    return templates.TemplateResponse(request, name, ctx, status_code=status)


class LoginRequired(Exception):
    """Raised by the staff-page dependency; answered with a redirect."""

    def __init__(self, to: str) -> None:
        self.to = to


def _resume(request: Request) -> SessionView | None:
    rt = runtime(request)
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return privacy.resume(
            rt.uow(), token=token, idle=timedelta(minutes=rt.settings.idle_lock_minutes)
        )
    except DomainError:
        return None


def staff(request: Request) -> SessionView:
    """Dependency for staff pages: an active, unlocked session or a redirect."""
    view = _resume(request)
    if view is None:
        raise LoginRequired("/login")
    if view.stage == "password":
        raise LoginRequired("/login/totp")
    if view.stage == "locked":
        raise LoginRequired("/lock")
    request.state.session_view = view
    return view


def api_actor(
    request: Request,
    purpose: Annotated[str | None, Header(alias="X-Machi-Purpose", max_length=100)] = None,
) -> Actor:
    """Dependency for API routes: the acting staff member, or 401 (no redirect)."""
    view = _resume(request)
    if view is None or view.stage != "active":
        raise DomainError(
            PrivacyError.SESSION_INVALID, MESSAGES[PrivacyError.SESSION_INVALID], status=401
        )
    return view.actor(terminal_of(request), purpose=purpose)


def staff_actor(request: Request, who: Annotated[SessionView, Depends(staff)]) -> Actor:
    return who.actor(terminal_of(request))


Staff = Annotated[SessionView, Depends(staff)]
StaffActor = Annotated[Actor, Depends(staff_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]
