"""Access tables for the registry's read side: counter clerks and supervisors in 住基事務
may read; every other role and affair is refused and the refusal is logged (controls.md
AUTHZ-01)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text

from machi.bootstrap import Runtime
from machi.privacy import services
from machi.privacy.actor import Actor
from machi.registry import queries
from registry.test_queries import Registry
from support import assert_access

READERS = {("counter_clerk", "juki"), ("registry_supervisor", "juki")}


@dataclass(frozen=True)
class Setup:
    resident_id: uuid.UUID
    household_id: uuid.UUID


@pytest.fixture
def setup(rt: Runtime) -> Setup:
    services.load_roles(rt.uow(), Actor.operator())
    b = Registry(rt)
    household_id = b.household()
    resident_id = b.person(
        "架空 一郎",
        "カクウ イチロウ",
        birth_date=date(1980, 5, 5),
        sex=1,
        address_id=b.address("架空町", "1丁目2番3号"),
        household_id=household_id,
    )
    return Setup(resident_id, household_id)


def test_resident_record(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt,
        "registry.resident_record",
        lambda actor, _i: queries.resident_record(rt.uow(), actor, setup.resident_id),
        READERS,
    )


def test_resident_history(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt,
        "registry.resident_history",
        lambda actor, _i: queries.resident_history(rt.uow(), actor, setup.resident_id),
        READERS,
    )


def test_household(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt,
        "registry.household",
        lambda actor, _i: queries.household(rt.uow(), actor, setup.household_id),
        READERS,
    )


def test_search_residents(rt: Runtime, setup: Setup) -> None:
    criteria = queries.SearchCriteria(name_kana="カクウ", birth_year=1980)
    assert_access(
        rt,
        "registry.search_residents",
        lambda actor, _i: queries.search_residents(rt.uow(), actor, criteria),
        READERS,
    )


def test_town_areas(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt, "registry.town_areas", lambda actor, _i: queries.town_areas(rt.uow(), actor), READERS
    )


def test_find_address(rt: Runtime, setup: Setup) -> None:
    with rt.uow() as uow:
        code = uow.session.execute(text("SELECT code FROM registry.town_area LIMIT 1")).scalar()
    assert_access(
        rt,
        "registry.find_address",
        lambda actor, _i: queries.find_address(rt.uow(), actor, code, "1丁目2番3号"),
        READERS,
    )


def test_pending_approvals(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt,
        "registry.pending_approvals",
        lambda actor, _i: queries.pending_approvals(rt.uow(), actor),
        {("registry_supervisor", "juki")},
    )


def test_registry_loaded(rt: Runtime, setup: Setup) -> None:
    assert_access(
        rt,
        "registry.registry_loaded",
        lambda actor, _i: queries.registry_loaded(rt.uow(), actor),
        {("registry_supervisor", "juki"), ("registry_supervisor", "admin")},
    )
    assert queries.registry_loaded(rt.uow(), Actor.operator()) is True
