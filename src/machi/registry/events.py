"""Outbox events of the registry (庁内連携). Past-tense, versioned, frozen; they carry ids,
dates and codes only — never a name, an address, a 住民票コード or a 個人番号 — so a
subscriber that needs more reads it through ``registry.queries``, audited, as its own
system actor with a purpose (style-examples §5).

Codes are plain ``str`` values of the enums in ``machi.registry.rules`` (``change_reason``
is a ``ChangeReason`` value); events do not import rules so that the two rooms stay
independent (import-linter layers). Every field is a scalar, so an event survives the
round trip through ``core.events.to_payload`` / ``from_payload`` unchanged.

``effective_on`` is the 異動日; for a 転出 notified in advance it may lie in the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from machi.core.events import DomainEvent

__all__ = [
    "CertificateIssued",
    "ChangeCancelled",
    "ForeignResidentStatusChanged",
    "HouseholdChanged",
    "IndividualNumberChanged",
    "ProtectionMeasureEnded",
    "ProtectionMeasureStarted",
    "ResidentBorn",
    "ResidentDied",
    "ResidentEnteredExOfficio",
    "ResidentMovedIn",
    "ResidentMovedOut",
    "ResidentMovedWithin",
    "ResidentRecordCodeChanged",
    "ResidentRecordCorrected",
    "ResidentRemovedExOfficio",
]


@dataclass(frozen=True, kw_only=True)
class ResidentMovedIn(DomainEvent):
    """転入 (法第22条), 特例転入 (第24条の2), 国外からの転入 or 法第30条の46/47: a new 住民票.
    atena assigns the 宛名番号 link; nhi checks enrolment; jukinet sends the 転入通知."""

    name: ClassVar[str] = "registry.resident_moved_in"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date
    change_reason: str
    # 地方公共団体コード of the former municipality; None from abroad or when unknown.
    from_local_government_code: str | None = None
    # True when a 除票 of the same person existed and its 宛名番号 was reused (REG-CTRL-26).
    re_entry: bool = False


@dataclass(frozen=True, kw_only=True)
class ResidentMovedOut(DomainEvent):
    """転出 (法第24条). ``confirmed`` is False when recorded from the 転出届 (planned date
    and destination) and True once the 転入通知 (法第9条第1項) fixed them; a planned move
    is followed by a confirmed one for the same resident."""

    name: ClassVar[str] = "registry.resident_moved_out"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date
    change_reason: str
    confirmed: bool
    to_local_government_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResidentMovedWithin(DomainEvent):
    """転居 (法第23条): new address inside the municipality; ``previous_household_id`` is set
    when the move also changed the household."""

    name: ClassVar[str] = "registry.resident_moved_within"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date
    previous_household_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ResidentBorn(DomainEvent):
    """出生 entered ex officio on the 戸籍 notice (法第8条, 第9条第2項)."""

    name: ClassVar[str] = "registry.resident_born"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date


@dataclass(frozen=True, kw_only=True)
class ResidentDied(DomainEvent):
    """死亡: the 住民票 is removed and kept as a 除票 for 150 years (住基令 第34条)."""

    name: ClassVar[str] = "registry.resident_died"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date


@dataclass(frozen=True, kw_only=True)
class ResidentEnteredExOfficio(DomainEvent):
    """職権記載 (帰化, 国籍喪失, 職権回復 …) other than 出生."""

    name: ClassVar[str] = "registry.resident_entered_ex_officio"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date
    change_reason: str


@dataclass(frozen=True, kw_only=True)
class ResidentRemovedExOfficio(DomainEvent):
    """職権消除 (居住実態なし, 失踪宣告, 帰化・国籍喪失の切替, 在留期間満了 …)."""

    name: ClassVar[str] = "registry.resident_removed_ex_officio"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    effective_on: date
    change_reason: str


@dataclass(frozen=True, kw_only=True)
class HouseholdChanged(DomainEvent):
    """世帯分離 / 世帯合併 / 世帯変更 / 世帯主変更 (法第25条), one event per resident whose
    household or 続柄 changed. ``previous_household_id`` equals ``household_id`` when only
    the 続柄 changed (世帯主変更)."""

    name: ClassVar[str] = "registry.household_changed"
    version: ClassVar[int] = 1
    resident_id: UUID
    household_id: UUID
    previous_household_id: UUID
    effective_on: date
    change_reason: str
    became_head: bool


@dataclass(frozen=True, kw_only=True)
class ResidentRecordCorrected(DomainEvent):
    """職権修正, 誤記修正, 軽微な修正, 旧氏・通称の記載/削除 and the like. ``changed_fields`` is
    a comma-separated list of column names (names of items, not their values)."""

    name: ClassVar[str] = "registry.resident_record_corrected"
    version: ClassVar[int] = 1
    resident_id: UUID
    effective_on: date
    change_reason: str
    changed_fields: str


@dataclass(frozen=True, kw_only=True)
class ChangeCancelled(DomainEvent):
    """異動の取消し (増 / 減 / 修正): the change recorded in ``cancelled_history_no`` no longer
    holds; subscribers undo what they derived from it."""

    name: ClassVar[str] = "registry.change_cancelled"
    version: ClassVar[int] = 1
    resident_id: UUID
    effective_on: date
    change_reason: str
    cancelled_history_no: int


@dataclass(frozen=True, kw_only=True)
class ForeignResidentStatusChanged(DomainEvent):
    """A 外国人住民's 法第30条の45 items changed (在留資格, 在留期間, 区分, card), usually on an
    出入国在留管理庁 notice (法第30条の50). Values are not carried."""

    name: ClassVar[str] = "registry.foreign_resident_status_changed"
    version: ClassVar[int] = 1
    resident_id: UUID
    effective_on: date
    change_reason: str
    foreign_resident_class: str


@dataclass(frozen=True, kw_only=True)
class IndividualNumberChanged(DomainEvent):
    """The 個人番号 was assigned or changed (番号法 第7条); the number stays in the vault."""

    name: ClassVar[str] = "registry.individual_number_changed"
    version: ClassVar[int] = 1
    resident_id: UUID
    effective_on: date
    first_assignment: bool


@dataclass(frozen=True, kw_only=True)
class ResidentRecordCodeChanged(DomainEvent):
    """A 住民票コード was recorded or changed (法第30条の3, 第30条の4); the code is not carried
    (法第30条の42 restricts who may ask for it)."""

    name: ClassVar[str] = "registry.resident_record_code_changed"
    version: ClassVar[int] = 1
    resident_id: UUID
    effective_on: date
    first_assignment: bool


@dataclass(frozen=True, kw_only=True)
class ProtectionMeasureStarted(DomainEvent):
    """A 支援措置 (or 仮支援措置) now protects the resident: コンビニ交付, 住基ネットCS and 宛名
    systems suppress issuance (標準仕様 §2.3 j410)."""

    name: ClassVar[str] = "registry.protection_measure_started"
    version: ClassVar[int] = 1
    measure_id: UUID
    resident_id: UUID
    valid_from: date
    provisional: bool


@dataclass(frozen=True, kw_only=True)
class ProtectionMeasureEnded(DomainEvent):
    name: ClassVar[str] = "registry.protection_measure_ended"
    version: ClassVar[int] = 1
    measure_id: UUID
    resident_id: UUID
    ended_on: date
    end_reason: str


@dataclass(frozen=True, kw_only=True)
class CertificateIssued(DomainEvent):
    """A certificate was issued (交付履歴 row ``issuance_id``); for the optional 本人通知
    (標準仕様 §2.8) and issuance statistics."""

    name: ClassVar[str] = "registry.certificate_issued"
    version: ClassVar[int] = 1
    issuance_id: int
    kind: str
    channel: str
    requester_type: str
