"""No staff role may load or clear the synthetic town: only an operator at the server
(Actor.operator) holds synth.load_town. Every staff attempt is refused and logged."""

from __future__ import annotations

from datetime import date

from machi.bootstrap import Runtime
from machi.privacy import services as privacy
from machi.privacy.actor import Actor
from machi.synth import services
from support import assert_access

NOBODY: set[tuple[str, str]] = set()


def test_synth_actions_are_refused_to_every_staff_role(rt: Runtime) -> None:
    privacy.load_roles(rt.uow(), Actor.operator())
    assert_access(rt, "synth.town_loaded", lambda a, _i: services.town_loaded(rt.uow(), a), NOBODY)
    assert_access(rt, "synth.clear_town", lambda a, _i: services.clear_town(rt.uow(), a), NOBODY)
    assert_access(
        rt,
        "synth.load_town",
        lambda a, _i: services.load_town(
            rt.uow(),
            a,
            residents=10,
            seed=1,
            municipality_name="架空市",
            local_government_code="999997",
            as_of=date(2026, 11, 30),
        ),
        NOBODY,
    )


def test_operator_may(rt: Runtime) -> None:
    assert services.town_loaded(rt.uow(), Actor.operator()) is False
