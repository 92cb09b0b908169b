from __future__ import annotations

import pytest

from machi.bootstrap import Runtime
from support import Enrolled, enrol


@pytest.fixture
def clerk(rt: Runtime) -> Enrolled:
    return enrol(
        rt,
        "clerk2",
        (("counter_clerk", "juki"),),
        display_name="窓口 花子",
        password="counter staff 2026",
    )
