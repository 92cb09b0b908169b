"""Acceptance of the history (履歴; issue "住民基本台帳 (registry)", items 2–3): after 転入 →
転居 → 世帯主変更 → 死亡, the record as of every date in between is exactly what it was on
that date. Rows are read straight from ``registry.resident_version`` with the SQL form of
``rules.in_force`` (its docstring), not through queries.py. All data is fictitious."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from machi.bootstrap import Runtime
from machi.core.clock import JST
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.registry import queries, rules, services
from machi.registry.models import Address, ResidentVersion, TownArea
from machi.registry.rules import ApplicantKind, Identification, IdentityDocument
from machi.registry.services import Death, HouseholdHeadChange, MoveIn, MoveWithin, NewPerson

CLERK = Actor(
    user_id=uuid.UUID(int=201),
    login_name="clerk",
    terminal="T-01",
    affair="juki",
    grants=frozenset({("counter_clerk", "juki")}),
    permissions=frozenset({Permission.REGISTRY_VIEW, Permission.REGISTRY_RECORD_CHANGE}),
)

MOVED_IN = date(2026, 11, 2)
MOVED_WITHIN = date(2026, 11, 10)
HEAD_CHANGED = date(2026, 11, 18)
DIED = date(2026, 11, 25)

# The as-of selector of rules.in_force, in SQL, "as the registry says now".
AS_OF = text(
    "SELECT * FROM registry.resident_version"
    " WHERE resident_id = :resident_id AND valid_from <= :on"
    " AND (valid_to IS NULL OR valid_to > :on) AND superseded_at IS NULL"
)
HEADS_AS_OF = text(
    "SELECT household_id, count(*) FILTER (WHERE relationship = 'head') AS heads,"
    " count(*) AS members FROM registry.resident_version"
    " WHERE household_id = :household_id AND valid_from <= :on"
    " AND (valid_to IS NULL OR valid_to > :on) AND superseded_at IS NULL AND NOT removed"
    " GROUP BY household_id"
)

# The 届出人 in person with a photo card checked: what every notice below presents
# (REG-CTRL-01).
NOTIFIED = Identification(ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,))


@dataclass(frozen=True)
class State:
    """What the 住民票 said on a date: where, in which household, as what, and whether
    it was already a 除票."""

    address: int
    relationship: str
    removed: bool
    reason: str


@dataclass(frozen=True)
class Story:
    husband: uuid.UUID
    wife: uuid.UUID
    household: uuid.UUID
    lots: tuple[int, int]


def _person(name: str, relationship: str, sex: int, born: date) -> NewPerson:
    return NewPerson(
        name=name,
        name_kana="カクウ",
        birth_date=born,
        sex=sex,
        relationship=relationship,
        registered_domicile="架空県架空市本町1番地",
        family_register_head="架空 太郎",
    )


@pytest.fixture
def story(rt: Runtime) -> Story:
    """転入 (2 Nov) → 転居 (10 Nov) → 世帯主変更 (18 Nov) → 死亡 of the former head (25 Nov),
    each recorded a day or two later, the clock moving on between them."""
    rt.clock.advance(timedelta(days=-30))  # type: ignore[attr-defined]  # to 31 Oct
    with rt.uow() as uow:
        area = TownArea(
            code="000201",
            name="履歴町",
            name_kana="リレキチョウ",
            postal_code="9990201",
            address_style="lot_number",
        )
        uow.session.add(area)
        uow.session.flush()
        lots = [Address(town_area_id=area.id, lot_no=n, lot=f"{n}番地") for n in (1, 2)]
        uow.session.add_all(lots)
        uow.session.flush()
        first, second = (a.id for a in lots)
        uow.commit()

    def day(d: date) -> None:
        rt.clock.advance(d - rt.clock.business_date())  # type: ignore[attr-defined]

    day(date(2026, 11, 4))
    moved_in = services.move_in(
        rt.uow(),
        CLERK,
        MoveIn(
            persons=(
                _person("架空 太郎", "head", 1, date(1950, 1, 1)),
                _person("架空 花子", "wife", 2, date(1952, 2, 2)),
            ),
            address_id=first,
            building=None,
            effective_on=MOVED_IN,
            notified_on=date(2026, 11, 4),
            moved_in_from="架空県他市1番地",
            move_out_certificate=True,
            identification=Identification(
                ApplicantKind.SELF, (IdentityDocument.INDIVIDUAL_NUMBER_CARD,)
            ),
            moved_in_from_local_government_code="999989",
        ),
    )
    husband, wife = moved_in.resident_ids
    (household,) = moved_in.household_ids
    day(date(2026, 11, 12))
    services.move_within(
        rt.uow(),
        CLERK,
        MoveWithin(
            (husband, wife), second, None, MOVED_WITHIN, date(2026, 11, 12), identification=NOTIFIED
        ),
    )
    day(date(2026, 11, 19))
    services.household_head_change(
        rt.uow(),
        CLERK,
        HouseholdHeadChange(
            household,
            wife,
            {husband: "husband"},
            HEAD_CHANGED,
            date(2026, 11, 19),
            identification=NOTIFIED,
        ),
    )
    day(date(2026, 11, 27))
    services.death(rt.uow(), CLERK, Death(husband, DIED, notified_on=date(2026, 11, 26)))
    return Story(husband, wife, household, (first, second))


def _state(rt: Runtime, resident_id: uuid.UUID, on: date) -> State | None:
    with rt.uow() as uow:
        rows = uow.session.execute(AS_OF, {"resident_id": resident_id, "on": on}).mappings().all()
    assert len(rows) <= 1, "the exclusion constraint allows one live row per date"
    if not rows:
        return None
    r = rows[0]
    return State(r["address_id"], r["relationship"], r["removed"], r["change_reason"])


def _expected(s: Story, who: str, on: date) -> State | None:
    first, second = s.lots
    if on < MOVED_IN:
        return None
    address = first if on < MOVED_WITHIN else second
    if who == "wife":
        if on < MOVED_WITHIN:
            return State(address, "wife", False, "domestic_move_in")
        if on < HEAD_CHANGED:
            return State(address, "wife", False, "move_within")
        # Her 世帯主 row stays in force after his death: nothing changed for her then.
        return State(address, "head", False, "household_head_change")
    if on < MOVED_WITHIN:
        return State(address, "head", False, "domestic_move_in")
    if on < HEAD_CHANGED:
        return State(address, "head", False, "move_within")
    if on < DIED:
        return State(address, "husband", False, "household_head_change")
    return State(address, "husband", True, "death")


DATES = [MOVED_IN + timedelta(days=n) for n in range(-2, 30)]


def test_every_date_in_between_is_reproduced(rt: Runtime, story: Story) -> None:
    """For each day from before the 転入 to after the 死亡, each person's state as of that
    day equals the story's, and the household has exactly one 世帯主 on every day."""
    for on in DATES:
        for who, rid in (("husband", story.husband), ("wife", story.wife)):
            assert _state(rt, rid, on) == _expected(story, who, on), (who, on)
        with rt.uow() as uow:
            row = uow.session.execute(
                HEADS_AS_OF, {"household_id": story.household, "on": on}
            ).one_or_none()
        if on < MOVED_IN:
            assert row is None
        else:
            assert row is not None and row.heads == 1, on
            assert row.members == (2 if on < DIED else 1), on


def test_the_sql_selector_agrees_with_rules_in_force(rt: Runtime, story: Story) -> None:
    """The pure predicate and the SQL above pick the same row for every date."""
    with rt.uow() as uow:
        versions = list(
            uow.session.scalars(
                select(ResidentVersion).where(
                    ResidentVersion.resident_id.in_([story.husband, story.wife])
                )
            )
        )
    for on in DATES:
        for rid in (story.husband, story.wife):
            picked = [
                v.id
                for v in versions
                if v.resident_id == rid
                and rules.in_force(
                    valid_from=v.valid_from,
                    valid_to=v.valid_to,
                    recorded_at=v.recorded_at,
                    superseded_at=v.superseded_at,
                    closed_at=v.closed_at,
                    on=on,
                )
            ]
            with rt.uow() as uow:
                sql = [
                    r["id"]
                    for r in uow.session.execute(AS_OF, {"resident_id": rid, "on": on}).mappings()
                ]
            assert picked == sql, (rid, on)


def test_history_rows_are_appended_in_order(rt: Runtime, story: Story) -> None:
    """history_no counts up; each row ends where the next begins; nothing was superseded;
    each row keeps the 届出日 and who recorded it."""
    with rt.uow() as uow:
        rows: list[Any] = (
            uow.session.execute(
                text(
                    "SELECT history_no, valid_from, valid_to, notified_on, change_reason,"
                    " superseded_at, recorded_by, recorded_at"
                    " FROM registry.resident_version WHERE resident_id = :r ORDER BY history_no"
                ),
                {"r": story.husband},
            )
            .mappings()
            .all()
        )
    assert [r["history_no"] for r in rows] == [1, 2, 3, 4]
    assert [r["change_reason"] for r in rows] == [
        "domestic_move_in",
        "move_within",
        "household_head_change",
        "death",
    ]
    assert [(r["valid_from"], r["valid_to"]) for r in rows] == [
        (MOVED_IN, MOVED_WITHIN),
        (MOVED_WITHIN, HEAD_CHANGED),
        (HEAD_CHANGED, DIED),
        (DIED, None),
    ]
    assert [r["notified_on"] for r in rows] == [
        date(2026, 11, 4),
        date(2026, 11, 12),
        date(2026, 11, 19),
        date(2026, 11, 26),
    ]
    assert all(r["superseded_at"] is None and r["recorded_by"] == CLERK.user_id for r in rows)
    recorded = [r["recorded_at"] for r in rows]
    assert recorded == sorted(recorded) and len(set(recorded)) == 4


# ---------------------------------------------------------------------------------------
# As recorded at: what the registry said before each 異動 was recorded (bitemporal)
# ---------------------------------------------------------------------------------------

# Each 異動 of the story was recorded at 10:00 JST on these days, after its 異動日: every
# one is a (slightly) late entry, so the registry's answer about a date can change later.
STEPS = [
    (MOVED_IN, "domestic_move_in", date(2026, 11, 4)),
    (MOVED_WITHIN, "move_within", date(2026, 11, 12)),
    (HEAD_CHANGED, "household_head_change", date(2026, 11, 19)),
    (DIED, "death", date(2026, 11, 27)),
]

AS_RECORDED = text(
    "SELECT * FROM registry.resident_version"
    " WHERE resident_id = :resident_id AND valid_from <= :on"
    " AND (valid_to IS NULL OR valid_to > :on OR closed_at > :t)"
    " AND recorded_at <= :t AND (superseded_at IS NULL OR superseded_at > :t)"
)


def _expected_as_recorded(s: Story, who: str, on: date, t: datetime) -> State | None:
    """The story told with only the 異動 recorded by ``t``, applied in order up to ``on``."""
    first, second = s.lots
    state: State | None = None
    for effective_on, reason, recorded_on in STEPS:
        if datetime(recorded_on.year, recorded_on.month, recorded_on.day, 10, tzinfo=JST) > t:
            break
        if effective_on > on:
            break
        if reason == "domestic_move_in":
            state = State(first, "head" if who == "husband" else "wife", False, reason)
        elif state is None:
            break
        elif reason == "move_within":
            state = State(second, state.relationship, False, reason)
        elif reason == "household_head_change":
            state = State(state.address, "husband" if who == "husband" else "head", False, reason)
        elif who == "husband":  # death: his alone; nothing changed for her
            state = State(state.address, state.relationship, True, reason)
    return state


def test_as_recorded_at_each_midnight_reproduces_what_the_registry_then_said(
    rt: Runtime, story: Story
) -> None:
    """At midnight before each recording day, each date reads as the registry then said:
    before the 転居 was recorded (12 Nov) the couple still lived at the first lot on 11 Nov,
    although the 転居 (recorded later) took effect on 10 Nov. Checked in SQL and through
    queries.resident_record."""
    for day in range(3, 30):
        t = datetime(2026, 11, day, 0, 0, tzinfo=JST)
        for on in DATES:
            for who, rid in (("husband", story.husband), ("wife", story.wife)):
                with rt.uow() as uow:
                    rows = (
                        uow.session.execute(AS_RECORDED, {"resident_id": rid, "on": on, "t": t})
                        .mappings()
                        .all()
                    )
                assert len(rows) <= 1, (who, on, t)
                got = (
                    State(
                        rows[0]["address_id"],
                        rows[0]["relationship"],
                        rows[0]["removed"],
                        rows[0]["change_reason"],
                    )
                    if rows
                    else None
                )
                assert got == _expected_as_recorded(story, who, on, t), (who, on, t)


def test_a_late_move_within_does_not_rewrite_what_was_said_before_it(
    rt: Runtime, story: Story
) -> None:
    """The worked case: on the evening of 11 Nov the registry said the husband lived at the
    first lot on 11 Nov; from 12 Nov 10:00 it says the second lot, for the same date."""
    first, second = story.lots
    evening = datetime(2026, 11, 11, 18, 0, tzinfo=JST)
    then = queries.resident_record(
        rt.uow(), CLERK, story.husband, as_of=date(2026, 11, 11), as_recorded_at=evening
    )
    now = queries.resident_record(rt.uow(), CLERK, story.husband, as_of=date(2026, 11, 11))
    assert (then.address_id, then.change_reason) == (first, "domestic_move_in")
    assert (now.address_id, now.change_reason) == (second, "move_within")
