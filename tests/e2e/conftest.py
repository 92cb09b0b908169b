"""Browser tests: a real uvicorn server on 127.0.0.1 over a real committed database, and
Debian's Chromium driven by Playwright. Without /usr/bin/chromium they skip loudly
(`make test` installs it when run as root)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import uvicorn

from machi import bootstrap
from machi.bootstrap import Runtime
from machi.core.settings import Settings
from machi.privacy import services
from machi.privacy.actor import Actor
from machi.web.app import create_app
from support import LiveServer, clone_database, drop_database, enrol

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    name = f"machi_e2e_{uuid.uuid4().hex[:10]}"
    url = clone_database(name)
    settings = Settings(var_dir=tmp_path_factory.mktemp("e2e-var"), demo=True, _env_file=None)  # type: ignore[call-arg]
    rt = bootstrap.build(settings, url)
    services.load_roles(rt.uow(), Actor.operator())
    password = "browser test 2026"
    created = services.create_user(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        services.NewUser("e2e_clerk", "窓口 試験", password, (("counter_clerk", "juki"),)),
    )
    _address_master(rt)
    handler = enrol(
        rt,
        "e2e_handler",
        (("counter_clerk", "juki"), ("number_handler", "juki")),
        display_name="番号 取扱",
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield LiveServer(
        f"http://127.0.0.1:{port}",
        "e2e_clerk",
        password,
        pyotp.TOTP(created.totp_secret),
        rt=rt,
        handler=handler,
    )
    server.should_exit = True
    thread.join(timeout=10)
    rt.engine.dispose()
    drop_database(name)


def _address_master(rt: Runtime) -> None:
    """A fictitious 町字 with a few lots, as the address master would hold them."""
    from machi.registry.models import Address, TownArea

    with rt.uow() as uow:
        for code, name, kana in (
            ("000101", "架空町", "カクウチョウ"),
            ("000102", "見本町", "ミホンチョウ"),
        ):
            area = TownArea(
                code=code,
                name=name,
                name_kana=kana,
                postal_code="9990001",
                address_style="lot_number",
            )
            uow.session.add(area)
            uow.session.flush()
            uow.session.add_all(
                Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in range(1, 6)
            )
        uow.commit()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        msg = (
            "\n*** BROWSER TESTS SKIPPED: /usr/bin/chromium is missing. "
            "Install Debian's 'chromium' package (make test does so as root). ***"
        )
        print(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, tmp_path: Path) -> Iterator[object]:
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()
