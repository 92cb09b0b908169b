"""Browser acceptance of the registry issue: a new user records a 転入, finds the person by
partial kana, records a 転居, issues a 住民票の写し; the PDF's text shows the right name,
address and 和暦 dates, and its verification code checks out."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("ログインID").fill(server.login_name)
    page.get_by_label("パスワード").fill(server.password)
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("確認コード").fill(server.totp.now())
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{server.url}/")


def pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        return subprocess.run(
            ["pdftotext", "-layout", f.name, "-"], capture_output=True, text=True, check=True
        ).stdout


def test_move_in_search_move_within_and_certificate(live_server: LiveServer, page: Any) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="転入届").click()
    page.get_by_label("氏名", exact=True).fill("試験 花子")
    page.get_by_label("氏名カナ (全角カタカナ)").fill("シケン ハナコ")
    page.get_by_label("生年月日").fill("1990-07-15")
    page.get_by_label("性別").select_option("2")
    page.get_by_label("本籍").fill("架空県架空市本町1番地")
    page.get_by_label("筆頭者").fill("試験 花子")
    page.get_by_label("町字").select_option(label="架空町")
    page.get_by_label("番地 (例: 12番5号、3丁目4番地)").fill("2番地")
    page.get_by_label("異動日 (転入した日)").fill("2026-11-01")
    page.get_by_label("転入前の住所").fill("架空県見本市中町3番地")
    page.get_by_label("転出証明書を受け取った").check()
    page.get_by_label("個人番号カード").check()
    page.get_by_role("button", name="転入を記録").click()
    page.wait_for_url(re.compile(r"/registry/residents/[0-9a-f-]+\?done=1"))
    assert page.get_by_test_id("name").inner_text() == "試験 花子"

    # Found by part of the kana, typed in hiragana, with the birth year.
    page.get_by_role("link", name="住民検索").click()
    page.get_by_label("氏名カナ").fill("しけん")
    page.get_by_label("生年月日 (YYYY-MM-DD または 西暦年)").fill("1990")
    page.get_by_role("button", name="検索").click()
    page.get_by_role("link", name="試験 花子").click()
    page.wait_for_url(re.compile(r"/registry/residents/[0-9a-f-]+$"))
    assert page.get_by_test_id("individual-number").inner_text() in ("未登録", "＊" * 12)

    # 転居 within the town.
    form = page.locator("form[action$='/move-within']")
    form.get_by_label("町字").select_option(label="見本町")
    form.get_by_label("番地 (例: 12番5号、3丁目4番地)").fill("4番地")
    form.get_by_label("異動日").fill("2026-11-20")
    form.get_by_label("個人番号カード").check()
    form.get_by_role("button", name="転居を記録 (世帯全員)").click()
    page.wait_for_url(re.compile(r"\?done=1"))
    assert "見本町4番地" in page.get_by_test_id("address").inner_text()

    # 住民票の写し: the PDF comes back from the form post as a download.
    certificate_form = page.locator("form[action$='/certificates']")
    certificate_form.get_by_label("運転免許証").check()
    with page.expect_download() as info:
        certificate_form.get_by_role("button", name="交付 (PDF)").click()
    download = info.value
    pdf = Path(download.path()).read_bytes()
    assert pdf[:5] == b"%PDF-"
    text = pdf_text(pdf)
    flat = re.sub(r"\s+", "", text)
    assert "試験花子" in flat
    assert "見本町4番地" in flat
    assert "平成2年7月15日" in flat  # 1990-07-15
    assert "令和8年11月1日" in flat  # 住民となった年月日
    assert "令和8年11月20日" in flat  # 住所を定めた年月日 (the 転居)
    found = re.search(r"certificate-(.+)\.pdf", download.suggested_filename)
    assert found is not None
    issuance_no = found.group(1)
    assert issuance_no in flat
    # Letter-spaced in print, so read it from the text with white space removed.
    code = re.search(r"照合番号([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", flat)
    assert code is not None

    page.goto(f"{live_server.url}/certificates/verify?no={issuance_no}&code={code.group(1)}")
    assert "発行したものです" in page.get_by_test_id("verify-result").inner_text()
    page.goto(f"{live_server.url}/certificates/verify?no={issuance_no}&code=0000-0000-0000-0000")
    assert "ありません" in page.get_by_test_id("verify-result").inner_text()
