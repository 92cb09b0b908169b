from __future__ import annotations

import pyotp
import pytest

from machi.bootstrap import Runtime
from machi.privacy import services
from machi.privacy.actor import Actor
from support import Enrolled

PASSWORD = "correct horse 42 battery"


@pytest.fixture
def clerk(rt: Runtime) -> Enrolled:
    services.load_roles(rt.uow(), Actor.operator())
    created = services.create_user(
        rt.uow(),
        Actor.operator(),
        rt.keys,
        services.NewUser("clerk1", "窓口 一郎", PASSWORD, (("counter_clerk", "juki"),)),
    )
    return Enrolled("clerk1", PASSWORD, pyotp.TOTP(created.totp_secret))
