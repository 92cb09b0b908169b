"""Read side of the resident registry: the record of one resident as of a date, its
history, a household, and the 4情報 search. Every function is a declared action
(``registry.view``), opens its own unit of work and writes one audit row in the same
transaction as the read: subjects are the resident ids shown, the detail holds counts,
flags and criterion names, never a value. Results are frozen dataclasses, never ORM rows.

Two time axes (style-examples §6, ``rules.in_force``): every "as of" read of
``registry.resident_version`` goes through :func:`_in_force`, the SQL form of
``rules.in_force``. ``as_of`` defaults to the business date; with ``as_recorded_at`` and no
``as_of`` the date is that instant's JST day, which is what a reissued certificate needs
("what did the registry say then about then").

Decisions:

- 個人番号: the record view carries only ``vault.number_for_display`` (the mask or 「未登録」)
  and ``can_unmask``; unmasking is ``vault.display_number``, its own audited action.
  Search results carry no number field at all (controls.md DISP-04).
- 支援措置: staff search and record views list protected residents, flagged ``protected``
  so screens can show the banner (registry.md OQ-02 (d)). The blocks of 住基法 第11条の2
  (閲覧) and 第12条 (交付) concern third parties' browsing and certificates, not staff
  finding the record they must protect; every view is audited with its subject ids
  (OQ-02 (e)). ``protected`` is judged on the business date, not ``as_of``: it tells
  staff how to handle the person now.
- REG-CTRL-29: a search needs two 4情報 items other than 性別 (氏名 or フリガナ count as one
  item, 生年月日 or its year as one, 住所 as one).
- Similar names only when nothing matches literally (issue 6): a 氏名 or フリガナ of three
  characters or more finds the residents whose keys contain it; only if there are none
  (with the other criteria applied) does it find those trigram-similar to it, so a
  misspelt name is still found. Before, both were listed together, exact matches first.
  At 1,000,000 residents a common reading is similar to thousands of names, which the
  search had to read and recheck on every query (50–150 ms) to list other people with
  the one typed. A clerk who typed the name right gets the literal matches in the same
  order as before, without the merely similar names; one who did not (no literal match)
  gets the same list as before. With both 氏名 and フリガナ given, "literal" means both.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    Text,
    and_,
    any_,
    case,
    exists,
    func,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from machi.core.clock import JST
from machi.core.errors import CoreError, DomainError, NotFoundError
from machi.core.text import normalize_kana, normalize_name
from machi.core.uow import UnitOfWork
from machi.core.wareki import to_wareki
from machi.privacy import access, audit, vault
from machi.privacy.access import authorised
from machi.privacy.actor import Actor
from machi.privacy.permissions import Permission
from machi.registry import rules
from machi.registry.errors import MESSAGES, RegistryError
from machi.registry.models import (
    Address,
    Household,
    PendingApproval,
    ProtectionMeasure,
    Resident,
    ResidentVersion,
    TownArea,
)

__all__ = [
    "MAX_SEARCH_LIMIT",
    "HistoryEntry",
    "HouseholdMemberView",
    "HouseholdView",
    "ResidentRecordView",
    "SearchCriteria",
    "SearchResult",
    "SearchRow",
    "household",
    "resident_history",
    "resident_record",
    "search_residents",
]

# A search lists people to pick one from; a bigger page would be a bulk extraction, which
# needs its own approval (REG-CTRL-36) and its own action (registry.export).
MAX_SEARCH_LIMIT = 200

SEX_LABELS: dict[int, str] = {1: "男", 2: "女"}

# 異体字 folded to one form for name search (標準仕様 §5.1: a character also finds its
# 異体字 and 正字). NFKC (normalize_name) already folds CJK compatibility ideographs that
# have a mapping; these are unified ideographs, or compatibility ones without a mapping
# (﨑 U+FA11), that NFKC leaves alone. Kept here because rules.py is pure domain and the
# map only serves search. Values are never keys, so one pass folds completely and the
# SQL translate() of the stored key equals the Python fold of the input.
# 斉/齊/齋/斎 are folded together although 斉 and 斎 are distinct characters: 斉藤/斎藤
# are confused at the counter all the time, and exact spellings still rank first.
# The map is part of the SQL expression translate(name_key, '<from>', '<to>'): changing
# it means rebuilding, by a migration, any expression index built on that expression.
_VARIANT_KANJI: dict[str, str] = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "碕": "崎",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斎",
    "斉": "斎",
    "澤": "沢",
    "濱": "浜",
    "濵": "浜",
    "嶋": "島",
    "嶌": "島",
    "桒": "桑",
    "廣": "広",
    "國": "国",
    "櫻": "桜",
    "冨": "富",
    "槇": "槙",
    "眞": "真",
    "惠": "恵",
    "德": "徳",
    "黑": "黒",
    "壽": "寿",
    "實": "実",
    "淺": "浅",
    "藏": "蔵",
    "栁": "柳",
    "瀨": "瀬",
    "𠮷": "吉",
}
_VARIANT_FROM = "".join(_VARIANT_KANJI)
_VARIANT_TO = "".join(_VARIANT_KANJI.values())
_VARIANT_FOLD = str.maketrans(_VARIANT_KANJI)

# Trigram similarity needs at least one whole trigram to mean anything; shorter input is
# matched by prefix/partial LIKE only.
_MIN_SIMILARITY_LENGTH = 3
_ASCII_LOWER = "abcdefghijklmnopqrstuvwxyz"


# =======================================================================================
# Views
# =======================================================================================


def _wareki(d: date) -> str:
    # 除票 are kept 150 years; a date before 明治6年 has no Gregorian 和暦, so ISO it is.
    try:
        return to_wareki(d)
    except ValueError:
        return d.isoformat()


def _birth_display(d: date, precision: str) -> str:
    """和暦 生年月日 honouring 不詳 parts (標準仕様 §3.4)."""
    if precision == "unknown":
        return "不詳"
    text = _wareki(d)
    if precision == "year":
        return text.split("年")[0] + "年"
    if precision == "month":
        return text.split("月")[0] + "月"
    return text


def _relationship_label(code: str) -> str:
    # A legacy code the rules do not know must not make the record unreadable at the
    # counter; showing the raw code makes the data problem visible instead.
    try:
        return rules.relationship_label(code)
    except DomainError:
        return code


@dataclass(frozen=True, slots=True)
class HouseholdMemberView:
    resident_id: uuid.UUID
    addressee_no: int
    name: str
    name_kana: str
    birth_date: date
    birth_date_precision: str
    sex: int
    relationship: str  # 続柄 code (rules.Relationship chain)
    relationship_label: str  # 続柄 as printed, e.g. 「子の妻」
    display_order: int
    protected: bool  # a 支援措置 is in force on the business date

    @property
    def is_head(self) -> bool:
        return self.relationship == rules.Relationship.HEAD.value

    @property
    def birth_date_display(self) -> str:
        return _birth_display(self.birth_date, self.birth_date_precision)

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResidentRecordView:
    """One 住民票 (or 除票) as of ``as_of``: every record item of the history row in force
    then, its household on the same date, and the 個人番号 field as displayed."""

    resident_id: uuid.UUID
    addressee_no: int
    as_of: date
    as_recorded_at: datetime | None
    # The history row shown, and the change that made it.
    version_id: int
    history_no: int
    change_reason: str
    change_reason_label: str
    valid_from: date
    valid_to: date | None
    notified_on: date | None
    recorded_at: datetime
    removed: bool  # 除票 on as_of
    # Identity
    resident_record_code: str | None
    name: str
    name_kana: str
    name_kana_confirmed: bool
    former_surname: str | None
    former_surname_kana: str | None
    alias_name: str | None
    alias_name_kana: str | None
    alphabet_name: str | None
    birth_date: date
    birth_date_precision: str
    sex: int
    adult_guardianship: bool
    # Household
    household_id: uuid.UUID
    household_no: int
    relationship: str
    relationship_label: str
    display_order: int
    head_name: str | None
    # Residents of the household on as_of, in 表示順位 order; the person of a 除票 is no
    # longer among them.
    members: tuple[HouseholdMemberView, ...]
    # Address: 町字 + 番地 as printed; the municipality's own name is the caller's to add.
    address_id: int
    town_area_code: str
    postal_code: str
    address_text: str
    building: str | None
    became_resident_on: date
    address_set_on: date
    moved_in_on: date | None
    moved_in_from: str | None
    moved_in_from_local_government_code: str | None
    moved_in_from_postal_code: str | None
    planned_move_out_on: date | None
    planned_move_out_to: str | None
    planned_move_out_to_local_government_code: str | None
    planned_move_out_to_postal_code: str | None
    moved_out_on: date | None
    moved_out_to: str | None
    moved_out_to_local_government_code: str | None
    moved_out_to_postal_code: str | None
    move_in_notice_received_on: date | None
    # 戸籍の表示 (Japanese residents)
    registered_domicile: str | None
    family_register_head: str | None
    # 外国人住民 (法第30条の45)
    foreign_resident: bool
    nationality: str | None
    foreign_resident_class: str | None
    residence_status: str | None
    residence_period: str | None
    residence_expires_on: date | None
    residence_card_no: str | None
    became_foreign_resident_on: date | None
    # 個人番号 as every screen shows it: vault.MASK or vault.NOT_RECORDED, never digits.
    individual_number: str
    can_unmask: bool
    protected: bool

    @property
    def birth_date_display(self) -> str:
        return _birth_display(self.birth_date, self.birth_date_precision)

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "")

    @property
    def as_of_display(self) -> str:
        return _wareki(self.as_of)


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One row of the 異動履歴. ``changed_fields`` names the record items that differ
    from the state this row follows (see :func:`resident_history`); values are not here."""

    version_id: int
    history_no: int
    change_reason: str
    change_reason_label: str
    effective_on: date  # 異動日
    valid_to: date | None
    notified_on: date | None  # 届出日 / 申出日 / 請求日 / 通知日
    notice_kind: str | None
    recorded_at: datetime
    superseded_at: datetime | None
    removed: bool
    changed_fields: tuple[str, ...]
    changed_field_labels: tuple[str, ...]

    @property
    def superseded(self) -> bool:
        return self.superseded_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdView:
    household_id: uuid.UUID
    household_no: int
    as_of: date
    members: tuple[HouseholdMemberView, ...]  # in 表示順位 order; empty once dissolved
    address_text: str | None  # the head's (or first member's) address on as_of
    building: str | None

    @property
    def head(self) -> HouseholdMemberView | None:
        return next((m for m in self.members if m.is_head), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchCriteria:
    """基本4情報 search (REG-CTRL-29). ``name`` is the 氏名 in kanji or alphabet (異体字
    tolerated), ``name_kana`` the フリガナ (hiragana and half-width accepted, partial
    match); both also match the 通称. ``birth_date`` is exact, ``birth_year`` a 西暦 year
    (one or the other). ``address`` is part of 町字 + 番地 + 方書. ``sex`` is 1 男 / 2 女.
    A 除票 is listed only with ``include_removed``; a past ``as_of`` finds those who were
    residents then. ``resident_record_code`` (11 digits, full-width accepted) alone is a
    complete search."""

    name: str | None = None
    name_kana: str | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    address: str | None = None
    sex: int | None = None
    include_removed: bool = False
    # The current 住民票コード: enough on its own (REG-CTRL-30), like the 個人番号 for those
    # who hold the number right (vault.find_subject_by_number).
    resident_record_code: str | None = None


@dataclass(frozen=True, slots=True)
class SearchRow:
    resident_id: uuid.UUID
    addressee_no: int
    name: str
    name_kana: str
    alias_name: str | None
    birth_date: date
    birth_date_precision: str
    sex: int
    address_text: str
    building: str | None
    removed: bool
    protected: bool

    @property
    def birth_date_display(self) -> str:
        return _birth_display(self.birth_date, self.birth_date_precision)

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "")


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int  # all matches; ``rows`` is the first page of them
    rows: tuple[SearchRow, ...]
    as_of: date

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


# =======================================================================================
# The as-of selector
# =======================================================================================


def _in_force(
    rv: type[ResidentVersion], on: date, as_recorded_at: datetime | None
) -> ColumnElement[bool]:
    """The ONE selector of ``registry.resident_version`` rows in force: exactly the SQL
    form given in ``rules.in_force``. Every as-of read in this module goes through it."""
    if as_recorded_at is None:
        return and_(
            rv.valid_from <= on,
            or_(rv.valid_to.is_(None), rv.valid_to > on),
            rv.superseded_at.is_(None),
        )
    return and_(
        rv.valid_from <= on,
        or_(rv.valid_to.is_(None), rv.valid_to > on, rv.closed_at > as_recorded_at),
        rv.recorded_at <= as_recorded_at,
        or_(rv.superseded_at.is_(None), rv.superseded_at > as_recorded_at),
    )


def _protected(
    resident_id: QueryableAttribute[uuid.UUID],
    today: date,
    use: rules.ProtectedUse | None = None,
) -> ColumnElement[bool]:
    """A 支援措置 in force on ``today`` (covering ``use``, when given): the same test as
    rules.protection_decision's (valid_until alone does not end a measure; ended_on is the
    first day without)."""
    pm = ProtectionMeasure
    covers = [] if use is None else [literal(use.value) == any_(pm.scope)]
    return exists().where(
        pm.resident_id == resident_id,
        pm.valid_from <= today,
        or_(pm.ended_on.is_(None), pm.ended_on > today),
        *covers,
    )


def _as_of(uow: UnitOfWork, as_of: date | None, as_recorded_at: datetime | None) -> date:
    if as_recorded_at is not None and as_recorded_at.tzinfo is None:
        # A naive instant would be read in the database session's time zone, not JST.
        raise DomainError(
            CoreError.INVALID_INPUT,
            "記録時点はタイムゾーン付きの日時で指定してください。",
            field="as_recorded_at",
        )
    if as_of is not None:
        return as_of
    if as_recorded_at is not None:
        return as_recorded_at.astimezone(JST).date()
    return uow.clock.business_date()


def _flags(**flags: bool) -> dict[str, int]:
    return {k: int(v) for k, v in flags.items()}


def _not_found(
    uow: UnitOfWork, actor: Actor, action: str, subjects: Sequence[object], detail: dict[str, Any]
) -> NotFoundError:
    """Audit the miss (a person-specific lookup is logged whatever it finds, REG-CTRL-53)
    and commit it, then the caller raises. Same error whether the id does not exist or
    has no state on the date."""
    audit.record(uow, actor, action=action, subjects=subjects, outcome="not_found", detail=detail)
    uow.commit()
    return NotFoundError()


# =======================================================================================
# Household members (shared by the record and the household view)
# =======================================================================================


def _members(
    session: Session,
    household_id: uuid.UUID,
    on: date,
    as_recorded_at: datetime | None,
    today: date,
) -> tuple[tuple[HouseholdMemberView, ...], int | None, str | None]:
    """Members on ``on`` in 表示順位 order, with the head's (or first member's) address."""
    m = aliased(ResidentVersion, name="member")
    rows = session.execute(
        select(
            m.resident_id,
            Resident.addressee_no,
            m.name,
            m.name_kana,
            m.birth_date,
            m.birth_date_precision,
            m.sex,
            m.relationship,
            m.display_order,
            m.address_id,
            m.building,
            _protected(m.resident_id, today).label("protected"),
        )
        .join(Resident, Resident.id == m.resident_id)
        .where(m.household_id == household_id, ~m.removed, _in_force(m, on, as_recorded_at))
        .order_by(m.display_order, Resident.addressee_no)
    ).all()
    members = tuple(
        HouseholdMemberView(
            resident_id=r.resident_id,
            addressee_no=r.addressee_no,
            name=r.name,
            name_kana=r.name_kana,
            birth_date=r.birth_date,
            birth_date_precision=r.birth_date_precision,
            sex=r.sex,
            relationship=r.relationship,
            relationship_label=_relationship_label(r.relationship),
            display_order=r.display_order,
            protected=bool(r.protected),
        )
        for r in rows
    )
    lead = next((r for r in rows if r.relationship == rules.Relationship.HEAD.value), None)
    lead = lead or (rows[0] if rows else None)
    return members, (lead.address_id if lead else None), (lead.building if lead else None)


def _address_text(town_name: str, lot: str) -> str:
    return f"{town_name}{lot}"


# =======================================================================================
# resident_record
# =======================================================================================


@authorised(Permission.REGISTRY_VIEW)
def resident_record(
    uow: UnitOfWork,
    actor: Actor,
    resident_id: uuid.UUID,
    *,
    as_of: date | None = None,
    as_recorded_at: datetime | None = None,
) -> ResidentRecordView:
    """The record of ``resident_id`` as of ``as_of`` (default: the business date), as
    the registry says now or, with ``as_recorded_at``, as it said at that instant. A 除票
    is readable (``removed``). No state on that date → NotFoundError (audited)."""
    action = "registry.resident_record"
    with uow:
        on = _as_of(uow, as_of, as_recorded_at)
        today = uow.clock.business_date()
        rv = ResidentVersion
        row = uow.session.execute(
            select(
                rv,
                Resident.addressee_no,
                Household.household_no,
                TownArea.name.label("town_name"),
                TownArea.code.label("town_code"),
                TownArea.postal_code,
                Address.lot,
                _protected(rv.resident_id, today).label("protected"),
            )
            .join(Resident, Resident.id == rv.resident_id)
            .join(Household, Household.id == rv.household_id)
            .join(Address, Address.id == rv.address_id)
            .join(TownArea, TownArea.id == Address.town_area_id)
            .where(rv.resident_id == resident_id, _in_force(rv, on, as_recorded_at))
        ).one_or_none()
        detail = _flags(as_of_given=as_of is not None, as_recorded=as_recorded_at is not None)
        if row is None:
            raise _not_found(uow, actor, action, [resident_id], detail)
        v: ResidentVersion = row[0]
        members, _, _ = _members(uow.session, v.household_id, on, as_recorded_at, today)
        number = vault.number_for_display(uow, actor, resident_id)
        head = next((m for m in members if m.is_head), None)
        view = ResidentRecordView(
            resident_id=resident_id,
            addressee_no=row.addressee_no,
            as_of=on,
            as_recorded_at=as_recorded_at,
            version_id=v.id,
            history_no=v.history_no,
            change_reason=v.change_reason,
            change_reason_label=rules.ChangeReason(v.change_reason).label,
            valid_from=v.valid_from,
            valid_to=v.valid_to,
            notified_on=v.notified_on,
            recorded_at=v.recorded_at,
            removed=v.removed,
            resident_record_code=v.resident_record_code,
            name=v.name,
            name_kana=v.name_kana,
            name_kana_confirmed=v.name_kana_confirmed,
            former_surname=v.former_surname,
            former_surname_kana=v.former_surname_kana,
            alias_name=v.alias_name,
            alias_name_kana=v.alias_name_kana,
            alphabet_name=v.alphabet_name,
            birth_date=v.birth_date,
            birth_date_precision=v.birth_date_precision,
            sex=v.sex,
            adult_guardianship=v.adult_guardianship,
            household_id=v.household_id,
            household_no=row.household_no,
            relationship=v.relationship,
            relationship_label=_relationship_label(v.relationship),
            display_order=v.display_order,
            head_name=head.name if head else None,
            members=members,
            address_id=v.address_id,
            town_area_code=row.town_code,
            postal_code=row.postal_code,
            address_text=_address_text(row.town_name, row.lot),
            building=v.building,
            became_resident_on=v.became_resident_on,
            address_set_on=v.address_set_on,
            moved_in_on=v.moved_in_on,
            moved_in_from=v.moved_in_from,
            moved_in_from_local_government_code=v.moved_in_from_local_government_code,
            moved_in_from_postal_code=v.moved_in_from_postal_code,
            planned_move_out_on=v.planned_move_out_on,
            planned_move_out_to=v.planned_move_out_to,
            planned_move_out_to_local_government_code=v.planned_move_out_to_local_government_code,
            planned_move_out_to_postal_code=v.planned_move_out_to_postal_code,
            moved_out_on=v.moved_out_on,
            moved_out_to=v.moved_out_to,
            moved_out_to_local_government_code=v.moved_out_to_local_government_code,
            moved_out_to_postal_code=v.moved_out_to_postal_code,
            move_in_notice_received_on=v.move_in_notice_received_on,
            registered_domicile=v.registered_domicile,
            family_register_head=v.family_register_head,
            foreign_resident=v.foreign_resident,
            nationality=v.nationality,
            foreign_resident_class=v.foreign_resident_class,
            residence_status=v.residence_status,
            residence_period=v.residence_period,
            residence_expires_on=v.residence_expires_on,
            residence_card_no=v.residence_card_no,
            became_foreign_resident_on=v.became_foreign_resident_on,
            individual_number=number,
            can_unmask=access.allowed(actor, Permission.PRIVACY_VIEW_INDIVIDUAL_NUMBER),
            protected=bool(row.protected),
        )
        shown = [resident_id, *(m.resident_id for m in members if m.resident_id != resident_id)]
        audit.record(
            uow,
            actor,
            action=action,
            subjects=shown,
            detail={**detail, "removed": int(v.removed), "members": len(members)},
        )
        uow.commit()
    return view


# =======================================================================================
# resident_history
# =======================================================================================

# Derived search keys repeat name items; ``removed`` is told by the change reason itself.
_NOT_RECORD_ITEMS = frozenset(
    {"name_key", "name_kana_key", "alias_name_key", "alias_name_kana_key", "removed"}
)
_RECORD_ITEMS: tuple[str, ...] = tuple(
    attr.key
    for attr in inspect(ResidentVersion).column_attrs
    if attr.key not in rules.BOOKKEEPING_FIELDS and attr.key not in _NOT_RECORD_ITEMS
)


def _items(v: ResidentVersion) -> dict[str, object]:
    return {k: getattr(v, k) for k in _RECORD_ITEMS}


def _predecessor(v: ResidentVersion, earlier: Iterable[ResidentVersion]) -> ResidentVersion | None:
    """The state ``v`` follows: among rows recorded before it (lower 履歴番号) whose 異動日
    is not after its own, the latest by 異動日 then 履歴番号. For an ordinary change that is
    the row before it; for a 職権修正 it is the row it corrects (same 異動日), not an
    unrelated later change."""
    candidates = [e for e in earlier if e.valid_from <= v.valid_from]
    return max(candidates, key=lambda e: (e.valid_from, e.history_no), default=None)


@authorised(Permission.REGISTRY_VIEW)
def resident_history(uow: UnitOfWork, actor: Actor, resident_id: uuid.UUID) -> list[HistoryEntry]:
    """Every history row of ``resident_id`` in 履歴番号 order, superseded ones included, with
    the names of the items each change altered (rules.changed_fields)."""
    action = "registry.resident_history"
    with uow:
        versions = list(
            uow.session.scalars(
                select(ResidentVersion)
                .where(ResidentVersion.resident_id == resident_id)
                .order_by(ResidentVersion.history_no)
            )
        )
        if not versions:
            raise _not_found(uow, actor, action, [resident_id], {"versions": 0})
        entries: list[HistoryEntry] = []
        for i, v in enumerate(versions):
            before = _predecessor(v, versions[:i])
            changed = () if before is None else rules.changed_fields(_items(before), _items(v))
            entries.append(
                HistoryEntry(
                    version_id=v.id,
                    history_no=v.history_no,
                    change_reason=v.change_reason,
                    change_reason_label=rules.ChangeReason(v.change_reason).label,
                    effective_on=v.valid_from,
                    valid_to=v.valid_to,
                    notified_on=v.notified_on,
                    notice_kind=v.notice_kind,
                    recorded_at=v.recorded_at,
                    superseded_at=v.superseded_at,
                    removed=v.removed,
                    changed_fields=changed,
                    changed_field_labels=tuple(rules.FIELD_LABELS.get(f, f) for f in changed),
                )
            )
        audit.record(
            uow,
            actor,
            action=action,
            subjects=[resident_id],
            detail={
                "versions": len(entries),
                "superseded": sum(e.superseded for e in entries),
            },
        )
        uow.commit()
    return entries


# =======================================================================================
# household
# =======================================================================================


@authorised(Permission.REGISTRY_VIEW)
def household(
    uow: UnitOfWork,
    actor: Actor,
    household_id: uuid.UUID,
    *,
    as_of: date | None = None,
    as_recorded_at: datetime | None = None,
) -> HouseholdView:
    """The members of ``household_id`` on ``as_of`` (default: the business date). A
    household with nobody on that date (not yet formed, or dissolved) has no members; an
    unknown id is NotFoundError (audited)."""
    action = "registry.household"
    with uow:
        on = _as_of(uow, as_of, as_recorded_at)
        detail: dict[str, Any] = {
            "household_id": str(household_id),
            **_flags(as_of_given=as_of is not None, as_recorded=as_recorded_at is not None),
        }
        household_no = uow.session.scalar(
            select(Household.household_no).where(Household.id == household_id)
        )
        if household_no is None:
            raise _not_found(uow, actor, action, [], detail)
        today = uow.clock.business_date()
        members, address_id, building = _members(
            uow.session, household_id, on, as_recorded_at, today
        )
        address_text = None
        if address_id is not None:
            place = uow.session.execute(
                select(TownArea.name, Address.lot)
                .join(Address, Address.town_area_id == TownArea.id)
                .where(Address.id == address_id)
            ).one()
            address_text = _address_text(place.name, place.lot)
        audit.record(
            uow,
            actor,
            action=action,
            subjects=[m.resident_id for m in members],
            detail={**detail, "members": len(members)},
        )
        uow.commit()
    return HouseholdView(
        household_id=household_id,
        household_no=household_no,
        as_of=on,
        members=members,
        address_text=address_text,
        building=building,
    )


# =======================================================================================
# search_residents
# =======================================================================================


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(CoreError.INVALID_INPUT, message, field=field)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The criteria as search keys, normalised like the stored ones; an input that
    normalises to nothing (only spaces or 「・」) counts as not given."""

    name_kana: str
    name: str
    address: str
    resident_record_code: str

    @classmethod
    def of(cls, c: SearchCriteria) -> _Keys:
        code = c.resident_record_code
        return cls(
            name_kana=normalize_kana(c.name_kana) if c.name_kana is not None else "",
            name=normalize_name(c.name) if c.name is not None else "",
            address=normalize_name(c.address) if c.address is not None else "",
            resident_record_code=(
                "" if code is None else unicodedata.normalize("NFKC", code).replace(" ", "")
            ),
        )


def _check_criteria(c: SearchCriteria, keys: _Keys, limit: int) -> list[str]:
    """Validate; return the names of the criteria given (what the audit row records)."""
    given = {
        "name": bool(keys.name),
        "name_kana": bool(keys.name_kana),
        "birth_date": c.birth_date is not None,
        "birth_year": c.birth_year is not None,
        "address": bool(keys.address),
        "sex": c.sex is not None,
        "resident_record_code": bool(keys.resident_record_code),
    }
    code = keys.resident_record_code
    if code and not (len(code) == 11 and code.isascii() and code.isdigit()):
        raise _invalid("住民票コードは11桁の数字です。", "resident_record_code")
    if c.birth_date is not None and c.birth_year is not None:
        raise _invalid("生年月日と生年はどちらか一方を指定してください。", "birth_year")
    if c.birth_year is not None and not 1800 <= c.birth_year < date.max.year:
        raise _invalid("生年は西暦4桁で指定してください。", "birth_year")
    if c.sex is not None and c.sex not in SEX_LABELS:
        raise _invalid("性別は 1 (男) または 2 (女) です。", "sex")
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise _invalid(f"表示件数は1から{MAX_SEARCH_LIMIT}までです。", "limit")
    # 4情報 items other than 性別 (REG-CTRL-29): 氏名 (kanji or フリガナ), 生年月日 (or its
    # year), 住所.
    items = (
        (given["name"] or given["name_kana"])
        + (given["birth_date"] or given["birth_year"])
        + given["address"]
    )
    if items < 2 and not code:
        error = RegistryError.SEARCH_CRITERIA_INSUFFICIENT
        raise DomainError(error, MESSAGES[error], field="criteria")
    return [k for k, v in given.items() if v]


def _sum(terms: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _like_contains(q: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", q) + "%"


def _like_prefix(q: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", q) + "%"


def _fold_variants(s: str) -> str:
    return s.translate(_VARIANT_FOLD)


def _variant_key(column: QueryableAttribute[Any]) -> ColumnElement[str]:
    """translate(<key>, '<from>', '<to>') with the map as SQL literals rather than bind
    parameters, so the expression is the one an expression index would be built on."""
    return func.translate(
        column,
        literal_column(f"'{_VARIANT_FROM}'", Text),
        literal_column(f"'{_VARIANT_TO}'", Text),
    )


def _normalised_address(rv: type[ResidentVersion]) -> ColumnElement[str]:
    """normalize_name in SQL (NFKC, whitespace removed, ASCII upper-cased) over 町字 + 番地 +
    方書, so the input and the stored text meet in the same form."""
    text = func.normalize(
        TownArea.name + Address.lot + func.coalesce(rv.building, ""), literal_column("NFKC")
    )
    text = func.regexp_replace(text, r"\s", "", "g")
    return func.translate(text, _ASCII_LOWER, _ASCII_LOWER.upper())


@dataclass(frozen=True, slots=True)
class _NameMatch:
    literal: ColumnElement[bool]  # a key contains the input (LIKE)
    where: ColumnElement[bool]  # literal, or (fuzzy) trigram-similar
    tier: ColumnElement[int]  # 0 exact, 1 prefix, 2 partial, 3 similar only
    similarity: ColumnElement[float]
    fuzzy: bool  # long enough for trigram similarity: ``where`` is wider than ``literal``


def _name_match(keys: Sequence[ColumnElement[str] | QueryableAttribute[Any]], q: str) -> _NameMatch:
    """Match ``q`` (already a search key) against each key column (the name and its 通称):
    ``literal`` is partial LIKE (so 「ヤマダ」 finds 「ヤマダタロウ」); ``where`` adds, from three
    characters on, trigram ``%`` (pg_trgm.similarity_threshold, default 0.3), so a typo
    still finds the person (used only when nothing matches literally, _search_statement).
    Both forms are served by the trigram GIN indexes."""
    contains, prefix = _like_contains(q), _like_prefix(q)
    fuzzy = len(q) >= _MIN_SIMILARITY_LENGTH
    literals: list[ColumnElement[bool]] = []
    similars: list[ColumnElement[bool]] = []
    tiers: list[ColumnElement[int]] = []
    sims: list[ColumnElement[float]] = []
    for key in keys:
        literals.append(key.like(contains, escape="\\"))
        if fuzzy:
            similars.append(key.op("%")(q))
        tiers.append(
            case(
                (key == q, 0),
                (key.like(prefix, escape="\\"), 1),
                (key.like(contains, escape="\\"), 2),
                else_=3,
            )
        )
        sims.append(func.coalesce(func.similarity(key, q), 0.0))
    return _NameMatch(
        literal=or_(*literals),
        where=or_(*literals, *similars),
        tier=func.least(*tiers),
        similarity=func.greatest(*sims),
        fuzzy=fuzzy,
    )


def _name_matches(keys: _Keys) -> list[_NameMatch]:
    """The フリガナ and the 氏名 given, each against the key and the 通称 key (氏名 with
    異体字 folded on both sides)."""
    rv = ResidentVersion
    matches = []
    if keys.name_kana:
        matches.append(_name_match([rv.name_kana_key, rv.alias_name_kana_key], keys.name_kana))
    if keys.name:
        matches.append(
            _name_match(
                [_variant_key(rv.name_key), _variant_key(rv.alias_name_key)],
                _fold_variants(keys.name),
            )
        )
    return matches


def _born(c: SearchCriteria) -> list[ColumnElement[bool]]:
    rv = ResidentVersion
    if c.birth_date is not None:
        return [rv.birth_date == c.birth_date]
    if c.birth_year is not None:
        return [
            rv.birth_date >= date(c.birth_year, 1, 1),
            rv.birth_date < date(c.birth_year + 1, 1, 1),
        ]
    return []


def _versions(select_: Select[Any], keys: _Keys) -> Select[Any]:
    """FROM resident_version, joined to the address master only when 住所 is a criterion
    (the page's addresses are joined once, outside)."""
    select_ = select_.select_from(ResidentVersion)
    if keys.address:
        select_ = select_.join(Address, Address.id == ResidentVersion.address_id).join(
            TownArea, TownArea.id == Address.town_area_id
        )
    return select_


def _filters(
    c: SearchCriteria, keys: _Keys, on: date, names: Sequence[_NameMatch]
) -> list[ColumnElement[bool]]:
    """Every criterion but the name match: in force on ``on``, 除票, birth, 住所, 性別.

    A name shorter than a trigram (「ヤマ」, 「佐藤」) can use no trigram index; with a birth
    date or year the rows of the birth range (~13,000 a year at 1,000,000 residents) were
    read from the heap one by one only to test LIKE. Instead the ids of that range whose
    keys contain the name come first, from an index-only scan of
    ix_resident_version_live_birth_names (birth_date, INCLUDE the four keys and id; rows
    not superseded). Those are a superset of the rows kept here (the same LIKE, no as-of
    test), so no result changes. ``id = ANY(ARRAY(...))`` rather than ``IN``: PostgreSQL 18
    would remove the self-join on the primary key, and the index-only scan with it."""
    rv = ResidentVersion
    where = [_in_force(rv, on, None)]
    if not c.include_removed:
        where.append(~rv.removed)
    where += _born(c)
    if keys.address:
        where.append(_normalised_address(rv).like(_like_contains(keys.address), escape="\\"))
    if c.sex is not None:
        where.append(rv.sex == c.sex)
    if keys.resident_record_code:
        # resident.resident_record_code is the current code (unique index): one row.
        holder = select(Resident.id).where(
            Resident.resident_record_code == keys.resident_record_code
        )
        where.append(rv.resident_id.in_(holder.scalar_subquery()))
    short = [m.literal for m in names if not m.fuzzy]
    if short and _born(c):
        ids = select(rv.id).where(rv.superseded_at.is_(None), *_born(c), *short)
        # correlate(None): the subquery reads its own resident_version (SQL scoping).
        where.append(rv.id == any_(func.array(ids.correlate(None).scalar_subquery())))
    return where


def _search_statement(
    c: SearchCriteria, keys: _Keys, on: date, today: date, limit: int
) -> Select[Any]:
    """The one SELECT of a search.

    ``hit``: the versions where every name given is contained in a key (LIKE); only when
    there is none, those where every name is contained or trigram-similar (the module
    docstring says why). The literal hits are a MATERIALIZED CTE read twice: as the first
    branch of the union, and by the uncorrelated NOT EXISTS of the second, which
    PostgreSQL evaluates once as a one-time filter, so with a literal hit the trigram
    (``%``) scans never start. A CTE scan is parallel-restricted, which also keeps the
    union from being planned as a Parallel Append: at 1,000,000 residents the planner chose
    one for フリガナ + 住所, and starting two workers took 10–15 ms for 0.5 ms of work.

    ``page``: the hits counted (``count(*) OVER ()``) and cut to ``limit`` with their ties
    on every order key but 宛名番号; only those rows are joined to resident (宛名番号, the
    last key), the address master and 支援措置, and cut to ``limit`` again."""
    rv = ResidentVersion
    names = _name_matches(keys)
    where = _filters(c, keys, on, names)
    columns: list[Any] = [
        rv.resident_id,
        rv.name,
        rv.name_kana,
        rv.alias_name,
        rv.birth_date,
        rv.birth_date_precision,
        rv.sex,
        rv.address_id,
        rv.building,
        rv.removed,
        rv.name_kana_key,
    ]
    order = [("name_kana_key", False)]  # (column, descending)
    if names:
        columns += [
            _sum([m.tier for m in names]).label("tier"),
            _sum([m.similarity for m in names]).label("similarity"),
        ]
        order = [("tier", False), ("similarity", True), *order]
    if keys.name:
        # Among equally good matches, the spelling as typed (no 異体字 folded) first.
        spelling = rv.name_key.like(_like_contains(keys.name), escape="\\")
        columns.append(case((spelling, 0), else_=1).label("spelling"))
        order.insert(1, ("spelling", False))
    literal_hits = _versions(select(*columns), keys).where(*where, *(m.literal for m in names))
    hits: Select[Any] | CompoundSelect[Any] = literal_hits
    if any(m.fuzzy for m in names):
        literal_hit = literal_hits.cte("literal_hit").prefix_with("MATERIALIZED")
        no_literal_hit = ~select(literal(1)).select_from(literal_hit).exists()
        similar_hits = _versions(select(*columns), keys).where(
            *where, *(m.where for m in names), no_literal_hit
        )
        hits = union_all(select(literal_hit), similar_hits).add_cte(literal_hit, nest_here=True)
    hit = hits.subquery("hit")

    def ordered(rows: Subquery) -> list[Any]:
        return [rows.c[k].desc() if descending else rows.c[k] for k, descending in order]

    page = (
        select(hit, func.count().over().label("total"))
        .order_by(*ordered(hit))
        .fetch(limit, with_ties=True)
        .subquery("page")
    )
    return (
        select(
            page.c.resident_id,
            Resident.addressee_no,
            page.c.name,
            page.c.name_kana,
            page.c.alias_name,
            page.c.birth_date,
            page.c.birth_date_precision,
            page.c.sex,
            TownArea.name.label("town_name"),
            Address.lot,
            page.c.building,
            page.c.removed,
            _protected(Resident.id, today).label("protected"),
            page.c.total,
        )
        .select_from(page)
        .join(Resident, Resident.id == page.c.resident_id)
        .join(Address, Address.id == page.c.address_id)
        .join(TownArea, TownArea.id == Address.town_area_id)
        .order_by(*ordered(page), Resident.addressee_no)
        .limit(limit)
    )


@authorised(Permission.REGISTRY_VIEW)
def search_residents(
    uow: UnitOfWork,
    actor: Actor,
    criteria: SearchCriteria,
    *,
    as_of: date | None = None,
    limit: int = 50,
) -> SearchResult:
    """基本4情報 search as of ``as_of`` (default: the business date). One SQL statement
    returns the page and the total (``count(*) OVER ()``); ordered by how well the name
    matched (exact, prefix, partial, similar; then similarity), then フリガナ, then
    宛名番号. Input is refused (DomainError) unless two items other than 性別 are given."""
    keys = _Keys.of(criteria)
    used = _check_criteria(criteria, keys, limit)
    with uow:
        on = as_of if as_of is not None else uow.clock.business_date()
        today = uow.clock.business_date()
        statement = _search_statement(criteria, keys, on, today, limit)
        rows = uow.session.execute(statement).all()
        total = rows[0].total if rows else 0
        result = SearchResult(
            total=total,
            rows=tuple(
                SearchRow(
                    resident_id=r.resident_id,
                    addressee_no=r.addressee_no,
                    name=r.name,
                    name_kana=r.name_kana,
                    alias_name=r.alias_name,
                    birth_date=r.birth_date,
                    birth_date_precision=r.birth_date_precision,
                    sex=r.sex,
                    address_text=_address_text(r.town_name, r.lot),
                    building=r.building,
                    removed=r.removed,
                    protected=bool(r.protected),
                )
                for r in rows
            ),
            as_of=on,
        )
        audit.record(
            uow,
            actor,
            action="registry.search_residents",
            subjects=[r.resident_id for r in result.rows],
            detail={
                "criteria": used,
                "total": total,
                "returned": len(result.rows),
                "limit": limit,
                **_flags(
                    as_of_given=as_of is not None,
                    include_removed=criteria.include_removed,
                ),
                "protected_rows": sum(r.protected for r in result.rows),
            },
        )
        uow.commit()
    return result


# -- address master and the approval queue (for the staff screens) -------------------------


@dataclass(frozen=True)
class TownAreaView:
    code: str
    name: str
    name_kana: str


@authorised(Permission.REGISTRY_VIEW)
def town_areas(uow: UnitOfWork, actor: Actor) -> list[TownAreaView]:
    """The 町字 in force, for address pickers. The address master holds no personal data,
    so reading it writes no audit row."""
    with uow:
        rows = uow.session.execute(
            select(TownArea.code, TownArea.name, TownArea.name_kana)
            .where(TownArea.abolished_on.is_(None))
            .order_by(TownArea.name_kana)
        ).all()
    return [TownAreaView(*r) for r in rows]


@authorised(Permission.REGISTRY_VIEW)
def find_address(uow: UnitOfWork, actor: Actor, town_area_code: str, lot: str) -> int:
    """The address master id of 町字 + 番地 as staff type it (full-width digits and spaces
    tolerated). An address missing from the master is refused: addresses are entered into
    the master first, never invented on a notice."""
    wanted = normalize_name(lot)
    with uow:
        found = uow.session.execute(
            select(Address.id)
            .join(TownArea, TownArea.id == Address.town_area_id)
            .where(
                TownArea.code == town_area_code,
                Address.abolished_on.is_(None),
                func.replace(func.replace(Address.lot, " ", ""), "　", "") == wanted,
            )
        ).scalar()
    if found is None:
        code = RegistryError.ADDRESS_NOT_IN_MASTER
        raise DomainError(code, MESSAGES[code], field="lot")
    return int(found)


@dataclass(frozen=True)
class PendingView:
    approval_id: int
    action: str
    resident_ids: tuple[uuid.UUID, ...]
    fields: tuple[str, ...]
    requested_by: uuid.UUID
    requested_at: datetime
    version: int
    # For a request (rules.ApprovedUse): what the approver decides on, as (label, value).
    request: tuple[tuple[str, str], ...] = ()

    @property
    def is_request(self) -> bool:
        return self.action in rules.REQUEST_ACTIONS


_REQUESTER_LABELS = {
    rules.RequesterType.PUBLIC_AGENCY: "国又は地方公共団体の機関",
    rules.RequesterType.THIRD_PARTY: "第三者",
    rules.RequesterType.PROFESSIONAL: "特定事務受任者 (弁護士等)",
}


def _scope_text(scope: dict[str, Any]) -> str:
    ages = (scope.get("min_age"), scope.get("max_age"))
    sex = SEX_LABELS.get(scope.get("sex") or 0, "男女")
    age = "全年齢" if ages == (None, None) else f"{ages[0] or 0}〜{ages[1] or ''}歳"
    return f"町字 {'、'.join(scope['town_area_codes'])}・{age}・{sex}"


def _request_items(action: str, payload: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The request's facts for the approver: the kind of request, who asks, on which
    provision, for what (REG-CTRL-10), the export's purpose (REG-CTRL-36), or what a 閲覧
    may show (REG-CTRL-09)."""
    if action == rules.ApprovedUse.BROWSING:
        return (
            ("種別", "住民基本台帳の一部の写しの閲覧"),
            ("申出者", payload["requester"]),
            ("法令上の根拠", rules.BrowsingBasis(payload["legal_basis"]).label),
            ("利用目的", payload["purpose"]),
            ("閲覧の範囲", _scope_text(payload["scope"])),
        )
    if action == rules.ApprovedUse.BULK_EXPORT:
        return (("種別", "一括出力"), ("利用目的", payload["purpose"]))
    if action == rules.ApprovedUse.DISCLOSURE:
        return (
            ("種別", "公用・第三者請求 (住民票の写し等)"),
            ("請求者の区分", _REQUESTER_LABELS[rules.RequesterType(payload["requester_type"])]),
            ("請求者", payload["requester"]),
            ("法令上の根拠", rules.LegalBasis(payload["legal_basis"]).label),
            ("利用目的", payload["purpose"]),
        )
    return ()


@authorised(Permission.REGISTRY_APPROVE)
def pending_approvals(uow: UnitOfWork, actor: Actor) -> list[PendingView]:
    """Drafts waiting for 決裁 (REG-CTRL-11): ids, codes and field names only; and requests
    waiting for approval (REG-CTRL-10, -36) with the facts the approver decides on."""
    with uow:
        rows = uow.session.scalars(
            select(PendingApproval)
            .where(PendingApproval.status == "pending")
            .order_by(PendingApproval.requested_at)
        ).all()
        views = [
            PendingView(
                r.id,
                r.action,
                tuple(r.resident_ids),
                tuple(r.payload.get("fields", ())),
                r.requested_by,
                r.requested_at,
                r.version,
                _request_items(r.action, r.payload),
            )
            for r in rows
        ]
        audit.record(
            uow,
            actor,
            action="registry.pending_approvals",
            subjects=[rid for v in views for rid in v.resident_ids],
            detail={"count": len(views)},
        )
        uow.commit()
    return views


@authorised(Permission.REGISTRY_BULK_LOAD)
def registry_loaded(uow: UnitOfWork, actor: Actor) -> bool:
    """Whether the registry holds any resident (bulk loads go only into an empty one).
    Existence only, no personal data: not audited."""
    with uow:
        return bool(uow.session.scalar(select(func.count()).select_from(Resident).limit(1)))


# =======================================================================================
# export_residents (bulk export; CSV layer: machi.registry.csvio, docs/registry-csv.md)
# Appended section: its imports stay here so the section reads and moves as one piece.
# =======================================================================================

from collections.abc import Generator  # noqa: E402

__all__ += ["ExportRow", "export_residents"]

# Rows fetched per round trip from the server-side cursor: memory stays flat over a town.
_EXPORT_BATCH = 2_000
_EXPORT_ACTION = "registry.export_residents"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRow:
    """One current resident in the export layout. There is no 個人番号 field, and none
    may be added: business departments cannot take the number out to a file (DISP-03)."""

    addressee_no: int
    household_no: int
    name: str
    name_kana: str
    alias_name: str | None
    birth_date: date
    birth_date_precision: str
    sex: int
    relationship: str  # 続柄 code (rules.Relationship chain)
    postal_code: str
    town_area_code: str
    town_area_name: str
    lot: str
    building: str | None
    became_resident_on: date
    address_set_on: date
    foreign_resident: bool
    nationality: str | None


def _use_export_approval(uow: UnitOfWork, actor: Actor, approval_id: int | None) -> None:
    """The export's half of ``services._use_approval``: lock, check (the same rule), mark."""
    row = (
        None
        if approval_id is None
        else uow.session.scalar(
            select(PendingApproval).where(PendingApproval.id == approval_id).with_for_update()
        )
    )
    rules.check_approval_use(
        use=rules.ApprovedUse.BULK_EXPORT,
        action=None if row is None else row.action,
        status=None if row is None else row.status,
        used=row is not None and row.used_at is not None,
        covered=(),
        wanted=(),
    )
    assert row is not None
    row.used_at = uow.clock.now()
    row.used_by = actor.user_id
    uow.session.flush()


@authorised(Permission.REGISTRY_EXPORT)
def export_residents(
    uow: UnitOfWork, actor: Actor, *, approval_id: int | None, as_of: date | None = None
) -> Generator[ExportRow, None, None]:
    """Every resident on ``as_of`` (default: the business date), household by household
    in 表示順位, streamed from one set-based query over the as-of selector.

    It does not start without ``approval_id``, an approved ``services.request_bulk_export``
    that no export has used yet (REG-CTRL-36: prior approval by the 管理責任者); the export
    consumes it in its own transaction, so a broken-off run leaves it usable. Consume it
    to the end: the audit row (``"bulk": true``, the count and the date, which the daily
    review lists as a bulk export) is written with the read when the last row has gone.
    A run that stops early (closed, or an error while writing) is audited as ``failed``
    with the count handed out so far.

    The audit row names no subject: the export is everyone in force on ``as_of`` as the
    registry stood at the row's ``at``, which the two-axis history reproduces exactly;
    millions of ids in one row would serve nobody."""
    count = 0
    done = False
    try:
        with uow:
            on = as_of if as_of is not None else uow.clock.business_date()
            _use_export_approval(uow, actor, approval_id)
            rv = ResidentVersion
            query = (
                select(
                    Resident.addressee_no,
                    Household.household_no,
                    rv.name,
                    rv.name_kana,
                    rv.alias_name,
                    rv.birth_date,
                    rv.birth_date_precision,
                    rv.sex,
                    rv.relationship,
                    TownArea.postal_code,
                    TownArea.code.label("town_area_code"),
                    TownArea.name.label("town_area_name"),
                    Address.lot,
                    rv.building,
                    rv.became_resident_on,
                    rv.address_set_on,
                    rv.foreign_resident,
                    rv.nationality,
                )
                .join(Resident, Resident.id == rv.resident_id)
                .join(Household, Household.id == rv.household_id)
                .join(Address, Address.id == rv.address_id)
                .join(TownArea, TownArea.id == Address.town_area_id)
                .where(~rv.removed, _in_force(rv, on, None))
                .order_by(Household.household_no, rv.display_order, Resident.addressee_no)
                .execution_options(yield_per=_EXPORT_BATCH)
            )
            for r in uow.session.execute(query):
                count += 1
                yield ExportRow(**r._asdict())
            audit.record(
                uow,
                actor,
                action=_EXPORT_ACTION,
                detail={
                    "bulk": True,
                    "count": count,
                    "as_of": on.isoformat(),
                    "approval_id": approval_id,
                    **_flags(as_of_given=as_of is not None),
                },
            )
            uow.commit()
            done = True
    finally:
        if not done:
            # After the read's transaction has ended, so the record outlives its rollback.
            audit.record_alone(
                uow,
                actor,
                action=_EXPORT_ACTION,
                outcome="failed",
                detail={"bulk": True, "count": count, **_flags(as_of_given=as_of is not None)},
            )


@dataclass(frozen=True)
class ProtectionMeasureView:
    """A 支援措置 as the officer manages it: dates, scope codes and flags; the 加害者 only as
    a count (their 宛名番号 stay on the record for the issuing check)."""

    measure_id: uuid.UUID
    applicant: bool
    requested_on: date
    valid_from: date
    valid_until: date
    ended_on: date | None
    provisional: bool
    scope: tuple[str, ...]
    offenders: int


@authorised(Permission.REGISTRY_MANAGE_PROTECTION)
def protection_measures(
    uow: UnitOfWork, actor: Actor, resident_id: uuid.UUID
) -> list[ProtectionMeasureView]:
    """The resident's 支援措置, newest first, so the officer can extend or end the right one
    (OQ-02). Reading them is audited like any record read."""
    with uow:
        rows = uow.session.scalars(
            select(ProtectionMeasure)
            .where(ProtectionMeasure.resident_id == resident_id)
            .order_by(ProtectionMeasure.valid_from.desc(), ProtectionMeasure.registered_at.desc())
        ).all()
        views = [
            ProtectionMeasureView(
                m.id,
                m.applicant,
                m.requested_on,
                m.valid_from,
                m.valid_until,
                m.ended_on,
                m.provisional,
                tuple(m.scope),
                len(m.offender_addressee_nos),
            )
            for m in rows
        ]
        audit.record(
            uow,
            actor,
            action="registry.protection_measures",
            subjects=[resident_id],
            detail={"count": len(views)},
        )
        uow.commit()
    return views


# =======================================================================================
# population_statistics (住民基本台帳人口; REG-CTRL-34)
# Appended section: its imports stay here so the section reads and moves as one piece.
# =======================================================================================

__all__ += ["AgeBandCount", "PopulationStatistics", "TownCount", "population_statistics"]

# 5-year bands, the last open (100歳以上), as 住民基本台帳に基づく人口 tables print them.
AGE_BAND_YEARS = 5
LAST_AGE_BAND = 100


@dataclass(frozen=True, slots=True)
class TownCount:
    """One 町字 (or the whole municipality): 世帯数 and persons by sex, foreign residents
    among them. Counts only: nothing here names, numbers or locates a person."""

    town_area_code: str
    town_area_name: str
    households: int
    male: int
    female: int
    foreign_male: int
    foreign_female: int

    @property
    def total(self) -> int:
        return self.male + self.female


@dataclass(frozen=True, slots=True)
class AgeBandCount:
    lowest_age: int  # 0, 5, …, 100 (100歳以上)
    male: int
    female: int

    @property
    def label(self) -> str:
        if self.lowest_age >= LAST_AGE_BAND:
            return f"{LAST_AGE_BAND}歳以上"
        return f"{self.lowest_age}〜{self.lowest_age + AGE_BAND_YEARS - 1}歳"


@dataclass(frozen=True, slots=True)
class PopulationStatistics:
    as_of: date
    towns: tuple[TownCount, ...]
    total: TownCount
    age_bands: tuple[AgeBandCount, ...]


@authorised(Permission.REGISTRY_STATISTICS)
def population_statistics(
    uow: UnitOfWork, actor: Actor, *, as_of: date | None = None
) -> PopulationStatistics:
    """住民基本台帳に基づく人口 as of ``as_of`` (default: the business date): residents in
    force that day (除票 and later 転入 excluded) by 町字 and sex, with 世帯数 and foreign
    residents, and by 5-year age band (age during that day: ``core.calendar.age_on``,
    PostgreSQL's ``age()`` counting alike). Two aggregate queries; only counts leave them
    (REG-CTRL-34: statistics never identify a person), and the audit row names no one.

    Every 町字 in the master is listed, with zeros where nobody lives, so an empty cell is
    not a sign that someone is missing. Exact counts, small ones included, as the monthly
    住基人口 tables publish them; a finer cross-tabulation (町字 × age) is deliberately not
    offered, since there a 1 can point at one person."""
    with uow:
        on = as_of if as_of is not None else uow.clock.business_date()
        rv = ResidentVersion
        live = and_(~rv.removed, _in_force(rv, on, None))
        male = rv.sex == 1
        female = rv.sex == 2
        per_town = (
            select(
                Address.town_area_id.label("town_area_id"),
                func.count(func.distinct(rv.household_id)).label("households"),
                func.count().filter(male).label("male"),
                func.count().filter(female).label("female"),
                func.count().filter(and_(male, rv.foreign_resident)).label("foreign_male"),
                func.count().filter(and_(female, rv.foreign_resident)).label("foreign_female"),
            )
            .join(Address, Address.id == rv.address_id)
            .where(live)
            .group_by(Address.town_area_id)
            .subquery()
        )
        town_rows = uow.session.execute(
            select(
                TownArea.code,
                TownArea.name,
                func.coalesce(per_town.c.households, 0),
                func.coalesce(per_town.c.male, 0),
                func.coalesce(per_town.c.female, 0),
                func.coalesce(per_town.c.foreign_male, 0),
                func.coalesce(per_town.c.foreign_female, 0),
            )
            .outerjoin(per_town, per_town.c.town_area_id == TownArea.id)
            .order_by(TownArea.code)
        ).all()
        years = func.extract("year", func.age(literal(on), rv.birth_date))
        band = func.least(func.floor(years / AGE_BAND_YEARS) * AGE_BAND_YEARS, LAST_AGE_BAND).label(
            "band"
        )
        age_rows = uow.session.execute(
            select(
                band,
                func.count().filter(male),
                func.count().filter(female),
            )
            .where(live)
            .group_by(band)
        ).all()
        audit.record(
            uow,
            actor,
            action="registry.population_statistics",
            detail={"as_of": on.isoformat(), **_flags(as_of_given=as_of is not None)},
        )
        uow.commit()
    towns = tuple(TownCount(str(r[0]), str(r[1]), *map(int, r[2:])) for r in town_rows)
    counted = {int(r[0]): (int(r[1]), int(r[2])) for r in age_rows}
    bands = tuple(
        AgeBandCount(lowest, *counted.get(lowest, (0, 0)))
        for lowest in range(0, LAST_AGE_BAND + 1, AGE_BAND_YEARS)
    )
    total = TownCount(
        "",
        "計",
        sum(t.households for t in towns),
        sum(t.male for t in towns),
        sum(t.female for t in towns),
        sum(t.foreign_male for t in towns),
        sum(t.foreign_female for t in towns),
    )
    return PopulationStatistics(on, towns, total, bands)


# =======================================================================================
# browsing_list (住民基本台帳の一部の写しの閲覧; REG-CTRL-09, OQ-14)
# =======================================================================================

__all__ += ["BrowsingList", "BrowsingRow", "browsing_list"]


@dataclass(frozen=True, slots=True)
class BrowsingRow:
    """The four items of 法第11条 / 第11条の2 and nothing else: no 宛名番号, no id."""

    name: str
    birth_date: date
    sex: int
    address: str

    @property
    def sex_label(self) -> str:
        return SEX_LABELS.get(self.sex, "")


@dataclass(frozen=True, slots=True)
class BrowsingList:
    approval_id: int
    as_of: date
    scope: rules.BrowsingScope
    rows: tuple[BrowsingRow, ...]


@authorised(Permission.REGISTRY_BROWSING)
def browsing_list(uow: UnitOfWork, actor: Actor, approval_id: int) -> BrowsingList:
    """What an approved 閲覧 shows, as of the business date: residents of the scope recorded
    on the 申出 (never a scope the caller passes; REG-CTRL-09), 氏名・生年月日・性別・住所
    only, in address order rather than by name (OQ-14), without anyone under a 支援措置
    that covers 閲覧 (OQ-02). An approval serves the viewing for as long as it takes, so it
    is not consumed; every viewing is audited with the persons shown."""
    with uow:
        request = uow.session.get(PendingApproval, approval_id)
        rules.check_approval_use(
            use=rules.ApprovedUse.BROWSING,
            action=None if request is None else request.action,
            status=None if request is None else request.status,
            used=False,
            covered=(),
            wanted=(),
        )
        assert request is not None
        recorded = request.payload["scope"]
        scope = rules.BrowsingScope(
            tuple(recorded["town_area_codes"]),
            recorded["min_age"],
            recorded["max_age"],
            recorded["sex"],
        )
        on = uow.clock.business_date()
        rv = ResidentVersion
        age = func.extract("year", func.age(literal(on), rv.birth_date))
        where = [
            ~rv.removed,
            _in_force(rv, on, None),
            TownArea.code.in_(scope.town_area_codes),
            ~_protected(rv.resident_id, on, rules.ProtectedUse.BROWSING),
        ]
        if scope.min_age is not None:
            where.append(age >= scope.min_age)
        if scope.max_age is not None:
            where.append(age <= scope.max_age)
        if scope.sex is not None:
            where.append(rv.sex == scope.sex)
        found = uow.session.execute(
            select(
                rv.resident_id,
                rv.name,
                rv.birth_date,
                rv.sex,
                TownArea.name,
                Address.lot,
                rv.building,
            )
            .join(Address, Address.id == rv.address_id)
            .join(TownArea, TownArea.id == Address.town_area_id)
            .where(*where)
            .order_by(TownArea.code, Address.id, rv.building, rv.household_id, rv.display_order)
        ).all()
        rows = tuple(
            BrowsingRow(
                r.name,
                r.birth_date,
                r.sex,
                _address_text(r[4], r.lot) + (f" {r.building}" if r.building else ""),
            )
            for r in found
        )
        audit.record(
            uow,
            actor,
            action="registry.browsing_list",
            subjects=[r.resident_id for r in found],
            detail={"approval_id": approval_id, "count": len(rows)},
        )
        uow.commit()
    return BrowsingList(approval_id, on, scope, rows)


# =======================================================================================
# protected_residents (発行停止者一覧; REG-CTRL-33)
# =======================================================================================

__all__ += ["ProtectedResidentView", "protected_residents"]

_PROTECTED_USE_LABELS = {
    rules.ProtectedUse.BROWSING.value: "閲覧",
    rules.ProtectedUse.RESIDENT_RECORD_COPY.value: "住民票の写し等",
    rules.ProtectedUse.REMOVED_RECORD_COPY.value: "除票の写し等",
    rules.ProtectedUse.FAMILY_REGISTER_SUPPLEMENT_COPY.value: "附票の写し等",
}


@dataclass(frozen=True, slots=True)
class ProtectedResidentView:
    resident_id: uuid.UUID
    addressee_no: int
    name: str
    valid_from: date
    valid_until: date
    provisional: bool
    scope: tuple[str, ...]  # labels of what is blocked


@authorised(Permission.REGISTRY_MANAGE_PROTECTION)
def protected_residents(
    uow: UnitOfWork, actor: Actor, *, on: date | None = None
) -> list[ProtectedResidentView]:
    """発行停止者一覧 (seed 004 §I-2 システム1 5; REG-CTRL-33): every resident with a 支援措置
    in force on ``on`` (default: the business date), what it blocks and until when, by
    宛名番号, for the 支援措置 staff to review expiries (a measure lapses only when ended,
    rules.protection_decision). Audited with the persons listed."""
    with uow:
        day = on if on is not None else uow.clock.business_date()
        pm = ProtectionMeasure
        rv = ResidentVersion
        rows = uow.session.execute(
            select(
                pm.resident_id,
                Resident.addressee_no,
                rv.name,
                pm.valid_from,
                pm.valid_until,
                pm.provisional,
                pm.scope,
            )
            .join(Resident, Resident.id == pm.resident_id)
            .join(rv, and_(rv.resident_id == pm.resident_id, _in_force(rv, day, None)))
            .where(pm.valid_from <= day, or_(pm.ended_on.is_(None), pm.ended_on > day))
            .order_by(pm.valid_until, Resident.addressee_no)
        ).all()
        views = [
            ProtectedResidentView(
                r.resident_id,
                r.addressee_no,
                r.name,
                r.valid_from,
                r.valid_until,
                r.provisional,
                tuple(label for u, label in _PROTECTED_USE_LABELS.items() if u in r.scope),
            )
            for r in rows
        ]
        audit.record(
            uow,
            actor,
            action="registry.protected_residents",
            subjects=[v.resident_id for v in views],
            detail={"count": len(views), **_flags(on_given=on is not None)},
        )
        uow.commit()
    return views


# =======================================================================================
# draft_detail (決裁 screen of a 仮登録; REG-CTRL-13)
# =======================================================================================

__all__ += ["DraftDetail", "DraftItem", "draft_detail"]

_DRAFT_KINDS = {
    "registry.ex_officio_entry": "職権記載",
    "registry.ex_officio_correction": "職権修正",
    "registry.ex_officio_deletion": "職権消除",
}


@dataclass(frozen=True, slots=True)
class DraftItem:
    label: str
    recorded: str  # what the 住民票 says now ("" for a new entry)
    proposed: str  # what the 仮登録 would record


@dataclass(frozen=True, slots=True)
class DraftDetail:
    approval_id: int
    kind: str
    change_reason_label: str
    resident_ids: tuple[uuid.UUID, ...]
    requested_at: datetime
    version: int
    items: tuple[DraftItem, ...]


def _shown(field: str, value: object) -> str:
    """A record item as the 決裁 screen shows it: dates in 和暦, 性別 and 続柄 by name."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return to_wareki(date.fromisoformat(value))
    if isinstance(value, date):
        return to_wareki(value)
    if field == "sex":
        return SEX_LABELS.get(int(str(value)), str(value))
    if field == "relationship":
        return rules.relationship_label(str(value))
    if isinstance(value, bool):
        return "あり" if value else "なし"
    return str(value)


@authorised(Permission.REGISTRY_APPROVE)
def draft_detail(uow: UnitOfWork, actor: Actor, approval_id: int) -> DraftDetail:
    """A pending 職権 draft for its 決裁: each item with what the record says now beside
    what the draft would record, so the approver can compare both with the 届出書 or the
    documents before marking it 照合済 (REG-CTRL-13). The values are personal data: the
    read is audited with the persons concerned."""
    with uow:
        draft = uow.session.get(PendingApproval, approval_id)
        if (
            draft is None
            or draft.action not in _DRAFT_KINDS
            or draft.status != rules.ApprovalStatus.PENDING
        ):
            raise _not_found(uow, actor, "registry.draft_detail", [], {"approval_id": approval_id})
        payload, values = draft.payload, draft.draft_values or {}
        items: list[DraftItem] = []
        if payload["kind"] == "correction":
            current = uow.session.scalar(
                select(ResidentVersion).where(
                    ResidentVersion.resident_id == uuid.UUID(payload["resident_id"]),
                    ResidentVersion.valid_to.is_(None),
                    ResidentVersion.superseded_at.is_(None),
                )
            )
            for f in payload["fields"]:
                items.append(
                    DraftItem(
                        rules.FIELD_LABELS.get(f, f),
                        _shown(f, getattr(current, f, None)),
                        _shown(f, values.get(f)),
                    )
                )
        elif payload["kind"] == "entry":
            person = values.get("person", {})
            for f in payload["fields"]:
                if f == "resident_id":
                    continue
                items.append(DraftItem(rules.FIELD_LABELS.get(f, f), "", _shown(f, person.get(f))))
            items.append(DraftItem("異動日", "", _shown("effective_on", payload["effective_on"])))
        else:
            items.append(DraftItem("消除日", "", _shown("effective_on", payload["effective_on"])))
        detail = DraftDetail(
            draft.id,
            _DRAFT_KINDS[draft.action],
            rules.ChangeReason(payload["change_reason"]).label,
            tuple(draft.resident_ids),
            draft.requested_at,
            draft.version,
            tuple(items),
        )
        audit.record(
            uow,
            actor,
            action="registry.draft_detail",
            subjects=list(draft.resident_ids),
            detail={"approval_id": approval_id, "fields": list(payload["fields"])},
        )
        uow.commit()
    return detail
