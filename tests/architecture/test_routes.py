"""Every route is open (login, health), session-only without personal data, or names the
declared action it performs; every such action has an access test; and every non-open
route refuses a caller without a session (issue: Privacy core, item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from machi.web.app import create_app
from machi.web.deps import OPEN, SESSION_ONLY

TESTS = Path(__file__).resolve().parent.parent
SCHEMA_AND_DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _flatten(routes: list[Any]) -> list[Any]:
    # FastAPI keeps included routers as lazy wrappers; their own routes carry full paths
    # because Machi sets prefixes on the routers, never in include_router.
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out += _flatten(inner.routes) if inner is not None else [r]
    return out


def _routes(rt: Runtime) -> list[APIRoute]:
    return [r for r in _flatten(create_app(rt).routes) if isinstance(r, APIRoute)]


def test_every_route_is_open_session_only_or_declares_an_action(rt: Runtime) -> None:
    tests_text = "\n".join(p.read_text("utf-8") for p in TESTS.rglob("test_*.py"))
    problems = []
    for route in _routes(rt):
        if route.path in OPEN | SESSION_ONLY | SCHEMA_AND_DOCS:
            continue
        action = (route.openapi_extra or {}).get("x-machi-action")
        if not action:
            problems.append(f"{route.path}: no declared action")
        elif f'"{action}"' not in tests_text:
            problems.append(f"{route.path}: no access test for {action}")
    assert problems == []


def test_every_non_open_route_refuses_without_a_session(rt: Runtime) -> None:
    client = TestClient(create_app(rt))
    checked = 0
    for route in _routes(rt):
        if route.path in OPEN | SCHEMA_AND_DOCS:
            continue
        path = route.path.replace("{subject_id}", "00000000-0000-0000-0000-000000000000")
        for method in route.methods:
            r = client.request(method, path, follow_redirects=False)
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.json()["code"] == "privacy.session_invalid"
            else:
                assert r.status_code == 303 and r.headers["location"] == "/login", (method, path)
            checked += 1
    assert checked >= 3
