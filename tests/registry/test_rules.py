"""Pure registry rules. Expected values are derived by hand from the texts cited in
machi.registry.rules (住基法, 住基令, 民法 第140条〜第143条, 地方自治法 第4条の2, 標準仕様);
each worked example says how. All names and numbers are fictitious."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from machi.core.calendar import next_business_day
from machi.core.clock import JST
from machi.core.errors import DomainError
from machi.core.events import from_payload
from machi.core.numbers import individual_number_check_digit
from machi.registry import events, rules
from machi.registry.errors import MESSAGES, RegistryError
from machi.registry.rules import (
    ChangeReason,
    ForeignResidentClass,
    HouseholdMember,
    IssuanceChannel,
    MoveOutNoticeTiming,
    ProtectedUse,
    ProtectionMeasureFacts,
    ProtectionOutcome,
    ProtectionRequest,
    ProtectionWarning,
    RecordClass,
    Relationship,
    RequesterType,
)

TODAY = date(2026, 11, 30)
FOURTEEN_DAY = [
    ChangeReason.DOMESTIC_MOVE_IN,
    ChangeReason.CARD_BASED_MOVE_IN,
    ChangeReason.MOVE_IN_FROM_ABROAD,
    ChangeReason.FOREIGN_RESIDENT_ENTRY,
    ChangeReason.MOVE_WITHIN,
    ChangeReason.HOUSEHOLD_SPLIT,
    ChangeReason.HOUSEHOLD_MERGE,
    ChangeReason.HOUSEHOLD_CHANGE,
    ChangeReason.HOUSEHOLD_HEAD_CHANGE,
]
dates = st.dates(min_value=date(1993, 1, 1), max_value=date(2098, 12, 1))


def _code(exc: pytest.ExceptionInfo[DomainError]) -> RegistryError:
    code = exc.value.code
    assert isinstance(code, RegistryError)
    return code


# ---------------------------------------------------------------------------------------
# Error codes and messages
# ---------------------------------------------------------------------------------------


def test_every_error_code_is_namespaced_and_has_a_message() -> None:
    assert all(c.value.startswith("registry.") for c in RegistryError)
    assert set(MESSAGES) == set(RegistryError)
    assert all(MESSAGES[c] for c in RegistryError)


# ---------------------------------------------------------------------------------------
# 異動事由
# ---------------------------------------------------------------------------------------


def test_every_change_reason_maps_to_a_class_and_a_label() -> None:
    for reason in ChangeReason:
        assert reason.label
        assert reason.standard_class
        assert reason.record_class in RecordClass


def test_change_reasons_cover_the_standard_classification() -> None:
    # 標準仕様 §3.6: the 記載/消除/修正 table, one row per class.
    covered = {(r.record_class, r.standard_class) for r in ChangeReason}
    for cls in ("国内転入", "国外転入等", "出生", "職権記載", "改製", "再製", "異動の取消し（増）"):
        assert (RecordClass.ENTRY, cls) in covered
    for cls in ("国内転出", "国外転出", "死亡", "職権消除", "異動の取消し（減）"):
        assert (RecordClass.REMOVAL, cls) in covered
    for cls in ("転居", "軽微な修正", "職権修正", "誤記修正", "世帯分離", "世帯主変更"):
        assert (RecordClass.CHANGE, cls) in covered
    # 特例転入 is a 国内転入, 失踪 a 職権消除 (§3.6); there is no class 「転居取消」 (X).
    assert ChangeReason.CARD_BASED_MOVE_IN.standard_class == "国内転入"
    assert all("転居取消" not in r.label for r in ChangeReason)


# ---------------------------------------------------------------------------------------
# Notice periods: 法第22条・第23条・第25条 「十四日以内」, 民法第140条, 地方自治法第4条の2第4項
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "effective_on", "deadline"),
    [
        # 転入 Mon 2026-11-02: first day not counted → 11-03 is day 1, 11-16 day 14 (a Monday).
        (ChangeReason.DOMESTIC_MOVE_IN, date(2026, 11, 2), date(2026, 11, 16)),
        # 転入 Sun 11-01: day 14 is Sun 11-15, an office holiday → next office day Mon 11-16.
        (ChangeReason.DOMESTIC_MOVE_IN, date(2026, 11, 1), date(2026, 11, 16)),
        # 転居 Thu 12-17: day 14 is 12-31, inside the 12/29–1/3 closure → Mon 2027-01-04.
        (ChangeReason.MOVE_WITHIN, date(2026, 12, 17), date(2027, 1, 4)),
        # 転入 Sun 04-19: day 14 is Sun 05-03 (憲法記念日); 05-04 みどりの日, 05-05 こどもの日,
        # 05-06 振替休日 → Thu 05-07.
        (ChangeReason.DOMESTIC_MOVE_IN, date(2026, 4, 19), date(2026, 5, 7)),
        # 世帯変更 (法第25条) counts the same way.
        (ChangeReason.HOUSEHOLD_SPLIT, date(2026, 11, 2), date(2026, 11, 16)),
    ],
)
def test_notice_deadline_worked_examples(
    reason: ChangeReason, effective_on: date, deadline: date
) -> None:
    assert rules.notice_deadline(reason, effective_on) == deadline
    assert not rules.is_late_notice(reason, effective_on, deadline)
    assert rules.is_late_notice(reason, effective_on, deadline + timedelta(days=1))


def test_ex_officio_changes_and_move_outs_have_no_deadline_after_the_event() -> None:
    assert rules.notice_deadline(ChangeReason.BIRTH, TODAY) is None
    assert rules.notice_deadline(ChangeReason.EX_OFFICIO_CORRECTION, TODAY) is None
    assert rules.notice_deadline(ChangeReason.DOMESTIC_MOVE_OUT, TODAY) is None
    assert not rules.is_late_notice(ChangeReason.DEATH, date(2000, 1, 1), TODAY)


@given(st.sampled_from(FOURTEEN_DAY), dates, st.integers(min_value=0, max_value=60))
def test_fourteen_day_notices_are_late_exactly_after_the_office_deadline(
    reason: ChangeReason, effective_on: date, days_after: int
) -> None:
    notified_on = effective_on + timedelta(days=days_after)
    deadline = next_business_day(effective_on + timedelta(days=14))
    assert rules.is_late_notice(reason, effective_on, notified_on) == (notified_on > deadline)
    if days_after <= 14:  # within the 14 days themselves a notice is never late
        assert not rules.is_late_notice(reason, effective_on, notified_on)


def test_move_out_is_notified_in_advance() -> None:
    # 法第24条「あらかじめ」; 標準仕様 §2.4 j640: after the move accepted up to 14 days.
    moved_out = date(2026, 11, 2)
    timing = rules.move_out_notice_timing
    assert timing(moved_out, date(2026, 10, 20)) is MoveOutNoticeTiming.IN_ADVANCE
    assert timing(moved_out, moved_out) is MoveOutNoticeTiming.IN_ADVANCE
    assert timing(moved_out, date(2026, 11, 16)) is MoveOutNoticeTiming.AFTER_MOVE
    assert timing(moved_out, date(2026, 11, 17)) is MoveOutNoticeTiming.TOO_LATE
    assert not rules.is_late_notice(ChangeReason.DOMESTIC_MOVE_OUT, moved_out, moved_out)
    assert rules.is_late_notice(ChangeReason.DOMESTIC_MOVE_OUT, moved_out, date(2026, 11, 3))
    rules.check_move_out_notice(moved_out, date(2026, 11, 16))
    with pytest.raises(DomainError) as exc:
        rules.check_move_out_notice(moved_out, date(2026, 11, 17))
    assert _code(exc) is RegistryError.MOVE_OUT_NOTICE_TOO_LATE


def test_card_based_move_in_deadline_is_the_earlier_of_the_two_limits() -> None:
    # Planned move-out Sun 11-01 + 30 days = Tue 12-01; moved in Fri 11-20 + 14 = Fri 12-04.
    assert rules.card_based_move_in_deadline(date(2026, 11, 1), date(2026, 11, 20)) == date(
        2026, 12, 1
    )
    # Moved in Mon 11-02 → 14-day limit Mon 11-16 comes first.
    assert rules.card_based_move_in_deadline(date(2026, 11, 1), date(2026, 11, 2)) == date(
        2026, 11, 16
    )
    rules.check_card_based_move_in(date(2026, 11, 1), date(2026, 11, 20), date(2026, 12, 1))
    with pytest.raises(DomainError) as exc:
        rules.check_card_based_move_in(date(2026, 11, 1), date(2026, 11, 20), date(2026, 12, 2))
    assert _code(exc) is RegistryError.CARD_BASED_MOVE_IN_EXPIRED


# ---------------------------------------------------------------------------------------
# Dates of a change
# ---------------------------------------------------------------------------------------


@given(dates, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_effective_on_notified_on_today_in_order_is_accepted(
    effective_on: date, notice_after: int, today_after: int
) -> None:
    notified_on = effective_on + timedelta(days=notice_after)
    today = notified_on + timedelta(days=today_after)
    for reason in ChangeReason:
        rules.check_change_dates(reason, effective_on, notified_on, today)


@given(dates, st.integers(min_value=1, max_value=400))
def test_effective_on_after_notified_on_is_refused_except_for_move_out(
    notified_on: date, days: int
) -> None:
    effective_on = notified_on + timedelta(days=days)
    today = effective_on  # so that only the order of the two dates is wrong
    with pytest.raises(DomainError) as exc:
        rules.check_change_dates(ChangeReason.MOVE_WITHIN, effective_on, notified_on, today)
    assert _code(exc) is RegistryError.EFFECTIVE_ON_AFTER_NOTIFIED_ON
    rules.check_change_dates(ChangeReason.DOMESTIC_MOVE_OUT, effective_on, notified_on, today)


def test_future_dates_and_missing_notice_dates_are_refused() -> None:
    tomorrow = TODAY + timedelta(days=1)
    cases = [
        (ChangeReason.DOMESTIC_MOVE_IN, TODAY, tomorrow, RegistryError.NOTIFIED_ON_IN_FUTURE),
        (ChangeReason.EX_OFFICIO_CORRECTION, tomorrow, None, RegistryError.EFFECTIVE_ON_IN_FUTURE),
        (ChangeReason.DOMESTIC_MOVE_IN, TODAY, None, RegistryError.NOTIFIED_ON_REQUIRED),
    ]
    for reason, effective_on, notified_on, code in cases:
        with pytest.raises(DomainError) as exc:
            rules.check_change_dates(reason, effective_on, notified_on, TODAY)
        assert _code(exc) is code
        assert exc.value.message == MESSAGES[code]
    # A 転出 may be planned for a later day (法第24条).
    rules.check_change_dates(ChangeReason.DOMESTIC_MOVE_OUT, TODAY + timedelta(30), TODAY, TODAY)
    rules.check_change_dates(ChangeReason.BIRTH, TODAY, None, TODAY)  # 職権: no 届出日


@given(dates, st.integers(min_value=-400, max_value=400))
def test_no_change_before_birth(birth_date: date, offset: int) -> None:
    effective_on = birth_date + timedelta(days=offset)
    if offset < 0:
        with pytest.raises(DomainError) as exc:
            rules.check_within_lifetime(ChangeReason.MOVE_WITHIN, effective_on, birth_date, None)
        assert _code(exc) is RegistryError.EFFECTIVE_ON_BEFORE_BIRTH
    else:
        rules.check_within_lifetime(ChangeReason.MOVE_WITHIN, effective_on, birth_date, None)


def test_no_change_after_death_except_corrections() -> None:
    born, died = date(1950, 5, 5), date(2026, 10, 1)
    rules.check_within_lifetime(ChangeReason.DEATH, died, born, died)
    with pytest.raises(DomainError) as exc:
        rules.check_within_lifetime(ChangeReason.MOVE_WITHIN, date(2026, 10, 2), born, died)
    assert _code(exc) is RegistryError.EFFECTIVE_ON_AFTER_DEATH
    rules.check_within_lifetime(ChangeReason.CLERICAL_ERROR_CORRECTION, TODAY, born, died)
    with pytest.raises(DomainError):
        rules.check_birth_date(TODAY + timedelta(days=1), TODAY)


# ---------------------------------------------------------------------------------------
# 転入 / 転居
# ---------------------------------------------------------------------------------------


def test_move_in_of_a_current_resident_is_refused() -> None:
    rules.check_move_in(ChangeReason.DOMESTIC_MOVE_IN, already_resident=False)
    for reason in (ChangeReason.DOMESTIC_MOVE_IN, ChangeReason.MOVE_IN_FROM_ABROAD):
        with pytest.raises(DomainError) as exc:
            rules.check_move_in(reason, already_resident=True)
        assert _code(exc) is RegistryError.ALREADY_RESIDENT


BEFORE = {
    "name": "架空 花子",
    "birth_date": date(1990, 1, 1),
    "address_id": 10,
    "building": None,
    "address_set_on": date(2020, 4, 1),
    "household_id": "h1",
    "relationship": "wife",
    "display_order": 2,
    "history_no": 3,
    "change_reason": "domestic_move_in",
}


def test_move_within_changes_only_address_and_household_placement() -> None:
    after = BEFORE | {
        "address_id": 11,
        "address_set_on": date(2026, 11, 1),
        "household_id": "h2",
        "relationship": "head",
        "display_order": 1,
        "history_no": 4,
        "change_reason": "move_within",
    }
    rules.check_move_within(BEFORE, after)
    assert rules.changed_fields(BEFORE, after) == (
        "address_id",
        "address_set_on",
        "display_order",
        "household_id",
        "relationship",
    )
    # Another dwelling on the same lot is a 転居 too (標準仕様 §2.4 j630).
    rules.check_move_within(BEFORE, BEFORE | {"building": "架空ハイツ101"})


def test_move_within_that_changes_the_name_is_refused_naming_the_item() -> None:
    after = BEFORE | {"address_id": 11, "name": "架空 春子"}
    with pytest.raises(DomainError) as exc:
        rules.check_move_within(BEFORE, after)
    assert _code(exc) is RegistryError.MOVE_WITHIN_CHANGES_OTHER_ITEMS
    assert exc.value.field == "name"
    assert "氏名" in exc.value.message and "架空" not in exc.value.message
    with pytest.raises(DomainError) as exc:
        rules.check_move_within(BEFORE, BEFORE | {"history_no": 4})
    assert _code(exc) is RegistryError.MOVE_WITHIN_ADDRESS_UNCHANGED


@given(st.sampled_from(["name", "birth_date", "sex", "registered_domicile", "nationality"]))
def test_any_identity_item_in_a_move_within_is_refused(field: str) -> None:
    after = BEFORE | {"address_id": 99, field: "changed"}
    with pytest.raises(DomainError):
        rules.check_move_within(BEFORE, after)


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------


def test_resident_record_code_is_checked_for_form_only() -> None:
    # The 算式 of 平成14年総務省告示第436号 was not found: only 11 ASCII digits are checked.
    assert rules.is_valid_resident_record_code("01234567890")
    for bad in ("0123456789", "012345678901", "０１２３４５６７８９０", "0123456789a", None):
        assert not rules.is_valid_resident_record_code(bad)
    with pytest.raises(DomainError) as exc:
        rules.check_resident_record_code("123")
    assert _code(exc) is RegistryError.INVALID_RESIDENT_RECORD_CODE


def test_individual_number_uses_the_ordinance_check_digit() -> None:
    base = "12345678901"
    good = base + str(individual_number_check_digit(base))
    rules.check_individual_number(good)
    wrong = base + str((int(good[-1]) + 1) % 10)
    with pytest.raises(DomainError) as exc:
        rules.check_individual_number(wrong)
    assert _code(exc) is RegistryError.INVALID_INDIVIDUAL_NUMBER
    assert wrong not in exc.value.message and base not in exc.value.message


def test_addressee_no_check_digit_worked_examples() -> None:
    # M11W2〜7 (標準仕様 §3.5), weights 2,3,4,5,6,7 from the rightmost digit of the serial.
    # 123456: 6×2 + 5×3 + 4×4 + 3×5 + 2×6 + 1×7 = 77 = 7×11 → remainder 0 → check 0.
    assert rules.addressee_no_from_serial(123456) == 1234560
    # 1: 1×2 = 2 → 11 − 2 = 9.
    assert rules.addressee_no_from_serial(1) == 19
    # 6: 6×2 = 12 → remainder 1 → no valid digit: the serial is skipped (decision).
    assert not rules.is_issuable_serial(6)
    with pytest.raises(ValueError):
        rules.addressee_no_from_serial(6)
    assert rules.is_valid_addressee_no(1234560)
    assert not rules.is_valid_addressee_no(1234561)


@given(
    st.integers(min_value=1, max_value=10**14 - 1),
    st.integers(min_value=0, max_value=14),
    st.integers(min_value=0, max_value=9),
)
def test_addressee_no_detects_any_single_digit_error(serial: int, pos: int, digit: int) -> None:
    assume(rules.is_issuable_serial(serial))
    number = str(rules.addressee_no_from_serial(serial))
    assert rules.is_valid_addressee_no(int(number))
    pos %= len(number)
    assume(number[pos] != str(digit))
    mutated = number[:pos] + str(digit) + number[pos + 1 :]
    assert not rules.is_valid_addressee_no(int(mutated))


def test_residence_card_number_form() -> None:
    assert rules.is_valid_residence_card_no("AB12345678CD")
    for bad in ("ab12345678cd", "AB1234567CD", "A112345678CD", "AB12345678C1", ""):
        assert not rules.is_valid_residence_card_no(bad)


# ---------------------------------------------------------------------------------------
# 続柄 (標準仕様 §3.7)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("世帯主", "head"),
        ("妻", "wife"),
        ("夫（未届）", "husband_unregistered"),
        ("子", "child"),
        ("子の妻", "child.wife"),
        ("子（子の妻）", "child_and_child_wife"),
        ("妻の父", "wife.father"),
        ("子の子の子の子", "child.child.child.child"),
        ("縁故者", "kin"),
        ("同居人", "cohabitant"),
        ("子(子の夫)", "child_and_child_husband"),  # half-width brackets from old systems
    ],
)
def test_relationship_labels_round_trip(label: str, code: str) -> None:
    assert rules.parse_relationship(label) == code
    rules.check_relationship(code)
    assert rules.relationship_label(code) == label.replace("(", "（").replace(")", "）")


def test_five_or_more_links_become_kin() -> None:
    assert rules.parse_relationship("子の子の子の子の子") == "kin"
    assert rules.relationship_for_chain([Relationship.CHILD] * 5) == "kin"


@pytest.mark.parametrize(
    "label", ["孫", "祖父", "おじ", "準世帯主", "世帯主の子", "子の世帯主", "子の", "", "妻妻"]
)
def test_relationships_outside_the_standard_are_refused(label: str) -> None:
    with pytest.raises(DomainError) as exc:
        rules.parse_relationship(label)
    assert _code(exc) is RegistryError.INVALID_RELATIONSHIP


@pytest.mark.parametrize("code", ["head.child", "grandchild", "child.kin", "", "child..wife"])
def test_invalid_relationship_codes(code: str) -> None:
    with pytest.raises(DomainError):
        rules.check_relationship(code)


# ---------------------------------------------------------------------------------------
# 世帯
# ---------------------------------------------------------------------------------------

A, B, C, D = (uuid.UUID(int=i) for i in range(1, 5))


def test_a_household_has_exactly_one_head() -> None:
    members = [HouseholdMember(A, "head"), HouseholdMember(B, "wife"), HouseholdMember(C, "child")]
    rules.check_household(members, head_id=A)
    with pytest.raises(DomainError) as exc:
        rules.check_household(members, head_id=B)
    assert _code(exc) is RegistryError.HEAD_RELATIONSHIP_MISMATCH
    with pytest.raises(DomainError) as exc:
        rules.check_household([*members, HouseholdMember(D, "head")])
    assert _code(exc) is RegistryError.HOUSEHOLD_HEAD_DUPLICATED
    headless = members[1:]
    with pytest.raises(DomainError) as exc:
        rules.check_household(headless)
    assert _code(exc) is RegistryError.HOUSEHOLD_HEAD_MISSING
    # Head gone, two members left, 世帯主変更届 pending (標準仕様 §2.4 j500).
    rules.check_household(headless, allow_vacant_head=True)


def test_a_split_leaves_both_households_with_a_head() -> None:
    staying = [HouseholdMember(A, "head"), HouseholdMember(B, "wife")]
    leaving = [HouseholdMember(C, "head"), HouseholdMember(D, "wife")]
    rules.check_household_split(staying, leaving)
    with pytest.raises(DomainError) as exc:
        rules.check_household_split(staying, [HouseholdMember(C, "child")])
    assert _code(exc) is RegistryError.HOUSEHOLD_SPLIT_WITHOUT_HEAD
    with pytest.raises(DomainError) as exc:
        rules.check_household_split(staying, [])
    assert _code(exc) is RegistryError.HOUSEHOLD_SPLIT_EMPTY


def test_successor_when_the_head_leaves() -> None:
    assert rules.successor_when_head_leaves([B]) == B
    assert rules.successor_when_head_leaves([B, C]) is None
    assert rules.successor_when_head_leaves([]) is None


# ---------------------------------------------------------------------------------------
# 外国人住民 (法第30条の45) and items by nationality
# ---------------------------------------------------------------------------------------


def _foreign(cls: ForeignResidentClass | None, **items: object) -> None:
    values: dict[str, object] = {
        "residence_status": None,
        "residence_period": None,
        "residence_expires_on": None,
        "residence_card_no": None,
        "effective_on": TODAY,
    } | items
    rules.check_foreign_resident_items(cls, **values)  # type: ignore[arg-type]


def test_foreign_resident_items_per_class() -> None:
    mid: dict[str, object] = {
        "residence_status": "技術・人文知識・国際業務",
        "residence_period": "3年",
        "residence_expires_on": date(2028, 4, 1),
        "residence_card_no": "AB12345678CD",
    }
    _foreign(ForeignResidentClass.MID_TO_LONG_TERM, **mid)
    _foreign(ForeignResidentClass.SPECIAL_PERMANENT_RESIDENT, residence_card_no="XY00000001ZZ")
    _foreign(ForeignResidentClass.TRANSITIONAL_BIRTH)
    # 永住者 / 高度専門職２号: 在留期間 無期限, so no 満了の日 (入管法施行規則 別表第二).
    permanent = {"residence_status": "永住者", "residence_card_no": "AB12345678CD"}
    _foreign(ForeignResidentClass.MID_TO_LONG_TERM, **permanent)
    _foreign(ForeignResidentClass.MID_TO_LONG_TERM, **permanent | {"residence_period": "無期限"})
    _foreign(
        ForeignResidentClass.MID_TO_LONG_TERM,
        residence_status="高度専門職２号",
        residence_card_no="AB12345678CD",
    )
    _foreign(
        ForeignResidentClass.PROVISIONAL_STAY,
        residence_period="6月",
        residence_expires_on=date(2027, 5, 1),
    )
    failures: list[tuple[ForeignResidentClass | None, dict[str, object], RegistryError]] = [
        (None, {}, RegistryError.FOREIGN_RESIDENT_CLASS_REQUIRED),
        (
            ForeignResidentClass.MID_TO_LONG_TERM,
            mid | {"residence_card_no": None},
            RegistryError.FOREIGN_RESIDENT_ITEM_MISSING,
        ),
        (
            ForeignResidentClass.SPECIAL_PERMANENT_RESIDENT,
            {"residence_card_no": "XY00000001ZZ", "residence_status": "特別永住者"},
            RegistryError.FOREIGN_RESIDENT_ITEM_NOT_ALLOWED,
        ),
        (
            ForeignResidentClass.MID_TO_LONG_TERM,
            mid | {"residence_card_no": "ab12345678cd"},
            RegistryError.INVALID_RESIDENCE_CARD_NO,
        ),
        (
            ForeignResidentClass.MID_TO_LONG_TERM,
            mid | {"residence_expires_on": TODAY - timedelta(days=1)},
            RegistryError.RESIDENCE_PERIOD_EXPIRED,
        ),
    ]
    for cls, items, code in failures:
        with pytest.raises(DomainError) as exc:
            _foreign(cls, **items)
        assert _code(exc) is code


@given(dates, st.integers(min_value=-30, max_value=30))
def test_residence_period_must_not_end_before_the_change(effective_on: date, days: int) -> None:
    expires_on = effective_on + timedelta(days=days)

    def call() -> None:
        _foreign(
            ForeignResidentClass.TEMPORARY_REFUGE,
            residence_period="6月",
            residence_expires_on=expires_on,
            effective_on=effective_on,
        )

    if days < 0:
        with pytest.raises(DomainError):
            call()
    else:
        call()


def test_items_depend_on_nationality() -> None:
    japanese = {
        "foreign_resident": False,
        "registered_domicile": "架空県架空市1番地",
        "family_register_head": "架空 一郎",
        "former_surname": None,
        "alias_name": None,
        "nationality": None,
    }
    rules.check_items_for_nationality(**japanese)  # type: ignore[arg-type]
    rules.check_items_for_nationality(**japanese | {"registered_domicile": "なし"})  # type: ignore[arg-type]
    failures: list[tuple[dict[str, object], RegistryError]] = [
        ({"alias_name": "架空"}, RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT),
        ({"registered_domicile": None}, RegistryError.REGISTERED_DOMICILE_REQUIRED),
        (
            {"foreign_resident": True, "nationality": "ZZ"},
            RegistryError.JAPANESE_ITEM_ON_FOREIGN_RESIDENT,
        ),
        (
            {"foreign_resident": True, "registered_domicile": None, "family_register_head": None},
            RegistryError.FOREIGN_RESIDENT_ITEM_MISSING,
        ),
    ]
    for items, code in failures:
        with pytest.raises(DomainError) as exc:
            rules.check_items_for_nationality(**japanese | items)  # type: ignore[arg-type]
        assert _code(exc) is code


# ---------------------------------------------------------------------------------------
# As-of selector
# ---------------------------------------------------------------------------------------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=JST)


@given(dates, st.integers(min_value=0, max_value=100), st.integers(min_value=-10, max_value=120))
def test_consecutive_versions_cover_each_date_exactly_once(
    start: date, length: int, offset: int
) -> None:
    boundary = start + timedelta(days=length)
    on = start + timedelta(days=offset)
    first = rules.in_force(
        valid_from=start, valid_to=boundary, recorded_at=T0, superseded_at=None, on=on
    )
    second = rules.in_force(
        valid_from=boundary, valid_to=None, recorded_at=T0, superseded_at=None, on=on
    )
    assert first + second == (1 if on >= start else 0)


@given(
    dates,
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=-10, max_value=120),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=90),
)
def test_as_recorded_at_any_instant_each_date_has_exactly_one_state(
    start: date, length: int, offset: int, recorded_later: int, asked_after: int
) -> None:
    """A change to ``start + length`` recorded ``recorded_later`` days after T0 (a late
    notice when that is after the 異動日) closes the first row at the same instant. Asked
    at any instant, every date from ``start`` on has exactly one state: before the change
    was recorded, the first row, still open; after, the one the dates say."""
    boundary = start + timedelta(days=length)
    on = start + timedelta(days=offset)
    t1 = T0 + timedelta(days=recorded_later)
    t = T0 + timedelta(days=asked_after)
    first = rules.in_force(
        valid_from=start,
        valid_to=boundary,
        closed_at=t1,
        recorded_at=T0,
        superseded_at=None,
        on=on,
        as_recorded_at=t,
    )
    second = rules.in_force(
        valid_from=boundary,
        valid_to=None,
        recorded_at=t1,
        superseded_at=None,
        on=on,
        as_recorded_at=t,
    )
    assert first + second == (1 if on >= start else 0)
    if on >= start:
        assert second is (t >= t1 and on >= boundary)


def test_a_row_closed_later_is_open_as_recorded_before_its_close() -> None:
    row = {
        "valid_from": date(2026, 11, 2),
        "valid_to": date(2026, 11, 10),
        "closed_at": datetime(2026, 11, 12, 10, 0, tzinfo=JST),
        "recorded_at": datetime(2026, 11, 4, 10, 0, tzinfo=JST),
        "superseded_at": None,
    }
    on = date(2026, 11, 11)
    assert not rules.in_force(**row, on=on)  # type: ignore[arg-type]
    assert rules.in_force(**row, on=on, as_recorded_at=datetime(2026, 11, 12, 9, 59, tzinfo=JST))  # type: ignore[arg-type]
    assert not rules.in_force(
        **row, on=on, as_recorded_at=datetime(2026, 11, 12, 10, 0, tzinfo=JST)
    )  # type: ignore[arg-type]


def test_superseded_rows_are_out_now_but_in_as_recorded_before_the_correction() -> None:
    corrected = T0 + timedelta(days=30)
    row = {
        "valid_from": date(2020, 4, 1),
        "valid_to": None,
        "recorded_at": T0,
        "superseded_at": corrected,
    }
    on = date(2026, 2, 1)
    assert not rules.in_force(**row, on=on)  # type: ignore[arg-type]
    assert rules.in_force(**row, on=on, as_recorded_at=T0 + timedelta(days=1))  # type: ignore[arg-type]
    assert not rules.in_force(**row, on=on, as_recorded_at=corrected)  # type: ignore[arg-type]
    assert not rules.in_force(**row, on=on, as_recorded_at=T0 - timedelta(seconds=1))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# 除票 retention: 住基令第34条第1項 150年, 民法第140条・第143条
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("removed_on", "expires_on"),
    [
        # Period starts 2026-12-01 (初日不算入); the day before its 150th-year counterpart.
        (date(2026, 11, 30), date(2176, 11, 30)),
        # Starts 2028-02-29; 2178 has no 29 February → the month's last day (第143条ただし書).
        (date(2028, 2, 28), date(2178, 2, 28)),
        # Starts 2028-03-01 → ends the day before 2178-03-01.
        (date(2028, 2, 29), date(2178, 2, 28)),
        # Year end: starts 2027-01-01 → ends 2176-12-31.
        (date(2026, 12, 31), date(2176, 12, 31)),
        # Starts 2002-03-01; 2152 is a leap year, so the day before 2152-03-01 is 02-29.
        (date(2002, 2, 28), date(2152, 2, 29)),
    ],
)
def test_removed_record_retention_worked_examples(removed_on: date, expires_on: date) -> None:
    assert rules.removed_record_expires_on(removed_on) == expires_on
    with pytest.raises(DomainError) as exc:
        rules.check_removed_record_disposable(removed_on, expires_on)
    assert _code(exc) is RegistryError.REMOVED_RECORD_RETAINED
    rules.check_removed_record_disposable(removed_on, expires_on + timedelta(days=1))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2500, 12, 31)))
def test_removed_records_are_kept_150_years_to_the_day(removed_on: date) -> None:
    # 民法第143条第2項: the period ends the day before the 150th-year counterpart of its
    # first day (removed_on + 1); a first day of 29 February with no counterpart ends on
    # the month's last day, i.e. the day before 1 March.
    start = removed_on + timedelta(days=1)
    try:
        counterpart = start.replace(year=start.year + 150)
    except ValueError:
        counterpart = date(start.year + 150, 3, 1)
    assert rules.removed_record_expires_on(removed_on) == counterpart - timedelta(days=1)


# ---------------------------------------------------------------------------------------
# 支援措置
# ---------------------------------------------------------------------------------------

PROTECTED, CO_PROTECTED, HOUSEMATE = uuid.UUID(int=11), uuid.UUID(int=12), uuid.UUID(int=13)
OFFENDER_NO = 9_000_000_017


def _measure(**changes: object) -> ProtectionMeasureFacts:
    base = ProtectionMeasureFacts(
        resident_id=PROTECTED,
        protected_ids=frozenset({PROTECTED, CO_PROTECTED}),
        offender_addressee_nos=frozenset({OFFENDER_NO}),
        scope=frozenset(ProtectedUse),
        valid_from=date(2026, 4, 1),
        valid_until=date(2027, 3, 31),
        ended_on=None,
        provisional=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _request(**changes: object) -> ProtectionRequest:
    values: dict[str, object] = {
        "use": ProtectedUse.RESIDENT_RECORD_COPY,
        "channel": IssuanceChannel.COUNTER,
        "requester_type": RequesterType.THIRD_PARTY,
        "requester_resident_id": None,
        "requester_addressee_no": None,
        "on": TODAY,
    } | changes
    return ProtectionRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("measure", "request_", "outcome"),
    [
        ({}, {}, ProtectionOutcome.BLOCKED_REVIEW_REQUIRED),
        ({}, {"officer_reviewed": True}, ProtectionOutcome.ALLOWED_AFTER_REVIEW),
        (
            {},
            {"requester_type": RequesterType.SELF, "requester_resident_id": PROTECTED},
            ProtectionOutcome.ALLOWED_PROTECTED_PERSON,
        ),
        (
            {},
            {
                "requester_type": RequesterType.HOUSEHOLD_MEMBER,
                "requester_resident_id": CO_PROTECTED,
            },
            ProtectionOutcome.ALLOWED_PROTECTED_PERSON,
        ),
        (
            {},
            {
                "requester_type": RequesterType.HOUSEHOLD_MEMBER,
                "requester_resident_id": HOUSEMATE,
            },
            ProtectionOutcome.BLOCKED_REVIEW_REQUIRED,
        ),
        (
            {},
            {
                "requester_type": RequesterType.HOUSEHOLD_MEMBER,
                "requester_resident_id": HOUSEMATE,
                "requester_addressee_no": OFFENDER_NO,
                "officer_reviewed": True,
            },
            ProtectionOutcome.BLOCKED_OFFENDER,
        ),
        (
            {},
            {"use": ProtectedUse.BROWSING, "officer_reviewed": True},
            ProtectionOutcome.BLOCKED_BROWSING,
        ),
        (
            {},
            {
                "channel": IssuanceChannel.KONBINI,
                "requester_type": RequesterType.SELF,
                "requester_resident_id": PROTECTED,
            },
            ProtectionOutcome.BLOCKED_UNATTENDED_CHANNEL,
        ),
        (
            {"scope": frozenset({ProtectedUse.BROWSING})},
            {},
            ProtectionOutcome.OUT_OF_SCOPE,
        ),
        ({"ended_on": TODAY}, {}, ProtectionOutcome.NOT_IN_FORCE),
        ({"valid_from": TODAY + timedelta(days=1)}, {}, ProtectionOutcome.NOT_IN_FORCE),
        # An unextended period that passed still blocks until someone ends it, and warns.
        ({"valid_until": date(2026, 3, 31)}, {}, ProtectionOutcome.BLOCKED_REVIEW_REQUIRED),
    ],
)
def test_protection_decisions(
    measure: dict[str, object], request_: dict[str, object], outcome: ProtectionOutcome
) -> None:
    decision = rules.protection_decision(_measure(**measure), _request(**request_))
    assert decision.outcome is outcome
    assert decision.alert_staff == (outcome is ProtectionOutcome.BLOCKED_OFFENDER)


def test_protection_warnings_and_refusal() -> None:
    passed = rules.protection_decision(_measure(valid_until=date(2026, 3, 31)), _request())
    assert passed.warnings == (ProtectionWarning.PERIOD_PASSED,)
    soon = rules.protection_decision(_measure(valid_until=date(2026, 12, 15)), _request())
    assert soon.warnings == (ProtectionWarning.ENDING_SOON,)
    with pytest.raises(DomainError) as exc:
        rules.check_not_protected([_measure()], _request())
    assert _code(exc) is RegistryError.PROTECTION_MEASURE_BLOCKS_ISSUANCE
    assert exc.value.http_status == 403
    with pytest.raises(DomainError) as exc:
        rules.check_not_protected([_measure()], _request(use=ProtectedUse.BROWSING))
    assert _code(exc) is RegistryError.PROTECTION_MEASURE_BLOCKS_BROWSING
    assert rules.check_not_protected([], _request()) == []


@given(
    st.sampled_from(list(RequesterType)),
    st.sampled_from(list(IssuanceChannel)),
    st.sampled_from(list(ProtectedUse)),
    st.booleans(),
    st.sampled_from([PROTECTED, CO_PROTECTED, HOUSEMATE, None]),
)
def test_a_known_offender_is_never_served(
    requester_type: RequesterType,
    channel: IssuanceChannel,
    use: ProtectedUse,
    reviewed: bool,
    requester_id: uuid.UUID | None,
) -> None:
    assume(requester_id not in (PROTECTED, CO_PROTECTED))
    decision = rules.protection_decision(
        _measure(),
        _request(
            requester_type=requester_type,
            channel=channel,
            use=use,
            officer_reviewed=reviewed,
            requester_resident_id=requester_id,
            requester_addressee_no=OFFENDER_NO,
        ),
    )
    assert decision.blocked


def test_protection_period_is_one_year() -> None:
    # 標準仕様 §2.3: start 令和2年4月1日 → end 令和3年3月31日.
    assert rules.protection_period_end(date(2020, 4, 1)) == date(2021, 3, 31)
    assert rules.protection_period_end(date(2024, 2, 29)) == date(2025, 2, 28)
    assert rules.protection_extension_opens_on(date(2021, 3, 31)) == date(2021, 2, 28)
    with pytest.raises(DomainError):
        rules.check_protection_period(date(2021, 4, 1), date(2021, 3, 31))


# ---------------------------------------------------------------------------------------
# Four-eyes
# ---------------------------------------------------------------------------------------


def test_the_clerk_who_entered_a_draft_cannot_approve_it() -> None:
    clerk, approver = uuid.uuid4(), uuid.uuid4()
    rules.check_approver(clerk, approver)
    with pytest.raises(DomainError) as exc:
        rules.check_approver(clerk, clerk)
    assert _code(exc) is RegistryError.APPROVAL_BY_REQUESTER
    rules.check_pending("pending")
    with pytest.raises(DomainError) as exc:
        rules.check_pending("approved")
    assert _code(exc) is RegistryError.APPROVAL_NOT_PENDING


# ---------------------------------------------------------------------------------------
# Events survive the outbox round trip and carry no personal values
# ---------------------------------------------------------------------------------------


def test_events_round_trip_through_the_outbox_payload() -> None:
    rid, hid = uuid.uuid4(), uuid.uuid4()
    samples = [
        events.ResidentMovedIn(
            resident_id=rid,
            household_id=hid,
            effective_on=TODAY,
            change_reason=ChangeReason.DOMESTIC_MOVE_IN.value,
            from_local_government_code="131016",
        ),
        events.ResidentMovedOut(
            resident_id=rid,
            household_id=hid,
            effective_on=TODAY,
            change_reason=ChangeReason.DOMESTIC_MOVE_OUT.value,
            confirmed=False,
        ),
        events.HouseholdChanged(
            resident_id=rid,
            household_id=hid,
            previous_household_id=hid,
            effective_on=TODAY,
            change_reason=ChangeReason.HOUSEHOLD_HEAD_CHANGE.value,
            became_head=True,
        ),
        events.ResidentRecordCorrected(
            resident_id=rid,
            effective_on=TODAY,
            change_reason=ChangeReason.EX_OFFICIO_CORRECTION.value,
            changed_fields="name,name_kana",
        ),
        events.CertificateIssued(
            issuance_id=7, kind="resident_record_copy", channel="counter", requester_type="self"
        ),
    ]
    for event in samples:
        assert event.name.startswith("registry.") and event.version == 1
        back = from_payload(event.name, event.version, event.event_id, event.to_payload())
        assert back == event
