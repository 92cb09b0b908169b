"""Tables of schema ``registry`` (住民基本台帳). Migration:
``migrations/versions/0005_registry.py``, kept identical (tests/registry/test_schema.py).

- ``town_area`` / ``address``: the address master (町字, 番地).
- ``household``: 世帯, a stable id and its 世帯番号; who belongs and who heads it is history
  (``resident_version.household_id`` / ``relationship``).
- ``resident``: the stable identity (id, 宛名番号, current 住民票コード, status).
- ``resident_version``: 履歴, one row per state of a 住民票 with every record item
  (標準仕様 §5.3: full-row snapshots), on two time axes (valid and recorded).
- ``pending_approval``: 仮登録 awaiting 決裁 by a second person (REG-CTRL-11/12/16).
- ``protection_measure``: 支援措置 (OQ-02).
- ``certificate_issuance``: 交付履歴 (標準仕様 §3.10).
- ``record_note``: 統合記載欄 B (留意事項) / C (備考) and the staff memo (標準仕様 §3.1).
- ``individual_item``: 個別事項 received from other affairs (法第7条第9号〜第11号の2).

個人番号 is not here: it lives sealed in ``privacy.individual_number`` keyed by resident id.
Rows of ``resident_version``, ``certificate_issuance``, ``record_note`` and
``pending_approval`` are never deleted (the app role has no DELETE on this schema); the
history row may only have ``valid_to`` (with ``closed_at``) and ``superseded_at`` set after
insert, each once (column grants and a trigger, migration 0007). Purging 除票 after 150
years (住基令 第34条) is an owner-run retention job.

Code lists in CHECK constraints are literal here because models may not import rules;
tests/registry/test_schema.py asserts they equal the enums of ``machi.registry.rules``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from machi.core.db import Base
from machi.core.text import normalize_kana, normalize_name

SCHEMA = "registry"

# ---------------------------------------------------------------------------------------
# Code lists (mirrors of machi.registry.rules; see the module docstring)
# ---------------------------------------------------------------------------------------

CHANGE_REASONS = (
    "domestic_move_in",
    "card_based_move_in",
    "move_in_from_abroad",
    "foreign_resident_entry",
    "birth",
    "ex_officio_entry_naturalization",
    "ex_officio_entry_nationality_loss",
    "ex_officio_entry",
    "recreation_entry",
    "reproduction_entry",
    "cancellation_increase",
    "domestic_move_out",
    "card_based_move_out",
    "move_out_abroad",
    "death",
    "ex_officio_deletion_naturalization",
    "ex_officio_deletion_nationality_loss",
    "ex_officio_deletion",
    "recreation_removal",
    "reproduction_removal",
    "cancellation_decrease",
    "move_within",
    "move_out_confirmation",
    "minor_correction",
    "ex_officio_correction",
    "clerical_error_correction",
    "individual_number_change",
    "resident_record_code_change",
    "household_split",
    "household_merge",
    "household_change",
    "household_head_change",
    "former_surname_entry",
    "former_surname_change",
    "former_surname_deletion",
    "alias_name_entry",
    "alias_name_deletion",
    "cancellation_correction",
)
NOTICE_KINDS = ("notification", "request", "claim", "notice")
FOREIGN_RESIDENT_CLASSES = (
    "mid_to_long_term",
    "special_permanent_resident",
    "temporary_refuge",
    "provisional_stay",
    "transitional_birth",
    "transitional_nationality_loss",
)
RESIDENT_STATUSES = ("current", "removed")
# 標準仕様 §3.4: some 生年月日 are partly unknown (不詳); birth_date stays a sortable date and
# this says how much of it is known.
BIRTH_DATE_PRECISIONS = ("day", "month", "year", "unknown")
APPROVAL_STATUSES = ("pending", "approved", "rejected")
PROTECTED_USES = (
    "browsing",
    "resident_record_copy",
    "removed_record_copy",
    "family_register_supplement_copy",
)
PROTECTION_END_REASONS = ("request", "expired", "unnecessary")
# 交付履歴 kinds (標準仕様 §3.10).
CERTIFICATE_KINDS = (
    "resident_record_copy",
    "removed_record_copy",
    "record_statement_certificate",
    "removed_record_statement_certificate",
    "move_out_certificate",
    "move_out_certificate_equivalent",
    "browsing_copy",
    "resident_record_code_notice",
    "resident_record_code_change_notice",
    "resident_record_code_correction_notice",
)
ISSUANCE_CHANNELS = ("counter", "mail", "konbini", "wide_area")
REQUESTER_TYPES = (
    "self",
    "household_member",
    "agent",
    "public_agency",
    "third_party",
    "professional",
)
NOTE_KINDS = ("caution", "remark", "memo")
INDIVIDUAL_ITEMS = (
    "electoral_roll",
    "nhi",
    "late_elderly_medical",
    "long_term_care",
    "national_pension",
    "child_allowance",
)

# 宛名番号 and 世帯番号 are bigints of at most 15 digits (printed zero-padded to 15).
MAX_NUMBER = 10**15


def _in(name: str, values: tuple[str, ...]) -> str:
    return f"{name} IN ({', '.join(repr(v) for v in values)})"


def _digits(name: str, n: int) -> str:
    return f"{name} ~ '^[0-9]{{{n}}}$'"


# ---------------------------------------------------------------------------------------
# Address master
# ---------------------------------------------------------------------------------------


class TownArea(Base):
    """町字 of the 住所辞書. ``code`` is the municipality-local part of the 11-digit 住所コード
    (大字 3 + 小字 3 digits; 標準仕様 §2.1 j250); the prefecture and municipality digits are the
    municipality's own and are not repeated per row."""

    __tablename__ = "town_area"
    __table_args__ = (
        CheckConstraint(_digits("code", 6), name="code"),
        CheckConstraint(_digits("postal_code", 7), name="postal_code"),
        CheckConstraint(
            _in("address_style", ("residence_indication", "lot_number")), name="address_style"
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_kana: Mapped[str] = mapped_column(Text)
    postal_code: Mapped[str] = mapped_column(String(7))
    # 住居表示 (「3丁目12番5号」) or 地番 (「1234番地5」).
    address_style: Mapped[str] = mapped_column(String(20))
    # Set when a 住居表示 or 区画整理 retires the area; old rows stay for history and 本籍.
    abolished_on: Mapped[date | None] = mapped_column(Date)


class Address(Base):
    """番地 within a 町字. Lot, branch and room parts are numbers so that they sort
    (標準仕様 §2.1 j240); ``lot`` is the text as printed."""

    __tablename__ = "address"
    __table_args__ = (
        UniqueConstraint("town_area_id", "lot", name="uq_address_town_area_id_lot"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    town_area_id: Mapped[int] = mapped_column(ForeignKey("registry.town_area.id"), index=True)
    chome: Mapped[int | None] = mapped_column(SmallInteger)
    lot_no: Mapped[int] = mapped_column(Integer)
    sub_no: Mapped[int | None] = mapped_column(Integer)
    lot: Mapped[str] = mapped_column(Text)
    abolished_on: Mapped[date | None] = mapped_column(Date)


# ---------------------------------------------------------------------------------------
# Households and residents
# ---------------------------------------------------------------------------------------


class Household(Base):
    """世帯. Members, head and address are history on ``resident_version`` (the household
    is the set of live rows sharing ``household_id``, 標準仕様 §3.1); this row gives the
    household a stable id, its 世帯番号, and a version for optimistic locking of changes
    that touch the household as a whole (分離, 合併, 世帯主変更)."""

    __tablename__ = "household"
    __table_args__ = (
        CheckConstraint(
            f"household_no > 0 AND household_no < {MAX_NUMBER}", name="household_no_range"
        ),
        CheckConstraint("dissolved_on IS NULL OR dissolved_on >= formed_on", name="dissolved"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    # 世帯番号: serial + M11W2〜7 check digit (標準仕様 §3.5; rules.addressee_no_from_serial).
    household_no: Mapped[int] = mapped_column(BigInteger, unique=True)
    formed_on: Mapped[date] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Resident(Base):
    """The stable identity of a person on the registry. Re-entry after a 除票 reuses this
    row and its 宛名番号 (REG-CTRL-26; 標準仕様 §2.4 j600).

    ``addressee_no`` (宛名番号) is a bigint, not text: it is a serial plus one check digit
    (標準仕様 §3.5), shared with atena's 住登外者 numbers in one number space (glossary), and
    printed zero-padded to 15 digits; numbers migrated from an older system keep their
    value. ``resident_record_code`` is the current 住民票コード, null until 住基ネット
    assigns one; each ``resident_version`` row keeps the code in force for that state."""

    __tablename__ = "resident"
    __table_args__ = (
        CheckConstraint(
            f"addressee_no > 0 AND addressee_no < {MAX_NUMBER}", name="addressee_no_range"
        ),
        CheckConstraint(_digits("resident_record_code", 11), name="resident_record_code"),
        CheckConstraint(_in("status", RESIDENT_STATUSES), name="status"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    addressee_no: Mapped[int] = mapped_column(BigInteger, unique=True)
    resident_record_code: Mapped[str | None] = mapped_column(String(11), unique=True)
    # 'current' while a live 住民票 exists, 'removed' once it is a 除票.
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


_NOT_FOREIGN_ITEMS = (
    "nationality",
    "foreign_resident_class",
    "residence_status",
    "residence_period",
    "residence_expires_on",
    "residence_card_no",
    "became_foreign_resident_on",
    "alias_name",
    "alias_name_kana",
    "alphabet_name",
)
_NOT_JAPANESE_ITEMS = (
    "registered_domicile",
    "family_register_head",
    "former_surname",
    "former_surname_kana",
)


class ResidentVersion(Base):
    """履歴: one row per state of a resident's 住民票, holding every record item (標準仕様
    §5.3). Rows are inserted; afterwards only ``valid_to`` with ``closed_at`` (closed by the
    next change) and ``superseded_at`` (set by 職権修正/誤記修正/取消し, which insert a
    replacement) change.

    Valid time is [valid_from, valid_to): valid_from is the 異動日 of the change that made
    this state, valid_to the 異動日 of the next one (None while open). A 転出 recorded in
    advance gives the open row a future valid_from. A row with ``removed`` is the state
    "除票" that follows a 消除 (転出, 死亡, 職権消除 …). The as-of predicate is
    ``machi.registry.rules.in_force``.

    The database refuses two live rows of one resident on the same date (exclusion
    constraint, needs btree_gist), two open rows of one resident (partial unique index), and
    two 世帯主 of one household on the same date.

    ``name_key`` / ``name_kana_key`` (and the 通称 keys) are search keys computed with
    machi.core.text when the ORM sets the name; bulk COPY loads must compute them too."""

    __tablename__ = "resident_version"
    __table_args__ = (
        UniqueConstraint("resident_id", "history_no", name="uq_resident_version_history_no"),
        CheckConstraint("history_no >= 1", name="history_no"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        CheckConstraint(
            "(valid_to IS NULL) = (closed_at IS NULL)"
            " AND (closed_at IS NULL OR closed_at >= recorded_at)",
            name="closed_pair",
        ),
        CheckConstraint(_in("change_reason", CHANGE_REASONS), name="change_reason"),
        CheckConstraint(_in("notice_kind", NOTICE_KINDS), name="notice_kind"),
        CheckConstraint("(notice_kind IS NULL) = (notified_on IS NULL)", name="notice_pair"),
        CheckConstraint(_digits("resident_record_code", 11), name="resident_record_code"),
        CheckConstraint("sex IN (1, 2)", name="sex"),
        CheckConstraint(_in("birth_date_precision", BIRTH_DATE_PRECISIONS), name="birth_precision"),
        CheckConstraint("display_order >= 1", name="display_order"),
        CheckConstraint("address_set_on >= became_resident_on", name="address_set_on"),
        CheckConstraint(
            _in("foreign_resident_class", FOREIGN_RESIDENT_CLASSES), name="foreign_resident_class"
        ),
        CheckConstraint(
            "foreign_resident OR ("
            + " AND ".join(f"{c} IS NULL" for c in _NOT_FOREIGN_ITEMS)
            + ")",
            name="japanese_items",
        ),
        CheckConstraint(
            "NOT foreign_resident OR ("
            + " AND ".join(f"{c} IS NULL" for c in _NOT_JAPANESE_ITEMS)
            + " AND nationality IS NOT NULL AND foreign_resident_class IS NOT NULL"
            " AND became_foreign_resident_on IS NOT NULL)",
            name="foreign_items",
        ),
        # 戸籍の表示 is never blank for a Japanese resident: 「なし」/「不明」 (標準仕様 §3.3).
        CheckConstraint(
            "foreign_resident OR registered_domicile IS NOT NULL", name="registered_domicile"
        ),
        CheckConstraint(
            "residence_card_no ~ '^[A-Z]{2}[0-9]{8}[A-Z]{2}$'", name="residence_card_no"
        ),
        CheckConstraint(
            " AND ".join(
                _digits(c, 6)
                for c in (
                    "moved_in_from_local_government_code",
                    "planned_move_out_to_local_government_code",
                    "moved_out_to_local_government_code",
                )
            ),
            name="local_government_codes",
        ),
        CheckConstraint(
            " AND ".join(
                _digits(c, 7)
                for c in (
                    "moved_in_from_postal_code",
                    "planned_move_out_to_postal_code",
                    "moved_out_to_postal_code",
                )
            ),
            name="postal_codes",
        ),
        ExcludeConstraint(
            ("resident_id", "="),
            (func.daterange(column("valid_from"), column("valid_to")), "&&"),
            name="resident_version_no_overlap",
            using="gist",
            where=text("superseded_at IS NULL"),
        ),
        ExcludeConstraint(
            ("household_id", "="),
            (func.daterange(column("valid_from"), column("valid_to")), "&&"),
            name="resident_version_one_head",
            using="gist",
            where=text("superseded_at IS NULL AND NOT removed AND relationship = 'head'"),
        ),
        Index(
            "uq_resident_version_open",
            "resident_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL AND superseded_at IS NULL"),
        ),
        Index("ix_resident_version_household_id", "household_id"),
        Index("ix_resident_version_address_id", "address_id"),
        Index("ix_resident_version_birth_date", "birth_date"),
        # 4情報 search, a name too short for trigrams with 生年(月日): index-only (0008).
        Index(
            "ix_resident_version_live_birth_names",
            "birth_date",
            postgresql_include=[
                "name_kana_key",
                "alias_name_kana_key",
                "name_key",
                "alias_name_key",
                "id",
            ],
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index(
            "ix_resident_version_residence_card_no",
            "residence_card_no",
            postgresql_where=text("residence_card_no IS NOT NULL"),
        ),
        # History search (標準仕様 §5.1: former names find a person too) → every row indexed.
        Index(
            "ix_resident_version_name_kana_key_trgm",
            "name_kana_key",
            postgresql_using="gin",
            postgresql_ops={"name_kana_key": "gin_trgm_ops"},
        ),
        Index(
            "ix_resident_version_name_key_trgm",
            "name_key",
            postgresql_using="gin",
            postgresql_ops={"name_key": "gin_trgm_ops"},
        ),
        Index(
            "ix_resident_version_alias_name_kana_key_trgm",
            "alias_name_kana_key",
            postgresql_using="gin",
            postgresql_ops={"alias_name_kana_key": "gin_trgm_ops"},
            postgresql_where=text("alias_name_kana_key IS NOT NULL"),
        ),
        Index(
            "ix_resident_version_alias_name_key_trgm",
            "alias_name_key",
            postgresql_using="gin",
            postgresql_ops={"alias_name_key": "gin_trgm_ops"},
            postgresql_where=text("alias_name_key IS NOT NULL"),
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("registry.resident.id"))
    # 履歴番号: 1, 2, 3 … per resident in order of recording (標準仕様 §5.3).
    history_no: Mapped[int] = mapped_column(Integer)

    # --- the change that made this state ------------------------------------------------
    valid_from: Mapped[date] = mapped_column(Date)  # 異動日 (effective_on)
    valid_to: Mapped[date | None] = mapped_column(Date)  # exclusive
    # 届出日 / 申出日 / 請求日 / 通知日, told apart by notice_kind; both None for pure 職権.
    notified_on: Mapped[date | None] = mapped_column(Date)
    notice_kind: Mapped[str | None] = mapped_column(String(16))
    change_reason: Mapped[str] = mapped_column(String(40))  # 異動事由 (rules.ChangeReason)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # 処理日時
    # Staff user who committed it (決裁者); None only for rows migrated from a legacy system.
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    approval_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("registry.pending_approval.id")
    )
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When valid_to was set (the closing 異動's recorded_at): as recorded before this
    # instant the row was still open (rules.in_force). Set together with valid_to, once.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # True for the state after a 消除: the record is a 除票 from valid_from on.
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    # --- identity ------------------------------------------------------------------------
    resident_record_code: Mapped[str | None] = mapped_column(String(11))
    name: Mapped[str] = mapped_column(Text)
    name_kana: Mapped[str] = mapped_column(Text)
    name_kana_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    name_key: Mapped[str] = mapped_column(Text)
    name_kana_key: Mapped[str] = mapped_column(Text)
    former_surname: Mapped[str | None] = mapped_column(Text)  # 旧氏 (Japanese)
    former_surname_kana: Mapped[str | None] = mapped_column(Text)
    alias_name: Mapped[str | None] = mapped_column(Text)  # 通称 (foreign residents)
    alias_name_kana: Mapped[str | None] = mapped_column(Text)
    alias_name_key: Mapped[str | None] = mapped_column(Text)
    alias_name_kana_key: Mapped[str | None] = mapped_column(Text)
    alphabet_name: Mapped[str | None] = mapped_column(Text)  # 氏名 in Latin letters (foreign)
    birth_date: Mapped[date] = mapped_column(Date)
    birth_date_precision: Mapped[str] = mapped_column(String(8), default="day")
    # 1 男, 2 女
    sex: Mapped[int] = mapped_column(SmallInteger)
    # 成年被後見人 (標準仕様 §2.9: flag and a notice to the new municipality on 転出).
    adult_guardianship: Mapped[bool] = mapped_column(Boolean, default=False)

    # --- household -----------------------------------------------------------------------
    household_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("registry.household.id"))
    # 続柄 code (rules.Relationship, chains joined by "."), relative to the household head.
    relationship: Mapped[str] = mapped_column(String(60))
    display_order: Mapped[int] = mapped_column(SmallInteger)  # 表示順位 in the household

    # --- address -------------------------------------------------------------------------
    address_id: Mapped[int] = mapped_column(Integer, ForeignKey("registry.address.id"))
    building: Mapped[str | None] = mapped_column(Text)  # 方書
    became_resident_on: Mapped[date] = mapped_column(Date)  # 住民となった年月日
    # 住所を定めた年月日: equals became_resident_on until a 転居 (標準仕様 §2.4 j590).
    address_set_on: Mapped[date] = mapped_column(Date)
    moved_in_on: Mapped[date | None] = mapped_column(Date)  # 転入をした年月日
    moved_in_from: Mapped[str | None] = mapped_column(Text)  # 転入前住所 (may be abroad, 不明)
    moved_in_from_local_government_code: Mapped[str | None] = mapped_column(String(6))
    moved_in_from_postal_code: Mapped[str | None] = mapped_column(String(7))
    # 転出 as notified (予定) and as confirmed by the 転入通知 (確定); both kept (j680).
    planned_move_out_on: Mapped[date | None] = mapped_column(Date)
    planned_move_out_to: Mapped[str | None] = mapped_column(Text)
    planned_move_out_to_local_government_code: Mapped[str | None] = mapped_column(String(6))
    planned_move_out_to_postal_code: Mapped[str | None] = mapped_column(String(7))
    moved_out_on: Mapped[date | None] = mapped_column(Date)
    moved_out_to: Mapped[str | None] = mapped_column(Text)
    moved_out_to_local_government_code: Mapped[str | None] = mapped_column(String(6))
    moved_out_to_postal_code: Mapped[str | None] = mapped_column(String(7))
    move_in_notice_received_on: Mapped[date | None] = mapped_column(Date)  # 転入通知受理日

    # --- 戸籍の表示 (Japanese residents) ------------------------------------------------
    registered_domicile: Mapped[str | None] = mapped_column(Text)  # 本籍, or なし / 不明
    family_register_head: Mapped[str | None] = mapped_column(Text)  # 筆頭者

    # --- 外国人住民 (法第30条の45) -----------------------------------------------------
    foreign_resident: Mapped[bool] = mapped_column(Boolean, default=False)
    # 国籍・地域: ISO 3166-1 alpha-2; 'XXA' (ICAO) for 無国籍.
    nationality: Mapped[str | None] = mapped_column(String(3))
    foreign_resident_class: Mapped[str | None] = mapped_column(String(40))
    residence_status: Mapped[str | None] = mapped_column(Text)  # 在留資格
    # 在留期間等: 在留期間, 上陸期間 or 仮滞在期間 as printed (e.g. 「3年」).
    residence_period: Mapped[str | None] = mapped_column(Text)
    residence_expires_on: Mapped[date | None] = mapped_column(Date)  # 満了の日
    residence_card_no: Mapped[str | None] = mapped_column(String(12))  # 在留カード等の番号
    became_foreign_resident_on: Mapped[date | None] = mapped_column(Date)

    @validates("name")
    def _name_key(self, _key: str, value: str) -> str:
        self.name_key = normalize_name(value)
        return value

    @validates("name_kana")
    def _name_kana_key(self, _key: str, value: str) -> str:
        self.name_kana_key = normalize_kana(value)
        return value

    @validates("alias_name")
    def _alias_name_key(self, _key: str, value: str | None) -> str | None:
        self.alias_name_key = None if value is None else normalize_name(value)
        return value

    @validates("alias_name_kana")
    def _alias_name_kana_key(self, _key: str, value: str | None) -> str | None:
        self.alias_name_kana_key = None if value is None else normalize_kana(value)
        return value


# ---------------------------------------------------------------------------------------
# Four-eyes drafts, 支援措置, issuance log, notes, 個別事項
# ---------------------------------------------------------------------------------------


class PendingApproval(Base):
    """A 仮登録 waiting for 決裁 by someone else (REG-CTRL-11, -12; 職権修正 of 本人確認情報
    items needs the 本人確認情報管理責任者, REG-CTRL-16), or a request that may run only once
    approved (``action`` is a rules.ApprovedUse: 公用・第三者請求 REG-CTRL-10, 一括出力
    REG-CTRL-36), whose ``payload`` also keeps the 請求者, 利用目的 and legal basis the
    approver decides on. For drafts ``payload`` holds ids, codes,
    dates and changed field names only, so listing drafts shows no personal value;
    ``draft_values`` holds the proposed record items until the draft is decided, and is
    cleared then (on approval the values live on in ``resident_version``; a rejected draft
    was never registry data). The database itself refuses self-approval."""

    __tablename__ = "pending_approval"
    __table_args__ = (
        CheckConstraint(_in("status", APPROVAL_STATUSES), name="status"),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
        CheckConstraint("used_at IS NULL OR status = 'approved'", name="used_when_approved"),
        CheckConstraint(
            "(status = 'pending' AND approved_at IS NULL AND rejected_at IS NULL)"
            " OR (status = 'approved' AND approved_at IS NOT NULL AND approved_by IS NOT NULL"
            " AND rejected_at IS NULL)"
            " OR (status = 'rejected' AND rejected_at IS NOT NULL AND rejected_by IS NOT NULL"
            " AND approved_at IS NULL)",
            name="decision",
        ),
        Index(
            "ix_pending_approval_pending",
            "requested_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_pending_approval_resident_ids", "resident_ids", postgresql_using="gin"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The action to run on approval, e.g. "registry.ex_officio_correction".
    action: Mapped[str] = mapped_column(String(100))
    resident_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID), default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    draft_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by: Mapped[uuid.UUID] = mapped_column(UUID)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # For a request (rules.ApprovedUse): when and by whom the approved run consumed it.
    # Set once (trigger, migration 0009); None for drafts, which are applied on approval.
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ProtectionMeasure(Base):
    """支援措置 for one protected resident (OQ-02; 標準仕様 §2.3, §3.9). Residents protected
    under one 申出 share ``case_id``; ``applicant`` marks the 申出者, the others are
    併せて支援を求める者.

    The 加害者 is kept only as 宛名番号 (``offender_addressee_nos``), so a request by a
    known offender can be refused and flagged; no name, address or free description of the
    offender is stored here — the 相談機関's written opinion (確認) stays on paper with the
    case file, which the standard allows (§3.9: only the protected persons, affairs,
    addresses and period must live in the registry).

    ``valid_until`` does not end the measure by itself (rules.protection_decision); an
    explicit end sets ``ended_on`` (the first day without protection)."""

    __tablename__ = "protection_measure"
    __table_args__ = (
        CheckConstraint("valid_until >= valid_from", name="period"),
        CheckConstraint(
            "cardinality(scope) >= 1 AND scope <@ ARRAY["
            + ", ".join(repr(u) for u in PROTECTED_USES)
            + "]::varchar[]",
            name="scope",
        ),
        CheckConstraint(_in("end_reason", PROTECTION_END_REASONS), name="end_reason"),
        CheckConstraint(
            "(ended_on IS NULL) = (end_reason IS NULL) AND (ended_on IS NULL) = (ended_by IS NULL)",
            name="ended",
        ),
        Index("ix_protection_measure_resident_id", "resident_id"),
        Index("ix_protection_measure_case_id", "case_id"),
        {"schema": SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID)
    resident_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("registry.resident.id"))
    applicant: Mapped[bool] = mapped_column(Boolean)
    offender_addressee_nos: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list)
    scope: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    requested_on: Mapped[date] = mapped_column(Date)  # 申出日
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)  # inclusive; one year (rules)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # 仮支援措置
    registered_by: Mapped[uuid.UUID] = mapped_column(UUID)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_on: Mapped[date | None] = mapped_column(Date)
    ended_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CertificateIssuance(Base):
    """交付履歴 (標準仕様 §3.10): one row per issued copy. Kept for the whole retention
    period (deleting inside it is X, j300), so no DELETE; a wrongly issued certificate is
    voided (処分情報: ``voided_*``), the only update allowed. Which optional items were
    printed is recorded as flags (REG-CTRL-31: 個人番号 only on explicit request), never
    the printed values. ``verification_code_hash`` is a hash of the code printed for
    authenticity checks; the code itself is not kept."""

    __tablename__ = "certificate_issuance"
    __table_args__ = (
        CheckConstraint(_in("kind", CERTIFICATE_KINDS), name="kind"),
        CheckConstraint(_in("channel", ISSUANCE_CHANNELS), name="channel"),
        CheckConstraint(_in("requester_type", REQUESTER_TYPES), name="requester_type"),
        CheckConstraint("copies >= 1", name="copies"),
        CheckConstraint("cardinality(resident_ids) >= 1", name="resident_ids"),
        CheckConstraint(
            "(voided_at IS NULL) = (voided_by IS NULL)"
            " AND (voided_at IS NULL) = (void_reason IS NULL)",
            name="voided",
        ),
        Index("ix_certificate_issuance_issued_at", "issued_at"),
        Index("ix_certificate_issuance_resident_ids", "resident_ids", postgresql_using="gin"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # 発行番号 (標準仕様 §4.4 j1040): date, municipality, terminal, printer, serial, page.
    issuance_no: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    resident_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID))  # 交付対象者
    household_form: Mapped[bool] = mapped_column(Boolean)  # 世帯連記式
    with_history: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[uuid.UUID | None] = mapped_column(UUID)  # None for コンビニ交付
    channel: Mapped[str] = mapped_column(String(12))
    requester_type: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(64))  # 交付場所 (本庁, 支所 …)
    terminal: Mapped[str] = mapped_column(String(64))
    copies: Mapped[int] = mapped_column(SmallInteger, default=1)  # 枚数
    includes_registered_domicile: Mapped[bool] = mapped_column(Boolean, default=False)
    includes_relationship: Mapped[bool] = mapped_column(Boolean, default=False)
    includes_individual_number: Mapped[bool] = mapped_column(Boolean, default=False)
    includes_resident_record_code: Mapped[bool] = mapped_column(Boolean, default=False)
    includes_foreign_items: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[uuid.UUID | None] = mapped_column(UUID)
    void_reason: Mapped[str | None] = mapped_column(String(40))


class RecordNote(Base):
    """統合記載欄 B (留意事項 tied to a change: ``version_id``) and C (備考), and the staff
    memo, which is never printed (標準仕様 §2.1 j150, §3.1). Edits insert a new row and set
    ``superseded_at`` on the old one, so the memo's own history is kept."""

    __tablename__ = "record_note"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTE_KINDS), name="kind"),
        Index("ix_record_note_resident_id", "resident_id"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("registry.resident.id"))
    version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("registry.resident_version.id")
    )
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    written_by: Mapped[uuid.UUID] = mapped_column(UUID)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IndividualItem(Base):
    """個別事項 of 法第7条第9号〜第11号の2 (選挙人名簿, 国保, 後期高齢者医療, 介護保険,
    国民年金, 児童手当) as received from the owning affair through 庁内連携 (F-11). The owning
    affair is the source of truth; this is the copy the 住民票 shows (標準仕様 §2.7 j1180:
    latest status only). A new notice supersedes the previous row for the same item."""

    __tablename__ = "individual_item"
    __table_args__ = (
        CheckConstraint(_in("item", INDIVIDUAL_ITEMS), name="item"),
        Index("ix_individual_item_resident_id_item", "resident_id", "item"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("registry.resident.id"))
    item: Mapped[str] = mapped_column(String(30))
    acquired_on: Mapped[date | None] = mapped_column(Date)  # 資格取得 / 登録 / 支給開始
    lost_on: Mapped[date | None] = mapped_column(Date)  # 資格喪失 / 支給終了
    # 種別 where the law records one (国民年金 第1号/第3号被保険者 …), as a code.
    category: Mapped[str | None] = mapped_column(String(20))
    category_changed_on: Mapped[date | None] = mapped_column(Date)
    # 基礎年金番号 (国民年金 only, 令第6条の3).
    reference_no: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Creation order (parents first); the migration creates them in this order.
TABLE_NAMES = (
    "town_area",
    "address",
    "household",
    "resident",
    "pending_approval",
    "resident_version",
    "protection_measure",
    "certificate_issuance",
    "record_note",
    "individual_item",
)
