"""住民基本台帳人口 (REG-CTRL-34: statistics never identify a person). A small fictitious
town whose counts are worked out by hand from who lives where, born when, and who died,
so every expected cell below comes from the story, not from the code."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from fastapi.testclient import TestClient

from machi.bootstrap import Runtime
from machi.privacy.actor import Actor
from machi.privacy.services import load_roles
from machi.registry import queries, services
from machi.registry.models import TownArea
from machi.registry.queries import AgeBandCount, PopulationStatistics, TownCount
from machi.registry.services import Death
from registry.test_services import (  # noqa: F401  (lots is a fixture)
    CLERK,
    SUPERVISOR,
    TODAY,
    audits,
    foreigner,
    lots,
    move_in_cmd,
    person,
)
from support import assert_access, enrol, sign_in

STATISTICIAN = dataclasses.replace(
    SUPERVISOR,
    login_name="statistician",
    grants=frozenset({("statistician", "juki")}),
    permissions=frozenset({services.Permission.REGISTRY_STATISTICS}),
)


@pytest.fixture
def streets(lots: list[int]) -> list[int]:  # noqa: F811  (the shared fixture)
    return lots


def _town(rt: Runtime, lot_ids: list[int]) -> None:
    """Moved in on 2026-11-20 (架空町, 000101):
    - 世帯1: 太郎 (男, 1980-04-01), 花子 (女, 1982-06-01), 娘 (女, 2021-11-30),
      息子 (男, 2021-12-01);
    - 世帯2: a foreign resident (男, 1990-05-05);
    - 世帯3: 一郎 (男, 1926-12-25), who dies on 2026-11-28, and 百合 (女, 1926-11-29).
    空地町 (000102) is in the address master with nobody living there."""
    with rt.uow() as uow:
        uow.session.add(
            TownArea(
                code="000102",
                name="空地町",
                name_kana="アキチチョウ",
                postal_code="9990002",
                address_style="lot_number",
            )
        )
        uow.commit()
    family = (
        person(),
        person("架空 花子", "wife", name_kana="カクウ ハナコ", sex=2, birth_date=date(1982, 6, 1)),
        person("架空 娘", "child", name_kana="カクウ ムスメ", sex=2, birth_date=date(2021, 11, 30)),
        person(
            "架空 息子", "child", name_kana="カクウ ムスコ", sex=1, birth_date=date(2021, 12, 1)
        ),
    )
    services.move_in(rt.uow(), CLERK, move_in_cmd(lot_ids, *family))
    services.move_in(rt.uow(), CLERK, move_in_cmd(lot_ids, foreigner(), address_id=lot_ids[1]))
    elders = (
        person("架空 一郎", name_kana="カクウ イチロウ", birth_date=date(1926, 12, 25)),
        person("架空 百合", "wife", name_kana="カクウ ユリ", sex=2, birth_date=date(1926, 11, 29)),
    )
    ichiro, _ = services.move_in(
        rt.uow(), CLERK, move_in_cmd(lot_ids, *elders, address_id=lot_ids[2])
    ).resident_ids
    services.death(rt.uow(), CLERK, Death(ichiro, date(2026, 11, 28), TODAY))


def _bands(stats: PopulationStatistics) -> dict[int, tuple[int, int]]:
    return {b.lowest_age: (b.male, b.female) for b in stats.age_bands if b.male or b.female}


def test_counts_by_town_sex_and_age_band_as_of_today(rt: Runtime, streets: list[int]) -> None:
    _town(rt, streets)
    stats = queries.population_statistics(rt.uow(), STATISTICIAN)
    assert stats.as_of == TODAY
    # Households 1, 2 and 3 (百合 stays); men 太郎, 息子, the foreign resident; women 花子,
    # 娘, 百合. 一郎 died on the 28th and is a 除票.
    assert stats.towns == (
        TownCount("000101", "架空町", 3, 3, 3, 1, 0),
        TownCount("000102", "空地町", 0, 0, 0, 0, 0),
    )
    assert (stats.total.households, stats.total.total) == (3, 6)
    # Ages on 2026-11-30: 息子 4 (his birthday is tomorrow), 娘 5 (today), the foreign
    # resident 36, 花子 44, 太郎 46, 百合 100 (yesterday).
    assert _bands(stats) == {
        0: (1, 0),
        5: (0, 1),
        35: (1, 0),
        40: (0, 1),
        45: (1, 0),
        100: (0, 1),
    }
    assert [b.label for b in stats.age_bands][:2] == ["0〜4歳", "5〜9歳"]
    assert stats.age_bands[-1].label == "100歳以上" and len(stats.age_bands) == 21


def test_a_past_date_counts_who_lived_there_then(rt: Runtime, streets: list[int]) -> None:
    _town(rt, streets)
    before_death = queries.population_statistics(rt.uow(), STATISTICIAN, as_of=date(2026, 11, 25))
    # 一郎 still alive (99, band 95); 娘 still 4 (band 0); 百合 99 until her birthday on
    # the 29th (band 95).
    assert before_death.towns[0] == TownCount("000101", "架空町", 3, 4, 3, 1, 0)
    assert _bands(before_death) == {
        0: (1, 1),
        35: (1, 0),
        40: (0, 1),
        45: (1, 0),
        95: (1, 1),
    }
    before_anyone = queries.population_statistics(rt.uow(), STATISTICIAN, as_of=date(2026, 11, 19))
    assert before_anyone.total == TownCount("", "計", 0, 0, 0, 0, 0)
    assert _bands(before_anyone) == {}


def test_only_counts_leave_the_query_and_the_audit_row_names_no_one(
    rt: Runtime, streets: list[int]
) -> None:
    _town(rt, streets)
    stats = queries.population_statistics(rt.uow(), STATISTICIAN, as_of=date(2026, 11, 30))
    for t in (*stats.towns, stats.total):
        counts = [getattr(t, f.name) for f in dataclasses.fields(t)][2:]
        assert all(isinstance(c, int) for c in counts)
    for b in stats.age_bands:
        assert all(isinstance(getattr(b, f.name), int) for f in dataclasses.fields(AgeBandCount))
    (entry,) = audits(rt, "registry.population_statistics")
    assert entry.subject_ids == []
    assert entry.detail == {"as_of": "2026-11-30", "as_of_given": 1}


def test_population_statistics_access(rt: Runtime, streets: list[int]) -> None:
    load_roles(rt.uow(), Actor.operator())
    assert_access(
        rt,
        "registry.population_statistics",
        lambda actor, _i: queries.population_statistics(rt.uow(), actor),
        {("registry_supervisor", "juki"), ("statistician", "juki")},
    )


def test_the_statistics_page_for_a_statistician_who_cannot_search(
    client: TestClient, rt: Runtime, streets: list[int]
) -> None:
    _town(rt, streets)
    sign_in(client, rt, enrol(rt, "stat1", (("statistician", "juki"),)))
    page = client.get("/registry/statistics", params={"as_of": "2026-11-30"})
    assert page.status_code == 200
    assert "令和8年11月30日現在" in page.text and "100歳以上" in page.text
    assert "架空 太郎" not in page.text and "架空町" in page.text
    search = {"name_kana": "カクウ", "birth_date": "1980-04-01"}
    assert client.get("/registry/search", params=search).status_code == 403
    bad = client.get("/registry/statistics", params={"as_of": "2026-13-01"})
    assert bad.status_code == 422
