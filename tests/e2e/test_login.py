"""Browser: log in with password and TOTP, see the home page (issue: Foundation, item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_login_with_totp_reaches_home(live_server: LiveServer, page: Any, tmp_path: Path) -> None:
    page.goto(f"{live_server.url}/login")
    assert page.locator("h1").inner_text() == "ログイン"
    assert "デモ環境です" in page.locator(".demo-banner").inner_text()
    page.get_by_label("ログインID").fill(live_server.login_name)
    page.get_by_label("パスワード").fill(live_server.password)
    page.get_by_role("button", name="次へ").click()
    page.wait_for_url(f"{live_server.url}/login/totp")
    page.get_by_label("確認コード").fill(live_server.totp.now())
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "窓口 試験 さん、ようこそ。" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "home.png"))


def test_wrong_password_shows_the_generic_error(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/login")
    page.get_by_label("ログインID").fill(live_server.login_name)
    page.get_by_label("パスワード").fill("definitely wrong 1")
    page.get_by_role("button", name="次へ").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "ログインIDまたはパスワードが正しくありません。"
