"""Web shell: login pages, home, /health, OpenAPI, problem details (issue: Foundation,
item 4)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from support import Enrolled


def _sign_in(client: TestClient, rt: Runtime, who: Enrolled) -> None:
    r = client.post(
        "/login",
        data={"login_name": who.login_name, "password": who.password},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/login/totp"
    r = client.post(
        "/login/totp", data={"code": who.totp.at(rt.clock.now())}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_health_reports_the_database(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "Machi API"
    assert client.get("/docs").status_code == 200


def test_home_needs_a_session(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_login_page_is_japanese(client: TestClient) -> None:
    r = client.get("/login")
    assert r.status_code == 200
    assert '<html lang="ja">' in r.text and "ログインID" in r.text and "パスワード" in r.text


def test_full_login_reaches_home(client: TestClient, rt: Runtime, clerk: Enrolled) -> None:
    _sign_in(client, rt, clerk)
    r = client.get("/")
    assert r.status_code == 200 and "窓口 花子 さん" in r.text
    assert "窓口職員</span>（住民基本台帳事務）" in r.text
    cookie = client.cookies.get("machi_session")
    assert cookie and len(cookie) >= 40


def test_wrong_password_shows_generic_message(client: TestClient, clerk: Enrolled) -> None:
    r = client.post("/login", data={"login_name": clerk.login_name, "password": "nope 123456789"})
    assert r.status_code == 401
    assert "ログインIDまたはパスワードが正しくありません。" in r.text
    assert "nope 123456789" not in r.text


def test_sixth_attempt_shows_locked(client: TestClient, clerk: Enrolled) -> None:
    for _ in range(5):
        client.post("/login", data={"login_name": clerk.login_name, "password": "bad pass 12345"})
    r = client.post("/login", data={"login_name": clerk.login_name, "password": clerk.password})
    assert r.status_code == 423 and "ロックされています" in r.text


def test_idle_session_goes_to_lock_screen(client: TestClient, rt: Runtime, clerk: Enrolled) -> None:
    _sign_in(client, rt, clerk)
    rt.clock.advance(timedelta(minutes=rt.settings.idle_lock_minutes))  # type: ignore[attr-defined]
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/lock"
    r = client.post("/lock", data={"password": clerk.password}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/").status_code == 200


def test_logout_then_home_redirects(client: TestClient, rt: Runtime, clerk: Enrolled) -> None:
    _sign_in(client, rt, clerk)
    client.post("/logout")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_cross_site_post_is_refused(client: TestClient, clerk: Enrolled) -> None:
    r = client.post(
        "/login",
        data={"login_name": clerk.login_name, "password": clerk.password},
        headers={"origin": "http://evil.example"},
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_unknown_path_is_a_problem_document(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "core.not_found" and body["status"] == 404
    assert r.headers["content-type"].startswith("application/problem+json")
