from __future__ import annotations

import pytest

from machi.bootstrap import Runtime
from support import Enrolled, enrol


@pytest.fixture
def clerk(rt: Runtime) -> Enrolled:
    return enrol(
        rt,
        "clerk1",
        (("counter_clerk", "juki"),),
        display_name="窓口 一郎",
        password="correct horse 42 battery",
    )
