"""Pure rules of the resident registry. No I/O, no clock: every date a rule needs is an
argument, so services pass ``uow.clock.business_date()`` and tests pass fixed dates.

Sources and abbreviations used in the citations below:

- 法 / 住基法: 住民基本台帳法 (昭和42年法律第81号).
- 令 / 住基令: 住民基本台帳法施行令 (昭和42年政令第292号).
- 規則: 住民基本台帳法施行規則 (平成11年自治省令第35号).
- 民法: 民法 (明治29年法律第89号) 第140条〜第143条 (counting periods).
- 地自法: 地方自治法 (昭和22年法律第67号) 第4条の2 第4項 (deadlines on office holidays).
- 標準仕様: 住民記録システム標準仕様書 as digested in ``shared/spec/standard-spec.md``
  (section numbers of that digest, with the S1 file where it gives one).
- REG-CTRL-nn / OQ-nn: requirement and open-question ids of ``shared/spec/registry.md``.

Each rule raises ``DomainError(RegistryError.X, MESSAGES[X], field=...)``; no message carries
a personal value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from machi.core import calendar
from machi.core.errors import DomainError
from machi.core.numbers import is_valid_individual_number
from machi.registry.errors import MESSAGES, RegistryError

__all__ = [
    "ADDRESSEE_NO_MAX_DIGITS",
    "ADDRESS_FIELDS",
    "BOOKKEEPING_FIELDS",
    "CARD_BASED_MOVE_IN_DAYS_FROM_PLANNED_MOVE_OUT",
    "FIELD_LABELS",
    "HOUSEHOLD_PLACEMENT_FIELDS",
    "INDEFINITE_RESIDENCE_STATUSES",
    "MAX_RELATIONSHIP_LINKS",
    "NOTICE_PERIOD_DAYS",
    "REMOVED_RECORD_RETENTION_YEARS",
    "REQUESTER_BASES",
    "REQUEST_ACTIONS",
    "ApplicantKind",
    "ApprovalStatus",
    "ApprovedUse",
    "BrowsingBasis",
    "BrowsingScope",
    "ChangeReason",
    "ForeignResidentClass",
    "HouseholdMember",
    "Identification",
    "IdentityDocument",
    "IssuanceChannel",
    "LegalBasis",
    "MoveOutNoticeTiming",
    "NoticeKind",
    "Origin",
    "ProtectedUse",
    "ProtectionDecision",
    "ProtectionMeasureFacts",
    "ProtectionOutcome",
    "ProtectionRequest",
    "ProtectionWarning",
    "RecordClass",
    "Relationship",
    "RequesterType",
    "addressee_no_check_digit",
    "addressee_no_from_serial",
    "card_based_move_in_deadline",
    "changed_fields",
    "check_approval_use",
    "check_approver",
    "check_birth_date",
    "check_browsing_request",
    "check_card_based_move_in",
    "check_change_dates",
    "check_draft_verified",
    "check_foreign_resident_items",
    "check_household",
    "check_household_split",
    "check_identification",
    "check_individual_number",
    "check_items_for_nationality",
    "check_legal_basis",
    "check_matches_certificate",
    "check_move_in",
    "check_move_out_notice",
    "check_move_within",
    "check_not_protected",
    "check_pending",
    "check_protection_period",
    "check_quotation_checked",
    "check_relationship",
    "check_removed_record_disposable",
    "check_resident_record_code",
    "check_within_lifetime",
    "identification_detail",
    "in_browsing_scope",
    "in_force",
    "is_issuable_serial",
    "is_late_notice",
    "is_valid_addressee_no",
    "is_valid_residence_card_no",
    "is_valid_resident_record_code",
    "move_out_notice_timing",
    "needs_approval",
    "notice_deadline",
    "parse_relationship",
    "protection_decision",
    "protection_extension_opens_on",
    "protection_period_end",
    "relationship_for_chain",
    "relationship_label",
    "removed_record_expires_on",
    "successor_when_head_leaves",
]


def _fail(code: RegistryError, field: str | None = None, detail: str | None = None) -> DomainError:
    message = MESSAGES[code] if detail is None else f"{MESSAGES[code]}（{detail}）"
    return DomainError(code, message, field=field)


# =======================================================================================
# Counting periods (民法 第140条・第143条, 地自法 第4条の2 第4項)
# =======================================================================================


def _add_years(start: date, years: int) -> date:
    """The day corresponding to ``start`` ``years`` later; 29 February without a
    corresponding day becomes 28 February (民法 第143条第2項ただし書: the period ends on the
    last day of that month)."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February → a year without it
        return date(start.year + years, 2, 28)


def _add_months(d: date, months: int) -> date:
    """Same day ``months`` later (or earlier), clamped to the month's last day."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def _period_end_in_days(event_on: date, days: int) -> date:
    """Last day of a period of ``days`` days counted from an event that happened during
    ``event_on``: the first day is not counted (民法 第140条 本文, 初日不算入, because a move
    or a birth does not start at midnight), so the period is event_on+1 … event_on+days and
    ends at the end of event_on+days (民法 第141条)."""
    return event_on + timedelta(days=days)


def _office_deadline(last_day: date) -> date:
    """A deadline for a 届出 to the municipality that falls on an office holiday moves to the
    next office day (地自法 第4条の2 第4項; the holidays are those of machi.core.calendar).
    Outside the calendar's range (before 1992-05-01, after 2099) the day is kept as it is:
    holidays are not known there, and keeping the earlier day only ever flags more notices
    as late for staff to look at, never fewer."""
    if calendar.EARLIEST_DATE <= last_day <= calendar.LATEST_DATE:
        return calendar.next_business_day(last_day)
    return last_day


# =======================================================================================
# 異動事由 (change reasons)
# =======================================================================================


class RecordClass(StrEnum):
    """The three classes every 異動事由 must map to (標準仕様 §3.6, S1 j210)."""

    ENTRY = "entry"  # 記載: a record is created
    REMOVAL = "removal"  # 消除: a record is deleted (becomes a 除票)
    CHANGE = "change"  # 修正: a record is changed


class Origin(StrEnum):
    """Who starts the change: a resident's 届出, a 申出/請求, or staff ex officio (職権,
    incl. 戸籍 notices under 法第9条第2項)."""

    NOTIFICATION = "notification"
    REQUEST = "request"
    EX_OFFICIO = "ex_officio"


class NoticeKind(StrEnum):
    """What the date in ``notified_on`` is (標準仕様 §5.3: each row carries 届出日 / 申出日 /
    請求日 / 通知日; the standard lets them share one column, §2.4 j570)."""

    NOTIFICATION = "notification"  # 届出日
    REQUEST = "request"  # 申出日 (通称, 職権記載の申出)
    CLAIM = "claim"  # 請求日 (旧氏, 個人番号・住民票コードの変更請求)
    NOTICE = "notice"  # 通知日 (戸籍届出・通知, 入管庁通知, 転入通知)


class ChangeReason(StrEnum):
    """異動事由. The standard's numeric codes were not found (標準仕様 §3.6, §6 item 2), so
    these are Machi's own codes; each maps to one class of the standard's classification
    (``standard_class``) and to 記載/消除/修正 (``record_class``), both ways as §3.6 asks.
    The database checks ``registry.resident_version.change_reason`` against this list."""

    # 記載
    DOMESTIC_MOVE_IN = "domestic_move_in"
    CARD_BASED_MOVE_IN = "card_based_move_in"
    MOVE_IN_FROM_ABROAD = "move_in_from_abroad"
    FOREIGN_RESIDENT_ENTRY = "foreign_resident_entry"
    BIRTH = "birth"
    EX_OFFICIO_ENTRY_NATURALIZATION = "ex_officio_entry_naturalization"
    EX_OFFICIO_ENTRY_NATIONALITY_LOSS = "ex_officio_entry_nationality_loss"
    EX_OFFICIO_ENTRY = "ex_officio_entry"
    RECREATION_ENTRY = "recreation_entry"
    REPRODUCTION_ENTRY = "reproduction_entry"
    CANCELLATION_INCREASE = "cancellation_increase"
    # 消除
    DOMESTIC_MOVE_OUT = "domestic_move_out"
    CARD_BASED_MOVE_OUT = "card_based_move_out"
    MOVE_OUT_ABROAD = "move_out_abroad"
    DEATH = "death"
    EX_OFFICIO_DELETION_NATURALIZATION = "ex_officio_deletion_naturalization"
    EX_OFFICIO_DELETION_NATIONALITY_LOSS = "ex_officio_deletion_nationality_loss"
    EX_OFFICIO_DELETION = "ex_officio_deletion"
    RECREATION_REMOVAL = "recreation_removal"
    REPRODUCTION_REMOVAL = "reproduction_removal"
    CANCELLATION_DECREASE = "cancellation_decrease"
    # 修正
    MOVE_WITHIN = "move_within"
    MOVE_OUT_CONFIRMATION = "move_out_confirmation"
    MINOR_CORRECTION = "minor_correction"
    EX_OFFICIO_CORRECTION = "ex_officio_correction"
    CLERICAL_ERROR_CORRECTION = "clerical_error_correction"
    INDIVIDUAL_NUMBER_CHANGE = "individual_number_change"
    RESIDENT_RECORD_CODE_CHANGE = "resident_record_code_change"
    HOUSEHOLD_SPLIT = "household_split"
    HOUSEHOLD_MERGE = "household_merge"
    HOUSEHOLD_CHANGE = "household_change"
    HOUSEHOLD_HEAD_CHANGE = "household_head_change"
    FORMER_SURNAME_ENTRY = "former_surname_entry"
    FORMER_SURNAME_CHANGE = "former_surname_change"
    FORMER_SURNAME_DELETION = "former_surname_deletion"
    ALIAS_NAME_ENTRY = "alias_name_entry"
    ALIAS_NAME_DELETION = "alias_name_deletion"
    CANCELLATION_CORRECTION = "cancellation_correction"

    @property
    def label(self) -> str:
        """Japanese name shown to staff and printed in the 異動履歴."""
        return _REASONS[self].label

    @property
    def record_class(self) -> RecordClass:
        return _REASONS[self].record_class

    @property
    def standard_class(self) -> str:
        """The class of the standard's table (標準仕様 §3.6) this code maps to."""
        return _REASONS[self].standard_class

    @property
    def origin(self) -> Origin:
        return _REASONS[self].origin

    @property
    def is_move_out(self) -> bool:
        """転出: notified in advance (法第24条), so 異動日 may follow 届出日."""
        return self in _MOVE_OUTS


@dataclass(frozen=True, slots=True)
class _Reason:
    label: str
    record_class: RecordClass
    standard_class: str
    origin: Origin


_E, _R, _C = RecordClass.ENTRY, RecordClass.REMOVAL, RecordClass.CHANGE
_N, _Q, _X = Origin.NOTIFICATION, Origin.REQUEST, Origin.EX_OFFICIO

_REASONS: dict[ChangeReason, _Reason] = {
    # 法第22条 転入届; 特例転入 (法第24条の2) is a 国内転入 (標準仕様 §3.6).
    ChangeReason.DOMESTIC_MOVE_IN: _Reason("転入", _E, "国内転入", _N),
    ChangeReason.CARD_BASED_MOVE_IN: _Reason("転入（特例）", _E, "国内転入", _N),
    ChangeReason.MOVE_IN_FROM_ABROAD: _Reason("国外からの転入", _E, "国外転入等", _N),
    # 法第30条の46 (中長期在留者等が国外から転入) / 第30条の47 (住民が中長期在留者等となった);
    # entered like a 国外転入 (標準仕様 §2.4, 4.5).
    ChangeReason.FOREIGN_RESIDENT_ENTRY: _Reason("外国人住民の住所設定", _E, "国外転入等", _N),
    # 出生 is entered ex officio on the 戸籍 notice (法第8条, 第9条第2項; 標準仕様 §2.4 j810).
    ChangeReason.BIRTH: _Reason("出生", _E, "出生", _X),
    ChangeReason.EX_OFFICIO_ENTRY_NATURALIZATION: _Reason(
        "職権記載（帰化等）", _E, "職権記載（帰化等）", _X
    ),
    ChangeReason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS: _Reason(
        "職権記載（国籍喪失）", _E, "職権記載（国籍喪失）", _X
    ),
    ChangeReason.EX_OFFICIO_ENTRY: _Reason("職権記載", _E, "職権記載", _X),
    ChangeReason.RECREATION_ENTRY: _Reason("改製", _E, "改製", _X),
    ChangeReason.REPRODUCTION_ENTRY: _Reason("再製", _E, "再製", _X),
    ChangeReason.CANCELLATION_INCREASE: _Reason("異動の取消し（増）", _E, "異動の取消し（増）", _X),
    # 法第24条 転出届.
    ChangeReason.DOMESTIC_MOVE_OUT: _Reason("転出", _R, "国内転出", _N),
    ChangeReason.CARD_BASED_MOVE_OUT: _Reason("転出（特例）", _R, "国内転出", _N),
    ChangeReason.MOVE_OUT_ABROAD: _Reason("国外への転出", _R, "国外転出", _N),
    ChangeReason.DEATH: _Reason("死亡", _R, "死亡", _X),
    ChangeReason.EX_OFFICIO_DELETION_NATURALIZATION: _Reason(
        "職権消除（帰化等）", _R, "職権消除（帰化等）", _X
    ),
    ChangeReason.EX_OFFICIO_DELETION_NATIONALITY_LOSS: _Reason(
        "職権消除（国籍喪失）", _R, "職権消除（国籍喪失）", _X
    ),
    # 失踪宣告 is a 職権消除 (標準仕様 §3.6).
    ChangeReason.EX_OFFICIO_DELETION: _Reason("職権消除", _R, "職権消除", _X),
    ChangeReason.RECREATION_REMOVAL: _Reason("改製", _R, "改製", _X),
    ChangeReason.REPRODUCTION_REMOVAL: _Reason("再製", _R, "再製", _X),
    ChangeReason.CANCELLATION_DECREASE: _Reason("異動の取消し（減）", _R, "異動の取消し（減）", _X),
    # 法第23条 転居届.
    ChangeReason.MOVE_WITHIN: _Reason("転居", _C, "転居", _N),
    # 転入通知 (法第9条第1項) received: fixes 転出先(確定) and the 転出日 on the 除票 without
    # overwriting the planned ones (標準仕様 §2.4 j680). Not a class of its own in §3.6.
    ChangeReason.MOVE_OUT_CONFIRMATION: _Reason("転入通知受理", _C, "職権修正", _X),
    # 規則第11条第3項第2号 (標準仕様 §2.4 j850).
    ChangeReason.MINOR_CORRECTION: _Reason("軽微な修正", _C, "軽微な修正", _X),
    ChangeReason.EX_OFFICIO_CORRECTION: _Reason("職権修正", _C, "職権修正", _X),
    ChangeReason.CLERICAL_ERROR_CORRECTION: _Reason("誤記修正", _C, "誤記修正", _X),
    ChangeReason.INDIVIDUAL_NUMBER_CHANGE: _Reason(
        "個人番号の変更", _C, "個人番号の変更請求 / 職権修正 / 職権記載", _Q
    ),
    ChangeReason.RESIDENT_RECORD_CODE_CHANGE: _Reason(
        "住民票コードの変更", _C, "住民票コードの変更請求 / 職権記載", _Q
    ),
    # 法第25条 世帯変更届.
    ChangeReason.HOUSEHOLD_SPLIT: _Reason("世帯分離", _C, "世帯分離", _N),
    ChangeReason.HOUSEHOLD_MERGE: _Reason("世帯合併", _C, "世帯合併", _N),
    ChangeReason.HOUSEHOLD_CHANGE: _Reason("世帯変更", _C, "世帯変更", _N),
    ChangeReason.HOUSEHOLD_HEAD_CHANGE: _Reason("世帯主変更", _C, "世帯主変更", _N),
    # 旧氏: 請求 (令第30条の13以下); 通称: 申出 (令第30条の26).
    ChangeReason.FORMER_SURNAME_ENTRY: _Reason("旧氏の記載", _C, "旧氏の記載", _Q),
    ChangeReason.FORMER_SURNAME_CHANGE: _Reason("旧氏の変更", _C, "旧氏の変更", _Q),
    ChangeReason.FORMER_SURNAME_DELETION: _Reason("旧氏の削除", _C, "旧氏の削除", _Q),
    ChangeReason.ALIAS_NAME_ENTRY: _Reason("通称の記載", _C, "通称の記載", _Q),
    ChangeReason.ALIAS_NAME_DELETION: _Reason("通称の削除", _C, "通称の削除", _Q),
    ChangeReason.CANCELLATION_CORRECTION: _Reason(
        "異動の取消し（修正）", _C, "異動の取消し（修正）", _X
    ),
}

_MOVE_OUTS = frozenset(
    {ChangeReason.DOMESTIC_MOVE_OUT, ChangeReason.CARD_BASED_MOVE_OUT, ChangeReason.MOVE_OUT_ABROAD}
)
_MOVE_INS = frozenset(
    {
        ChangeReason.DOMESTIC_MOVE_IN,
        ChangeReason.CARD_BASED_MOVE_IN,
        ChangeReason.MOVE_IN_FROM_ABROAD,
        ChangeReason.FOREIGN_RESIDENT_ENTRY,
    }
)
# Changes that correct the record rather than record a new fact: they may concern a
# record already removed by death (the 除票 is corrected, 標準仕様 §2.1 j50, §2.4 j860/j980).
_CORRECTIONS = frozenset(
    {
        ChangeReason.MINOR_CORRECTION,
        ChangeReason.EX_OFFICIO_CORRECTION,
        ChangeReason.CLERICAL_ERROR_CORRECTION,
        ChangeReason.CANCELLATION_INCREASE,
        ChangeReason.CANCELLATION_DECREASE,
        ChangeReason.CANCELLATION_CORRECTION,
        ChangeReason.RECREATION_ENTRY,
        ChangeReason.RECREATION_REMOVAL,
        ChangeReason.REPRODUCTION_ENTRY,
        ChangeReason.REPRODUCTION_REMOVAL,
    }
)


# =======================================================================================
# Notice periods and late notices (法 第22条〜第25条, 第30条の46, 第30条の47)
# =======================================================================================

NOTICE_PERIOD_DAYS = 14
"""「…をした日から十四日以内に」: 法第22条 (転入), 第23条 (転居), 第25条 (世帯変更), 第30条の46
(住所を定めた日から), 第30条の47 (中長期在留者等となった日から)."""

_FOURTEEN_DAY_NOTICES = _MOVE_INS | {
    ChangeReason.MOVE_WITHIN,
    ChangeReason.HOUSEHOLD_SPLIT,
    ChangeReason.HOUSEHOLD_MERGE,
    ChangeReason.HOUSEHOLD_CHANGE,
    ChangeReason.HOUSEHOLD_HEAD_CHANGE,
}


def notice_deadline(reason: ChangeReason, effective_on: date) -> date | None:
    """The last day on which the 届出 for a change on ``effective_on`` is in time, or None
    when the law sets no period after the event (職権 changes; 転出, which is notified in
    advance, 法第24条: see ``move_out_notice_timing``).

    Counting, for the 14-day notices: the day of the move is not counted (民法 第140条), so
    the period is the 14 days after it and ends at the end of ``effective_on + 14 days``;
    if that day is an office holiday (土日, 祝日, 12/29〜1/3) the deadline is the next office
    day (地自法 第4条の2 第4項).

    Worked examples (calendar of 2026):
    - 転入 on Mon 2 Nov → days 3 Nov … 16 Nov → deadline Mon 16 Nov (17 Nov is late);
    - 転入 on Sun 1 Nov → 15 Nov is a Sunday → deadline Mon 16 Nov;
    - 転居 on Thu 17 Dec → 31 Dec is in the year-end closure → deadline Mon 4 Jan 2027;
    - 転入 on Sun 19 Apr → 3 May 憲法記念日, then 4–6 May (みどりの日, こどもの日, 振替休日)
      → deadline Thu 7 May.
    """
    if reason not in _FOURTEEN_DAY_NOTICES:
        return None
    return _office_deadline(_period_end_in_days(effective_on, NOTICE_PERIOD_DAYS))


def is_late_notice(reason: ChangeReason, effective_on: date, notified_on: date) -> bool:
    """True when a 届出 came after its period (法第22条・第23条・第25条・第30条の46・第30条の47;
    counting as in ``notice_deadline``), or when a 転出届 came after the move although 法第24条
    asks for it in advance (あらかじめ). A late notice is still recorded; the flag feeds the
    届出期間経過 report (OQ-01) and, under 法第52条第2項, the 簡易裁判所 notice (過料)."""
    if reason.is_move_out:
        return notified_on > effective_on
    deadline = notice_deadline(reason, effective_on)
    return deadline is not None and notified_on > deadline


class MoveOutNoticeTiming(StrEnum):
    IN_ADVANCE = "in_advance"  # 法第24条: あらかじめ — on or before the planned date
    AFTER_MOVE = "after_move"  # accepted, but late (標準仕様 §2.4 j640: 異動日 < 届出日 allowed)
    TOO_LATE = "too_late"  # more than 14 days after: 職権消除 instead (標準仕様 §2.4 j640)


def move_out_notice_timing(moved_out_on: date, notified_on: date) -> MoveOutNoticeTiming:
    """Where a 転出届 falls. 法第24条 wants it あらかじめ (the planned date may be today). The
    standard accepts one made after the move and records one made more than 14 days after
    the move ex officio instead (標準仕様 §2.4 j640); the 14 days are counted like the
    other notice periods (民法 第140条, 地自法 第4条の2 第4項).

    Example: moved out on Mon 2 Nov 2026 → notice on 2 Nov is IN_ADVANCE, on 16 Nov
    AFTER_MOVE, on 17 Nov TOO_LATE."""
    if notified_on <= moved_out_on:
        return MoveOutNoticeTiming.IN_ADVANCE
    limit = _office_deadline(_period_end_in_days(moved_out_on, NOTICE_PERIOD_DAYS))
    if notified_on <= limit:
        return MoveOutNoticeTiming.AFTER_MOVE
    return MoveOutNoticeTiming.TOO_LATE


def check_move_out_notice(moved_out_on: date, notified_on: date) -> None:
    """Refuse a 転出届 that must be handled as 職権消除 (see ``move_out_notice_timing``)."""
    if move_out_notice_timing(moved_out_on, notified_on) is MoveOutNoticeTiming.TOO_LATE:
        raise _fail(RegistryError.MOVE_OUT_NOTICE_TOO_LATE, "notified_on")


CARD_BASED_MOVE_IN_DAYS_FROM_PLANNED_MOVE_OUT = 30


def card_based_move_in_deadline(planned_move_out_on: date, moved_in_on: date) -> date:
    """Last day for a 転入届の特例 (card-based move-in, 法第24条の2): the earlier of the
    ordinary 転入 deadline (14 days after the move-in, 法第22条) and 30 days after the
    planned move-out date given on the 転出届. The 30-day limit is what municipalities
    publish (e.g. 掛川市・三木町「転入届の特例」: 転出予定日から30日以内かつ転入した日から14日
    以内); its article was not confirmed (registry.md OQ-08), so it is counted like the
    14 days (初日不算入, office holidays moved)."""
    ordinary = _office_deadline(_period_end_in_days(moved_in_on, NOTICE_PERIOD_DAYS))
    from_planned = _office_deadline(
        _period_end_in_days(planned_move_out_on, CARD_BASED_MOVE_IN_DAYS_FROM_PLANNED_MOVE_OUT)
    )
    return min(ordinary, from_planned)


def check_card_based_move_in(
    planned_move_out_on: date, moved_in_on: date, notified_on: date
) -> None:
    """After the deadline the 特例 is lost and a paper 転出証明書 is needed (OQ-08)."""
    if notified_on > card_based_move_in_deadline(planned_move_out_on, moved_in_on):
        raise _fail(RegistryError.CARD_BASED_MOVE_IN_EXPIRED, "notified_on")


# =======================================================================================
# Dates of a change (異動日 ≤ 届出日 ≤ 処理日; no change outside a lifetime)
# =======================================================================================


def check_change_dates(
    reason: ChangeReason, effective_on: date, notified_on: date | None, today: date
) -> None:
    """Dates every change must satisfy.

    - A 届出 needs its 届出日 (法第22条〜第25条 are duties to notify; the row records when).
    - 届出日 ≤ 処理日 (today): it defaults to today and cannot lie ahead (標準仕様 §2.4 j570).
    - 異動日 ≤ today except for 転出, notified in advance (標準仕様 §2.4 common rules j460–j550).
    - 異動日 ≤ 届出日 except for 転出: 転入・転居・世帯変更 are notified by a person who
      "has moved" (法第22条「転入をした者は」, 第23条, 第25条), so the event comes first.
    """
    if reason.origin is Origin.NOTIFICATION and notified_on is None:
        raise _fail(RegistryError.NOTIFIED_ON_REQUIRED, "notified_on")
    if notified_on is not None and notified_on > today:
        raise _fail(RegistryError.NOTIFIED_ON_IN_FUTURE, "notified_on")
    if reason.is_move_out:
        return
    if effective_on > today:
        raise _fail(RegistryError.EFFECTIVE_ON_IN_FUTURE, "effective_on")
    if notified_on is not None and effective_on > notified_on:
        raise _fail(RegistryError.EFFECTIVE_ON_AFTER_NOTIFIED_ON, "effective_on")


def check_birth_date(birth_date: date, today: date) -> None:
    """生年月日 is never in the future (標準仕様 §3.3: never blank; §3.4: real or 不詳 dates,
    kept as a sortable date here)."""
    if birth_date > today:
        raise _fail(RegistryError.BIRTH_DATE_IN_FUTURE, "birth_date")


def check_within_lifetime(
    reason: ChangeReason, effective_on: date, birth_date: date, died_on: date | None
) -> None:
    """No change before birth, and none after death except corrections of the record
    itself (the 除票 of a deceased person is corrected, never re-lived: 標準仕様 §2.4 j860,
    j980). The death itself is on ``died_on`` and passes."""
    if effective_on < birth_date:
        raise _fail(RegistryError.EFFECTIVE_ON_BEFORE_BIRTH, "effective_on")
    if died_on is not None and effective_on > died_on and reason not in _CORRECTIONS:
        raise _fail(RegistryError.EFFECTIVE_ON_AFTER_DEATH, "effective_on")


# =======================================================================================
# 転入 / 転居 facts
# =======================================================================================


def check_move_in(reason: ChangeReason, *, already_resident: bool) -> None:
    """A 転入 (or 国外転入 / 法第30条の46) of a person who already has a live record here is
    refused: the same logic check 住基ネット's CS makes (REG-CTRL-17; seed 000/004 §III(2) 5
    リスク3). The caller states the fact (a live record matched by 住民票コード, 個人番号 or
    在留カード番号, 標準仕様 §2.4 j600)."""
    if reason in _MOVE_INS and already_resident:
        raise _fail(RegistryError.ALREADY_RESIDENT)


ADDRESS_FIELDS = frozenset({"address_id", "building", "address_set_on"})
"""住所 items a 転居 changes: the lot, the 方書 and the 住所を定めた年月日 (法第7条第7号)."""

HOUSEHOLD_PLACEMENT_FIELDS = frozenset({"household_id", "relationship", "display_order"})
"""A 転居 may also place the person in another 世帯 (a new one, or joining one at the new
address) and so set 続柄 and order there (標準仕様 §2.4 4.0: after the change the person forms
a new household or joins an existing one)."""

BOOKKEEPING_FIELDS = frozenset(
    {
        "id",
        "resident_id",
        "history_no",
        "valid_from",
        "valid_to",
        "notified_on",
        "notice_kind",
        "recorded_at",
        "recorded_by",
        "superseded_at",
        "closed_at",
        "change_reason",
        "approval_id",
    }
)
"""Columns of a history row that describe the change, not the person."""

FIELD_LABELS: dict[str, str] = {
    "name": "氏名",
    "name_kana": "氏名フリガナ",
    "former_surname": "旧氏",
    "former_surname_kana": "旧氏フリガナ",
    "alias_name": "通称",
    "alias_name_kana": "通称フリガナ",
    "alphabet_name": "氏名（アルファベット）",
    "birth_date": "生年月日",
    "sex": "性別",
    "relationship": "続柄",
    "household_id": "世帯",
    "display_order": "表示順位",
    "address_id": "住所",
    "building": "方書",
    "address_set_on": "住所を定めた年月日",
    "became_resident_on": "住民となった年月日",
    "registered_domicile": "本籍",
    "family_register_head": "筆頭者",
    "nationality": "国籍・地域",
    "foreign_resident_class": "法第30条の45に規定する区分",
    "residence_status": "在留資格",
    "residence_period": "在留期間等",
    "residence_expires_on": "在留期間等の満了の日",
    "residence_card_no": "在留カード等の番号",
    "resident_record_code": "住民票コード",
}


def changed_fields(
    before: Mapping[str, object],
    after: Mapping[str, object],
    *,
    ignore: Collection[str] = BOOKKEEPING_FIELDS,
) -> tuple[str, ...]:
    """Names (sorted) of the items whose values differ between two record states; a key
    present on one side only counts as changed. Values are compared, never returned."""
    keys = (before.keys() | after.keys()) - set(ignore)
    return tuple(sorted(k for k in keys if before.get(k) != after.get(k)))


def check_move_within(before: Mapping[str, object], after: Mapping[str, object]) -> None:
    """A 転居 changes only the address (and where the person sits in a household): the CS
    refuses a 転居 update that changes anything else (REG-CTRL-18; seed 000/004 §III(2) 5
    リスク3), so a name change made at the same counter visit is a separate 職権修正.
    A 転居 must change the address; another dwelling on the same lot (方書) counts
    (標準仕様 §2.4 j630)."""
    changed = changed_fields(before, after)
    others = [f for f in changed if f not in ADDRESS_FIELDS | HOUSEHOLD_PLACEMENT_FIELDS]
    if others:
        labels = "、".join(FIELD_LABELS.get(f, f) for f in others)
        raise _fail(RegistryError.MOVE_WITHIN_CHANGES_OTHER_ITEMS, others[0], labels)
    if "address_id" not in changed and "building" not in changed:
        raise _fail(RegistryError.MOVE_WITHIN_ADDRESS_UNCHANGED, "address_id")


# =======================================================================================
# Numbers
# =======================================================================================


def is_valid_resident_record_code(s: object) -> bool:
    """住民票コード: 11 ASCII digits. 規則 第1条 makes it 10 random digits plus one 検査数字
    computed by the 算式 the Minister sets — 平成14年総務省告示第436号 (官報 平成14年7月25日),
    cited by secondary sources. The text of that 算式 was not found (searched: e-Gov copies,
    municipal pages, the standard), and unlike the 個人番号's it is not repeated in any
    source we could read, so the check digit is NOT verified here: only the form. Codes come
    from the CS pool (標準仕様 §2.4 4.3) and 住基ネット verifies them anyway (OQ-04)."""
    return isinstance(s, str) and len(s) == 11 and s.isascii() and s.isdigit()


def check_resident_record_code(s: str) -> None:
    if not is_valid_resident_record_code(s):
        raise _fail(RegistryError.INVALID_RESIDENT_RECORD_CODE, "resident_record_code")


def check_matches_certificate(presented: str, on_certificate: str | None) -> None:
    """A 転入 that brings the 個人番号 over: the number presented (card, 通知) must be the one
    on the 転出証明書 (REG-CTRL-07; seed 004 §II(1) 3⑧①). Neither reaches the message."""
    if on_certificate is not None and on_certificate != presented:
        raise _fail(RegistryError.NUMBER_DIFFERS_FROM_CERTIFICATE, "certificate_number")


def check_individual_number(s: str) -> None:
    """個人番号: 12 digits with the check digit of 個人番号カード省令 第5条 (machi.core.numbers;
    REG-CTRL-23). The number itself never reaches the message."""
    if not is_valid_individual_number(s):
        raise _fail(RegistryError.INVALID_INDIVIDUAL_NUMBER, "individual_number")


_M11_WEIGHTS = (2, 3, 4, 5, 6, 7)
ADDRESSEE_NO_MAX_DIGITS = 15


def _m11w27_remainder(serial: int) -> int:
    total = 0
    for i, ch in enumerate(reversed(str(serial))):
        total += int(ch) * _M11_WEIGHTS[i % len(_M11_WEIGHTS)]
    return total % 11


def is_issuable_serial(serial: int) -> bool:
    """True when a serial can carry an M11W2〜7 check digit. 標準仕様 §3.5 numbers 宛名番号
    and 世帯番号 as a serial plus one check digit, modulus 11 with weights 2–7 from the right,
    check = 11 − remainder, remainder 0 → 0; remainder 1 (check "10") is not stated there.
    Decision: such serials are skipped, never issued, so every issued number has exactly one
    valid check digit and single-digit errors stay detectable (0 for remainder 1 would make
    two remainders share a digit)."""
    return serial > 0 and _m11w27_remainder(serial) != 1


def addressee_no_check_digit(serial: int) -> int:
    """M11W2〜7 check digit of ``serial`` (see ``is_issuable_serial``); ValueError for a
    serial that is skipped."""
    if serial <= 0:
        raise ValueError("連番は1以上です")
    remainder = _m11w27_remainder(serial)
    if remainder == 1:
        raise ValueError("この連番は検査数字が定まらないため払い出しません")
    return 0 if remainder == 0 else 11 - remainder


def addressee_no_from_serial(serial: int) -> int:
    """宛名番号 (or 世帯番号) = serial followed by its check digit, at most 15 digits (the
    registry's column is a bigint; printed zero-padded to 15)."""
    number = serial * 10 + addressee_no_check_digit(serial)
    if number >= 10**ADDRESSEE_NO_MAX_DIGITS:
        raise ValueError("宛名番号は15桁までです")
    return number


def is_valid_addressee_no(number: int) -> bool:
    """True for a number made by ``addressee_no_from_serial``. Numbers migrated from an
    older system keep their own form (標準仕様 §3.5: existing numbers are not renumbered), so
    services call this only for numbers issued by Machi."""
    if not 10 <= number < 10**ADDRESSEE_NO_MAX_DIGITS:
        return False
    serial, digit = divmod(number, 10)
    return is_issuable_serial(serial) and addressee_no_check_digit(serial) == digit


_RESIDENCE_CARD_NO = re.compile(r"[A-Z]{2}[0-9]{8}[A-Z]{2}")


def is_valid_residence_card_no(s: object) -> bool:
    """在留カード等の番号 (在留カード or 特別永住者証明書): 12 characters, two capital letters,
    eight digits, two capital letters, as printed top right of the card and entered in
    出入国在留管理庁「在留カード等番号失効情報照会」. No check digit is published."""
    return isinstance(s, str) and s.isascii() and _RESIDENCE_CARD_NO.fullmatch(s) is not None


# =======================================================================================
# 続柄 (標準仕様 §3.7, S1 j110)
# =======================================================================================


class Relationship(StrEnum):
    """The terms of 標準仕様 §3.7: ① 世帯主; ② the kin terms, which may be chained with 「の」;
    ④ 縁故者; ⑤ 同居人. Anything else (祖父, 孫, おじ, 準世帯主 …) is not allowed (X)."""

    HEAD = "head"
    HUSBAND = "husband"
    WIFE = "wife"
    HUSBAND_UNREGISTERED = "husband_unregistered"
    WIFE_UNREGISTERED = "wife_unregistered"
    CHILD = "child"
    CHILD_AND_CHILD_HUSBAND = "child_and_child_husband"
    CHILD_AND_CHILD_WIFE = "child_and_child_wife"
    FATHER = "father"
    MOTHER = "mother"
    ELDER_BROTHER = "elder_brother"
    ELDER_SISTER = "elder_sister"
    YOUNGER_BROTHER = "younger_brother"
    YOUNGER_SISTER = "younger_sister"
    KIN = "kin"
    COHABITANT = "cohabitant"

    @property
    def label(self) -> str:
        return _RELATIONSHIP_LABELS[self]


_RELATIONSHIP_LABELS: dict[Relationship, str] = {
    Relationship.HEAD: "世帯主",
    Relationship.HUSBAND: "夫",
    Relationship.WIFE: "妻",
    Relationship.HUSBAND_UNREGISTERED: "夫（未届）",
    Relationship.WIFE_UNREGISTERED: "妻（未届）",
    Relationship.CHILD: "子",
    Relationship.CHILD_AND_CHILD_HUSBAND: "子（子の夫）",
    Relationship.CHILD_AND_CHILD_WIFE: "子（子の妻）",
    Relationship.FATHER: "父",
    Relationship.MOTHER: "母",
    Relationship.ELDER_BROTHER: "兄",
    Relationship.ELDER_SISTER: "姉",
    Relationship.YOUNGER_BROTHER: "弟",
    Relationship.YOUNGER_SISTER: "妹",
    Relationship.KIN: "縁故者",
    Relationship.COHABITANT: "同居人",
}
_STANDALONE = frozenset({Relationship.HEAD, Relationship.KIN, Relationship.COHABITANT})
_CHAINABLE = frozenset(Relationship) - _STANDALONE
_BY_LABEL = {label: rel for rel, label in _RELATIONSHIP_LABELS.items()}
# Longest first, so that 「夫（未届）」 beats 「夫」 and 「子（子の妻）」 beats 「子」 in parsing.
_LABELS_LONGEST_FIRST = sorted(_BY_LABEL, key=len, reverse=True)

MAX_RELATIONSHIP_LINKS = 4
"""Up to 4 kin terms joined by 「の」 (例 子の子の子の子); 5 or more → 縁故者 (標準仕様 §3.7)."""

_CHAIN_SEPARATOR = "."


def relationship_for_chain(terms: Sequence[Relationship]) -> str:
    """Code for a chain of kin terms read from the head outwards (子, 妻 → 子の妻 →
    ``"child.wife"``); 5 or more terms become 縁故者 as 標準仕様 §3.7 prescribes. A single
    standalone term (世帯主, 縁故者, 同居人) is returned as is."""
    if not terms:
        raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")
    if len(terms) == 1 and terms[0] in _STANDALONE:
        return terms[0].value
    if any(t not in _CHAINABLE for t in terms):
        raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")
    if len(terms) > MAX_RELATIONSHIP_LINKS:
        return Relationship.KIN.value
    return _CHAIN_SEPARATOR.join(t.value for t in terms)


def _terms(code: str) -> list[Relationship] | None:
    parts = code.split(_CHAIN_SEPARATOR)
    try:
        terms = [Relationship(p) for p in parts]
    except ValueError:
        return None
    if len(terms) == 1:
        return terms
    if len(terms) > MAX_RELATIONSHIP_LINKS or any(t not in _CHAINABLE for t in terms):
        return None
    return terms


def check_relationship(code: str) -> None:
    """A 続柄 code is one standalone term or a chain of 1–4 kin terms (標準仕様 §3.7)."""
    if not isinstance(code, str) or _terms(code) is None:
        raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")


def relationship_label(code: str) -> str:
    """The printed 続柄 (``"child.wife"`` → 「子の妻」)."""
    terms = _terms(code)
    if terms is None:
        raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")
    return "の".join(t.label for t in terms)


def parse_relationship(label: str) -> str:
    """Code of a printed 続柄 (「子の妻」 → ``"child.wife"``), for imports from legacy
    systems that store the text. Half-width brackets are accepted. A chain of 5 or more
    terms comes back as 縁故者 (標準仕様 §3.7)."""
    text = label.strip().replace("(", "（").replace(")", "）")
    terms: list[Relationship] = []
    pos = 0
    while pos < len(text):
        if terms:
            if not text.startswith("の", pos):
                raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")
            pos += 1
        match = next((lb for lb in _LABELS_LONGEST_FIRST if text.startswith(lb, pos)), None)
        if match is None:
            raise _fail(RegistryError.INVALID_RELATIONSHIP, "relationship")
        terms.append(_BY_LABEL[match])
        pos += len(match)
    return relationship_for_chain(terms)


# =======================================================================================
# 世帯 (households)
# =======================================================================================


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    resident_id: UUID
    relationship: str


def _heads(members: Iterable[HouseholdMember]) -> list[HouseholdMember]:
    return [m for m in members if m.relationship == Relationship.HEAD.value]


def check_household(
    members: Sequence[HouseholdMember],
    *,
    head_id: UUID | None = None,
    allow_vacant_head: bool = False,
) -> None:
    """A household has exactly one 世帯主, who is a member with 続柄 世帯主, and every 続柄 is
    a standard one (法第7条第4号; registry.md OQ-18; 標準仕様 §3.7). ``allow_vacant_head``
    is for the one moment the standard allows no head: the head has left and two or more
    members remain until a 世帯主変更 is notified (標準仕様 §2.1 j100, §2.4 j490–j500).
    ``head_id``, when given, must be the member whose 続柄 is 世帯主."""
    for m in members:
        check_relationship(m.relationship)
    heads = _heads(members)
    if len(heads) > 1:
        raise _fail(RegistryError.HOUSEHOLD_HEAD_DUPLICATED, "relationship")
    if not heads and members and not allow_vacant_head:
        raise _fail(RegistryError.HOUSEHOLD_HEAD_MISSING, "relationship")
    if head_id is not None and (not heads or heads[0].resident_id != head_id):
        raise _fail(RegistryError.HEAD_RELATIONSHIP_MISMATCH, "relationship")


def check_household_split(
    staying: Sequence[HouseholdMember], leaving: Sequence[HouseholdMember]
) -> None:
    """世帯分離 (法第25条): both households exist afterwards and each has its own 世帯主
    (the ``relationship`` values are those after the split, each relative to its own head)."""
    if not staying or not leaving:
        raise _fail(RegistryError.HOUSEHOLD_SPLIT_EMPTY)
    for side in (staying, leaving):
        if len(_heads(side)) != 1:
            raise _fail(RegistryError.HOUSEHOLD_SPLIT_WITHOUT_HEAD, "relationship")
        check_household(side)


def successor_when_head_leaves(remaining: Sequence[UUID]) -> UUID | None:
    """When the 世帯主 leaves (転出, 死亡 …): with exactly one member left, that member may
    be made head ex officio (and a 世帯主変更通知書 printed); with two or more, no one is
    chosen: staff ask the household for a 世帯主変更届 (標準仕様 §2.4 j490, j500)."""
    return remaining[0] if len(remaining) == 1 else None


# =======================================================================================
# Items that depend on nationality; 外国人住民 (法第30条の45)
# =======================================================================================


class ForeignResidentClass(StrEnum):
    """法第30条の45 の表の上欄: which 外国人住民 the record is for. Each class carries its own
    items (``check_foreign_resident_items``)."""

    MID_TO_LONG_TERM = "mid_to_long_term"  # 中長期在留者 (入管法 第19条の3)
    SPECIAL_PERMANENT_RESIDENT = "special_permanent_resident"  # 特別永住者 (入管特例法)
    TEMPORARY_REFUGE = "temporary_refuge"  # 一時庇護許可者 (入管法 第18条の2)
    PROVISIONAL_STAY = "provisional_stay"  # 仮滞在許可者 (入管法 第61条の2の4)
    TRANSITIONAL_BIRTH = "transitional_birth"  # 出生による経過滞在者 (入管法 第22条の2)
    TRANSITIONAL_NATIONALITY_LOSS = "transitional_nationality_loss"  # 国籍喪失による経過滞在者

    @property
    def label(self) -> str:
        return _FOREIGN_CLASS_LABELS[self]


_FOREIGN_CLASS_LABELS: dict[ForeignResidentClass, str] = {
    ForeignResidentClass.MID_TO_LONG_TERM: "中長期在留者",
    ForeignResidentClass.SPECIAL_PERMANENT_RESIDENT: "特別永住者",
    ForeignResidentClass.TEMPORARY_REFUGE: "一時庇護許可者",
    ForeignResidentClass.PROVISIONAL_STAY: "仮滞在許可者",
    ForeignResidentClass.TRANSITIONAL_BIRTH: "出生による経過滞在者",
    ForeignResidentClass.TRANSITIONAL_NATIONALITY_LOSS: "国籍喪失による経過滞在者",
}

# Items 法第30条の45 の表 lists per class, by column name. 在留期間等 holds the 在留期間, the
# 上陸期間 (一時庇護) or the 仮滞在期間, and residence_expires_on the day that period ends.
_REQUIRED: dict[ForeignResidentClass, frozenset[str]] = {
    ForeignResidentClass.MID_TO_LONG_TERM: frozenset(
        {"residence_status", "residence_period", "residence_expires_on", "residence_card_no"}
    ),
    ForeignResidentClass.SPECIAL_PERMANENT_RESIDENT: frozenset({"residence_card_no"}),
    ForeignResidentClass.TEMPORARY_REFUGE: frozenset({"residence_period", "residence_expires_on"}),
    ForeignResidentClass.PROVISIONAL_STAY: frozenset({"residence_period", "residence_expires_on"}),
    ForeignResidentClass.TRANSITIONAL_BIRTH: frozenset(),
    ForeignResidentClass.TRANSITIONAL_NATIONALITY_LOSS: frozenset(),
}
_CLASS_ITEMS = ("residence_status", "residence_period", "residence_expires_on", "residence_card_no")
INDEFINITE_RESIDENCE_STATUSES = frozenset({"永住者", "高度専門職2号"})
"""在留資格 whose 在留期間 is 無期限 (入管法施行規則 別表第二)."""


def _is_indefinite(residence_status: str | None) -> bool:
    # Cards and legacy data write 「高度専門職２号」 with a full-width digit as often as not.
    return (
        residence_status is not None
        and unicodedata.normalize("NFKC", residence_status).strip() in INDEFINITE_RESIDENCE_STATUSES
    )


def check_foreign_resident_items(
    foreign_resident_class: ForeignResidentClass | None,
    *,
    residence_status: str | None,
    residence_period: str | None,
    residence_expires_on: date | None,
    residence_card_no: str | None,
    effective_on: date,
) -> None:
    """The class items of 法第30条の45: each class has exactly its own items (a 特別永住者
    has a 特別永住者証明書の番号 but no 在留資格 or 在留期間; an 経過滞在者 has none), the
    card number has the card's form, and the period has not ended before the change takes
    effect (満了の日 ≥ 異動日: a person whose stay ended is no longer a 外国人住民 of
    法第30条の45 and is removed ex officio instead)."""
    if foreign_resident_class is None:
        raise _fail(RegistryError.FOREIGN_RESIDENT_CLASS_REQUIRED, "foreign_resident_class")
    values: dict[str, object] = {
        "residence_status": residence_status,
        "residence_period": residence_period,
        "residence_expires_on": residence_expires_on,
        "residence_card_no": residence_card_no,
    }
    required = _REQUIRED[foreign_resident_class]
    allowed = required
    if foreign_resident_class is ForeignResidentClass.MID_TO_LONG_TERM and (
        _is_indefinite(residence_status)
    ):
        # 永住者 and 高度専門職2号 have no 在留期間 to run out (入管法施行規則 別表第二:
        # 無期限), so neither a period nor a 満了の日 is required; a printed 「無期限」 may stay.
        required = required - {"residence_period", "residence_expires_on"}
        allowed = required | {"residence_period"}
    for item in _CLASS_ITEMS:
        present = values[item] not in (None, "")
        if item in required and not present:
            raise _fail(RegistryError.FOREIGN_RESIDENT_ITEM_MISSING, item)
        if item not in allowed and present:
            raise _fail(RegistryError.FOREIGN_RESIDENT_ITEM_NOT_ALLOWED, item)
    if residence_card_no is not None and not is_valid_residence_card_no(residence_card_no):
        raise _fail(RegistryError.INVALID_RESIDENCE_CARD_NO, "residence_card_no")
    if residence_expires_on is not None and residence_expires_on < effective_on:
        raise _fail(RegistryError.RESIDENCE_PERIOD_EXPIRED, "residence_expires_on")


def check_items_for_nationality(
    *,
    foreign_resident: bool,
    registered_domicile: str | None,
    family_register_head: str | None,
    former_surname: str | None,
    alias_name: str | None,
    nationality: str | None,
) -> None:
    """Japanese residents carry 戸籍の表示 (法第7条第5号; 「なし」「不明」 when there is none,
    標準仕様 §3.3) and may carry 旧氏 (令第30条の13); 外国人住民 carry neither (法第30条の45:
    their record replaces 戸籍の表示 by 国籍・地域) and may carry a 通称 (令第30条の26),
    which a Japanese resident cannot."""
    if foreign_resident:
        for item, value in (
            ("registered_domicile", registered_domicile),
            ("family_register_head", family_register_head),
            ("former_surname", former_surname),
        ):
            if value is not None:
                raise _fail(RegistryError.JAPANESE_ITEM_ON_FOREIGN_RESIDENT, item)
        if not nationality:
            raise _fail(RegistryError.FOREIGN_RESIDENT_ITEM_MISSING, "nationality")
        return
    for item, value in (("alias_name", alias_name), ("nationality", nationality)):
        if value is not None:
            raise _fail(RegistryError.FOREIGN_ITEM_ON_JAPANESE_RESIDENT, item)
    if not registered_domicile:
        raise _fail(RegistryError.REGISTERED_DOMICILE_REQUIRED, "registered_domicile")


# =======================================================================================
# The as-of selector (history with validity dates)
# =======================================================================================


def in_force(
    *,
    valid_from: date,
    valid_to: date | None,
    recorded_at: datetime,
    superseded_at: datetime | None,
    on: date,
    as_recorded_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> bool:
    """Whether a ``registry.resident_version`` row is the state of its resident on ``on``.

    Two time axes (style-examples §6): valid time is the half-open business-date range
    [valid_from, valid_to) — valid_to is the next change's 異動日, None for the open row —
    and recorded time is [recorded_at, superseded_at). Without ``as_recorded_at`` the
    question is "what does the registry say now about ``on``" (rows superseded by a
    職権修正 are out); with it, "what did the registry say at ``as_recorded_at``", which a
    reissued certificate needs (標準仕様 §2.4 j640: a 再交付 shows the data as first issued).

    A row is closed (``valid_to`` set) when the next 異動 is recorded, at ``closed_at``.
    As recorded at ``t`` before that instant the row was still open, whatever ``valid_to``
    says now: a late notice recorded today with a 異動日 last month must not change what the
    registry said yesterday about last week.

    The SQL selector in ``queries.py`` must be exactly this predicate::

        valid_from <= :on AND (valid_to IS NULL OR valid_to > :on)
        AND superseded_at IS NULL                                   -- as now
        -- or, as recorded at :t:
        valid_from <= :on AND (valid_to IS NULL OR valid_to > :on OR closed_at > :t)
        AND recorded_at <= :t AND (superseded_at IS NULL OR superseded_at > :t)

    The exclusion constraint guarantees at most one live row per resident and date, so
    the selector returns 0 or 1 row. A row with ``removed`` set means "a 除票 on that
    date": the person was not a resident then. An empty range (valid_from = valid_to,
    two changes on one 異動日) is history that was never in force for a whole day.
    """
    if as_recorded_at is None:
        return valid_from <= on and (valid_to is None or on < valid_to) and superseded_at is None
    end = valid_to if closed_at is None or closed_at <= as_recorded_at else None
    if not (valid_from <= on and (end is None or on < end)):
        return False
    return recorded_at <= as_recorded_at and (
        superseded_at is None or superseded_at > as_recorded_at
    )


# =======================================================================================
# 除票 retention (住基令 第34条第1項)
# =======================================================================================

REMOVED_RECORD_RETENTION_YEARS = 150
"""住基令 第34条第1項 (as amended by 令和元年政令, in force 2019-06-20; earlier 5 years):
「除票…を、これらに係る住民票…を消除し、又は改製した日から百五十年間保存する」."""


def removed_record_expires_on(removed_on: date) -> date:
    """Last day a 除票 must still be kept, for a record removed (消除) or re-made (改製) on
    ``removed_on``.

    The 150 years run from the day after the removal (民法 第140条: 初日不算入) and, being
    counted in years, end on the day before the corresponding day of the 150th year
    (民法 第143条第2項) — that is, on the same month and day as the removal, 150 years on.
    Where the corresponding day does not exist the period ends on that month's last day
    (第143条第2項ただし書).

    Worked examples: removed 2026-11-30 → kept through 2176-11-30, disposable from
    2176-12-01; removed 2028-02-28 → the period starts 2028-02-29, 2178 has no 29 February,
    so it ends 2178-02-28; removed 2028-02-29 → starts 2028-03-01, ends 2178-02-28;
    removed 2002-02-28 → starts 2002-03-01, ends 2152-02-29 (2152 is a leap year).
    """
    start = removed_on + timedelta(days=1)
    if start.month == 2 and start.day == 29:
        return _add_years(start, REMOVED_RECORD_RETENTION_YEARS)  # month end: 28 February
    return _add_years(start, REMOVED_RECORD_RETENTION_YEARS) - timedelta(days=1)


def check_removed_record_disposable(removed_on: date, today: date) -> None:
    """A 除票 may be disposed of only after its 150 years (REG-CTRL-58)."""
    if today <= removed_record_expires_on(removed_on):
        raise _fail(RegistryError.REMOVED_RECORD_RETAINED)


# =======================================================================================
# Four-eyes: 仮登録 → 決裁 (REG-CTRL-11, REG-CTRL-12, REG-CTRL-16)
# =======================================================================================


class ApprovalStatus(StrEnum):
    PENDING = "pending"  # 仮登録: invisible to certificates, CS, 庁内連携 (REG-CTRL-12)
    APPROVED = "approved"  # 決裁（確定）
    REJECTED = "rejected"  # 破棄


def check_pending(status: str) -> None:
    if status != ApprovalStatus.PENDING:
        raise _fail(RegistryError.APPROVAL_NOT_PENDING, "status")


def check_draft_verified(verified: bool) -> None:
    """決裁 of a 仮登録 follows an explicit 照合済: the approver compared the entered values
    with the 届出書 or the documents (REG-CTRL-13; seed 001 §III(1) 2)."""
    if not verified:
        raise _fail(RegistryError.DRAFT_NOT_VERIFIED, "verified")


def check_approver(requested_by: UUID, approver: UUID) -> None:
    """The person who entered a change cannot approve it (REG-CTRL-11; seed 004 §III(1) 2
    リスク3). The database refuses it too (``ck_pending_approval_four_eyes``)."""
    if requested_by == approver:
        raise _fail(RegistryError.APPROVAL_BY_REQUESTER, "approved_by")


# =======================================================================================
# Requests approved before they run (REG-CTRL-10 請求 by others, REG-CTRL-36 一括出力)
# =======================================================================================


class ApprovedUse(StrEnum):
    """What an approval (a ``pending_approval`` row that is not a draft) allows, once."""

    DISCLOSURE = "registry.disclosure_request"  # 公用請求・第三者請求 (法第12条の2, 第12条の3)
    BULK_EXPORT = "registry.bulk_export"  # 一括出力 (seed 000 §III 3, seed 001 §III(2) 3)
    BROWSING = "registry.browsing_request"  # 閲覧 (法第11条, 第11条の2), viewed within its scope


# The ``pending_approval.action`` values of requests (as opposed to 職権 drafts).
REQUEST_ACTIONS = frozenset(u.value for u in ApprovedUse)


class LegalBasis(StrEnum):
    """The provision a request by someone other than 本人等 (法第12条) relies on."""

    PUBLIC_AGENCY = "art12_2"  # 第12条の2第1項: 国又は地方公共団体の機関の請求
    OWN_RIGHTS = "art12_3_1_1"  # 第12条の3第1項第1号: 自己の権利行使・義務履行
    SUBMISSION = "art12_3_1_2"  # 同項第2号: 国又は地方公共団体の機関への提出
    OTHER_LEGITIMATE = "art12_3_1_3"  # 同項第3号: その他正当な理由
    PROFESSIONAL = "art12_3_2"  # 第12条の3第2項: 特定事務受任者 (弁護士等) の職務上請求

    @property
    def label(self) -> str:
        return _LEGAL_BASIS_LABELS[self]


_LEGAL_BASIS_LABELS = {
    LegalBasis.PUBLIC_AGENCY: "住基法第12条の2第1項（国又は地方公共団体の機関）",
    LegalBasis.OWN_RIGHTS: "住基法第12条の3第1項第1号（自己の権利行使・義務履行）",
    LegalBasis.SUBMISSION: "住基法第12条の3第1項第2号（国又は地方公共団体の機関への提出）",
    LegalBasis.OTHER_LEGITIMATE: "住基法第12条の3第1項第3号（その他正当な理由）",
    LegalBasis.PROFESSIONAL: "住基法第12条の3第2項（特定事務受任者の職務上請求）",
}


class BrowsingBasis(StrEnum):
    """The provision a 閲覧 (住民基本台帳の一部の写しの閲覧) relies on."""

    PUBLIC_AGENCY = "art11"  # 第11条第1項: 国又は地方公共団体の機関の請求
    SURVEY = "art11_2_1_1"  # 第11条の2第1項第1号: 公益性が高い調査研究 (統計・世論・学術)
    COMMUNITY = "art11_2_1_2"  # 同項第2号: 公共的団体の地域住民の福祉の向上に寄与する活動
    RESIDENCE_CHECK = "art11_2_1_3"  # 同項第3号: 営利以外の目的の居住関係の確認 (市町村長が定める)

    @property
    def label(self) -> str:
        return _BROWSING_BASIS_LABELS[self]


_BROWSING_BASIS_LABELS = {
    BrowsingBasis.PUBLIC_AGENCY: "住基法第11条第1項（国又は地方公共団体の機関）",
    BrowsingBasis.SURVEY: "住基法第11条の2第1項第1号（公益性の高い調査研究）",
    BrowsingBasis.COMMUNITY: "住基法第11条の2第1項第2号（公共的団体の地域福祉活動）",
    BrowsingBasis.RESIDENCE_CHECK: "住基法第11条の2第1項第3号（営利以外の目的の居住関係の確認）",
}


@dataclass(frozen=True, slots=True)
class BrowsingScope:
    """What a 閲覧 may show, fixed on its 申出 and approved with it (REG-CTRL-09): the
    residents of these 町字, optionally of an age range (age on the day of viewing) and one
    sex, as surveys usually ask ("20〜69歳の男女")."""

    town_area_codes: tuple[str, ...]
    min_age: int | None = None
    max_age: int | None = None
    sex: int | None = None


def check_browsing_request(scope: BrowsingScope, requester: str, purpose: str) -> None:
    """法第11条の2第2項: the 申出 states who, for what, and what is to be viewed."""
    if not requester.strip() or not purpose.strip():
        raise _fail(RegistryError.PURPOSE_REQUIRED, "purpose")
    if not scope.town_area_codes:
        raise _fail(RegistryError.BROWSING_SCOPE_INVALID, "town_area_codes")
    low = 0 if scope.min_age is None else scope.min_age
    high = 150 if scope.max_age is None else scope.max_age
    if not 0 <= low <= high <= 150:
        raise _fail(RegistryError.BROWSING_SCOPE_INVALID, "min_age")
    if scope.sex not in (None, 1, 2):
        raise _fail(RegistryError.BROWSING_SCOPE_INVALID, "sex")


def in_browsing_scope(scope: BrowsingScope, *, town_area_code: str, age: int, sex: int) -> bool:
    """Whether a resident may appear in the 閲覧 of ``scope`` (the SQL in
    ``queries.browsing_list`` is this predicate)."""
    return (
        town_area_code in scope.town_area_codes
        and (scope.min_age is None or age >= scope.min_age)
        and (scope.max_age is None or age <= scope.max_age)
        and (scope.sex is None or sex == scope.sex)
    )


def needs_approval(requester_type: RequesterType) -> bool:
    """A request by a public agency, a third party or a 特定事務受任者 is served only on a
    recorded legal basis and an approval by a second person (REG-CTRL-10, OQ-13)."""
    return requester_type in REQUESTER_BASES


def check_legal_basis(requester_type: RequesterType, basis: LegalBasis, purpose: str) -> None:
    """法第12条の2第2項 / 第12条の3第4項: the request states its 利用目的 and who asks, and
    the basis must be one this kind of requester can rely on."""
    if not purpose.strip():
        raise _fail(RegistryError.PURPOSE_REQUIRED, "purpose")
    if basis not in REQUESTER_BASES.get(requester_type, frozenset()):
        raise _fail(RegistryError.LEGAL_BASIS_MISMATCH, "legal_basis")


def check_approval_use(
    *,
    use: ApprovedUse,
    action: str | None,
    status: str | None,
    used: bool,
    covered: Collection[UUID],
    wanted: Collection[UUID],
) -> None:
    """An approval serves one run of what it approved, for the persons it names: it must
    exist, be of the right kind, be approved, be unused, and cover every person asked for
    (``covered`` empty means "not about persons", as for a bulk export)."""
    if action is None:
        raise _fail(RegistryError.APPROVAL_REQUIRED, "approval_id")
    if (
        action != use.value
        or status != ApprovalStatus.APPROVED
        or used
        or (covered and not set(wanted) <= set(covered))
    ):
        raise _fail(RegistryError.APPROVAL_NOT_USABLE, "approval_id")


# =======================================================================================
# 支援措置 (DV・ストーカー・児童虐待等の被害者の保護; OQ-02, 標準仕様 §2.3 S1 j410–j440, §3.9)
# =======================================================================================


class ProtectedUse(StrEnum):
    """What a measure protects (標準仕様 §3.9: 閲覧 — current address; 写し等の交付 — current
    and previous; 戸籍の附票の写し等)."""

    BROWSING = "browsing"  # 住民基本台帳の一部の写しの閲覧 (法第11条, 第11条の2)
    RESIDENT_RECORD_COPY = "resident_record_copy"  # 住民票の写し・記載事項証明書 (法第12条〜)
    REMOVED_RECORD_COPY = "removed_record_copy"  # 除票の写し等 (法第15条の4)
    FAMILY_REGISTER_SUPPLEMENT_COPY = "family_register_supplement_copy"  # 附票の写し (法第20条)


class IssuanceChannel(StrEnum):
    COUNTER = "counter"  # 窓口
    MAIL = "mail"  # 郵送
    KONBINI = "konbini"  # 証明書コンビニ交付
    WIDE_AREA = "wide_area"  # 広域交付 (法第12条の4)


class RequesterType(StrEnum):
    SELF = "self"  # 本人 (法第12条)
    HOUSEHOLD_MEMBER = "household_member"  # 同一世帯の者 (法第12条)
    AGENT = "agent"  # 代理人
    PUBLIC_AGENCY = "public_agency"  # 国又は地方公共団体の機関 (法第12条の2)
    THIRD_PARTY = "third_party"  # 第三者 (法第12条の3第1項)
    PROFESSIONAL = "professional"  # 特定事務受任者 (弁護士等, 法第12条の3第2項)


# Which bases each kind of requester may invoke. 本人・同一世帯・代理人 (法第12条) need none.
REQUESTER_BASES: dict[RequesterType, frozenset[LegalBasis]] = {
    RequesterType.PUBLIC_AGENCY: frozenset({LegalBasis.PUBLIC_AGENCY}),
    RequesterType.THIRD_PARTY: frozenset(
        {LegalBasis.OWN_RIGHTS, LegalBasis.SUBMISSION, LegalBasis.OTHER_LEGITIMATE}
    ),
    RequesterType.PROFESSIONAL: frozenset({LegalBasis.PROFESSIONAL}),
}


@dataclass(frozen=True, slots=True)
class ProtectionMeasureFacts:
    """One 支援措置 as the rule needs it. ``protected_ids`` are the residents of the case:
    the 申出者 and those protected together (併せて支援を求める者). ``offender_addressee_nos``
    are the 加害者 known by 宛名番号 (標準仕様 §3.9: only within the municipality)."""

    resident_id: UUID
    protected_ids: frozenset[UUID]
    offender_addressee_nos: frozenset[int]
    scope: frozenset[ProtectedUse]
    valid_from: date
    valid_until: date
    ended_on: date | None
    provisional: bool


@dataclass(frozen=True, slots=True)
class ProtectionRequest:
    use: ProtectedUse
    channel: IssuanceChannel
    requester_type: RequesterType
    requester_resident_id: UUID | None
    requester_addressee_no: int | None
    on: date
    # The responsible officer has looked at the protection record for THIS request and
    # lifted the error (標準仕様 §2.3 S1 j440). Never true for the offender.
    officer_reviewed: bool = False


class ProtectionOutcome(StrEnum):
    NOT_IN_FORCE = "not_in_force"
    OUT_OF_SCOPE = "out_of_scope"
    ALLOWED_PROTECTED_PERSON = "allowed_protected_person"
    ALLOWED_AFTER_REVIEW = "allowed_after_review"
    BLOCKED_BROWSING = "blocked_browsing"
    BLOCKED_UNATTENDED_CHANNEL = "blocked_unattended_channel"
    BLOCKED_OFFENDER = "blocked_offender"
    BLOCKED_REVIEW_REQUIRED = "blocked_review_required"


class ProtectionWarning(StrEnum):
    ENDING_SOON = "ending_soon"  # within a month of valid_until (標準仕様 §2.3 j440)
    PERIOD_PASSED = "period_passed"  # valid_until passed, not extended nor ended


@dataclass(frozen=True, slots=True)
class ProtectionDecision:
    outcome: ProtectionOutcome
    warnings: tuple[ProtectionWarning, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.outcome.value.startswith("blocked_")

    @property
    def alert_staff(self) -> bool:
        """A request by a known offender: besides refusing, tell the officer (OQ-02 (a))."""
        return self.outcome is ProtectionOutcome.BLOCKED_OFFENDER


def _measure_in_force(m: ProtectionMeasureFacts, on: date) -> bool:
    # valid_until does NOT end a measure by itself: the standard's suppressions end only
    # when someone ends them (標準仕様 §2.3 j410), so an unextended period fails closed and
    # only warns. ended_on is the first day without protection.
    return m.valid_from <= on and (m.ended_on is None or on < m.ended_on)


def _warnings(m: ProtectionMeasureFacts, on: date) -> tuple[ProtectionWarning, ...]:
    if on > m.valid_until:
        return (ProtectionWarning.PERIOD_PASSED,)
    if on >= protection_extension_opens_on(m.valid_until):
        return (ProtectionWarning.ENDING_SOON,)
    return ()


def protection_decision(
    measure: ProtectionMeasureFacts, request: ProtectionRequest
) -> ProtectionDecision:
    """Whether a 支援措置 blocks a certificate or browsing request that includes its
    protected resident (OQ-02; 標準仕様 §2.3 S1 j440; 住基法 第11条の2, 第12条第6項,
    第12条の2第4項, 第12条の3第7項 (不当な目的が明らかな請求は拒否), 第20条):

    1. not in force on the date, or the use is outside the measure's scope → not blocked;
    2. 閲覧: the person is left out of the 閲覧 list altogether → blocked;
    3. コンビニ交付 and 広域交付: nobody can review the request → blocked (OQ-02 (c));
    4. a requester known as the 加害者 → blocked, and staff are alerted, review or not;
    5. the protected person or someone protected with them, as 本人 or 同一世帯 → allowed;
    6. anyone else (other household members, 代理人, 国・地方公共団体の機関, 第三者, 弁護士等)
       → blocked until the officer reviews this request and lifts the error (j440).
    """
    on = request.on
    if not _measure_in_force(measure, on):
        return ProtectionDecision(ProtectionOutcome.NOT_IN_FORCE)
    warnings = _warnings(measure, on)
    if request.use not in measure.scope:
        return ProtectionDecision(ProtectionOutcome.OUT_OF_SCOPE, warnings)
    if request.use is ProtectedUse.BROWSING:
        return ProtectionDecision(ProtectionOutcome.BLOCKED_BROWSING, warnings)
    if request.channel in (IssuanceChannel.KONBINI, IssuanceChannel.WIDE_AREA):
        return ProtectionDecision(ProtectionOutcome.BLOCKED_UNATTENDED_CHANNEL, warnings)
    if (
        request.requester_addressee_no is not None
        and request.requester_addressee_no in measure.offender_addressee_nos
    ):
        return ProtectionDecision(ProtectionOutcome.BLOCKED_OFFENDER, warnings)
    if (
        request.requester_type in (RequesterType.SELF, RequesterType.HOUSEHOLD_MEMBER)
        and request.requester_resident_id is not None
        and request.requester_resident_id in measure.protected_ids
    ):
        return ProtectionDecision(ProtectionOutcome.ALLOWED_PROTECTED_PERSON, warnings)
    if request.officer_reviewed:
        return ProtectionDecision(ProtectionOutcome.ALLOWED_AFTER_REVIEW, warnings)
    return ProtectionDecision(ProtectionOutcome.BLOCKED_REVIEW_REQUIRED, warnings)


def check_not_protected(
    measures: Iterable[ProtectionMeasureFacts], request: ProtectionRequest
) -> list[ProtectionDecision]:
    """Raise if any measure blocks the request; else return the decisions (for warnings).
    The message never says which person is protected or why."""
    decisions = [protection_decision(m, request) for m in measures]
    if any(d.blocked for d in decisions):
        code = (
            RegistryError.PROTECTION_MEASURE_BLOCKS_BROWSING
            if request.use is ProtectedUse.BROWSING
            else RegistryError.PROTECTION_MEASURE_BLOCKS_ISSUANCE
        )
        raise DomainError(code, MESSAGES[code], status=403)
    return decisions


def protection_period_end(valid_from: date) -> date:
    """A 支援措置 lasts one year: start 令和2年4月1日 → end 令和3年3月31日 (標準仕様 §2.3
    S1 j440). The start day counts (the measure applies from 00:00 of that day, 民法 第140条
    ただし書), so the year ends the day before the corresponding day (民法 第143条第2項)."""
    end_next = _add_years(valid_from, 1)
    if valid_from.month == 2 and valid_from.day == 29:
        return end_next  # no 29 February next year: the month's last day (第143条ただし書)
    return end_next - timedelta(days=1)


def protection_extension_opens_on(valid_until: date) -> date:
    """Extension can be asked from one month before the end, and from then on every view
    of the record warns that the period ends soon (標準仕様 §2.3 S1 j440)."""
    return _add_months(valid_until, -1)


def check_protection_period(valid_from: date, valid_until: date) -> None:
    if valid_until < valid_from:
        raise _fail(RegistryError.PROTECTION_MEASURE_PERIOD_INVALID, "valid_until")


# -- 本人確認 (identity check at the counter) -----------------------------------------------


class ApplicantKind(StrEnum):
    """Who stands at the counter for a 届出 or 請求 (住基法 第27条)."""

    SELF = "self"  # 本人
    HOUSEHOLD_MEMBER = "household_member"  # 同一世帯の者
    AGENT = "agent"  # 代理人 (任意代理: 委任状 required)


class IdentityDocument(StrEnum):
    """The document types the counter checks (番号法 第16条, 住基法 第27条, 住基法施行令
    第30条の2 and the 本人確認 rules of 住基法施行規則). Only the TYPE is recorded, never
    the document's number or content."""

    INDIVIDUAL_NUMBER_CARD = "individual_number_card"  # 個人番号カード
    DRIVERS_LICENSE = "drivers_license"  # 運転免許証
    PASSPORT = "passport"  # 旅券
    RESIDENCE_CARD = "residence_card"  # 在留カード・特別永住者証明書
    HEALTH_INSURANCE = "health_insurance"  # 資格確認書等 (two documents needed)
    OTHER = "other"  # その他の官公署発行書類


IDENTITY_DOCUMENT_LABELS: dict[IdentityDocument, str] = {
    IdentityDocument.INDIVIDUAL_NUMBER_CARD: "個人番号カード",
    IdentityDocument.DRIVERS_LICENSE: "運転免許証",
    IdentityDocument.PASSPORT: "旅券",
    IdentityDocument.RESIDENCE_CARD: "在留カード等",  # incl. 特別永住者証明書
    IdentityDocument.HEALTH_INSURANCE: "資格確認書等",
    IdentityDocument.OTHER: "その他の公的書類",
}

# Documents with a photo prove identity alone; others need a second one (REG-CTRL-01).
_PHOTO_DOCUMENTS = frozenset(
    {
        IdentityDocument.INDIVIDUAL_NUMBER_CARD,
        IdentityDocument.DRIVERS_LICENSE,
        IdentityDocument.PASSPORT,
        IdentityDocument.RESIDENCE_CARD,
    }
)


@dataclass(frozen=True, slots=True)
class Identification:
    """What the counter checked before accepting a 届出 or 請求 (REG-CTRL-01, -04)."""

    applicant: ApplicantKind
    documents: tuple[IdentityDocument, ...]
    power_of_attorney: bool = False  # 委任状, for an 代理人


def check_quotation_checked(quoted: bool, checked: bool) -> None:
    """Items taken over (引用) from a 除票 instead of being keyed again must be checked
    against the 届出書 and the documents before they are recorded (REG-CTRL-14; seed 004
    §III(1) 2 リスク3)."""
    if quoted and not checked:
        raise _fail(RegistryError.QUOTATION_NOT_CHECKED, "quoted_checked")


def check_identification(ident: Identification | None) -> Identification:
    """A 届出 or 請求 is accepted only after the applicant's identity was checked: one photo
    document or two others, and a 委任状 when an agent applies (住基法 第27条; controls.md
    ACC-01; registry.md REG-CTRL-01, -04). Raises; writes nothing. Returns the checked
    identification, for the audit row."""
    if ident is None or not ident.documents:
        raise _fail(RegistryError.IDENTIFICATION_REQUIRED, "identification")
    photo = any(d in _PHOTO_DOCUMENTS for d in ident.documents)
    if not photo and len(set(ident.documents)) < 2:
        raise _fail(RegistryError.IDENTIFICATION_REQUIRED, "identification")
    if ident.applicant is ApplicantKind.AGENT and not ident.power_of_attorney:
        raise _fail(RegistryError.POWER_OF_ATTORNEY_REQUIRED, "identification")
    return ident


def identification_detail(ident: Identification) -> dict[str, object]:
    """What the audit row keeps: codes only."""
    return {
        "applicant": ident.applicant.value,
        "identity_documents": sorted(d.value for d in ident.documents),
        "power_of_attorney": ident.power_of_attorney,
    }
