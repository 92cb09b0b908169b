from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from machi.privacy import services
from machi.privacy.actor import Actor
from machi.web.app import create_app
from support import Enrolled

PASSWORD = "counter staff 2026"


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def clerk(rt: Runtime) -> Enrolled:
    services.load_roles(rt.uow(), Actor.operator())
    created = services.create_user(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        services.NewUser("clerk2", "窓口 花子", PASSWORD, (("counter_clerk", "juki"),)),
    )
    return Enrolled("clerk2", PASSWORD, pyotp.TOTP(created.totp_secret))
