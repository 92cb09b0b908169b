"""Tables of schema ``synth``: the synthetic town, shaped like a legacy 住記 system's export
that the registry imports later. Column order equals the row tuples in ``rules`` (COPY
writes them positionally). Ids are assigned by the generator, not by sequences, so the same
seed gives the same ids. Migration: ``migrations/versions/0002_synth.py`` (kept in sync).

``household.head_person_id`` has no foreign key: person already references household and a
cycle would force deferred checks on every COPY row; the generator guarantees it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from machi.core.db import Base

SCHEMA = "synth"


class Town(Base):
    """The one town loaded (a second load is refused; clear first)."""

    __tablename__ = "town"
    __table_args__ = (CheckConstraint("id = 1", name="single_town"), {"schema": SCHEMA})

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    local_government_code: Mapped[str] = mapped_column(String(6))
    prefecture: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    residents: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TownArea(Base):
    """町字 of the address master."""

    __tablename__ = "town_area"
    __table_args__ = (
        CheckConstraint(
            "address_style IN ('residence_indication', 'lot_number')", name="address_style"
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_kana: Mapped[str] = mapped_column(Text)
    address_style: Mapped[str] = mapped_column(String(20))
    # 0 when the area has no 丁目.
    chome_count: Mapped[int] = mapped_column(SmallInteger)
    postal_code: Mapped[str] = mapped_column(String(7))


class Address(Base):
    """番地 (lot) within a 町字: 「3丁目12番5号」 (住居表示) or 「1234番地5」 (地番)."""

    __tablename__ = "address"
    __table_args__ = ({"schema": "synth"},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    town_area_id: Mapped[int] = mapped_column(ForeignKey("synth.town_area.id"), index=True)
    chome: Mapped[int | None] = mapped_column(SmallInteger)
    lot_no: Mapped[int] = mapped_column(Integer)
    sub_no: Mapped[int | None] = mapped_column(Integer)
    lot: Mapped[str] = mapped_column(Text)


class Household(Base):
    """世帯, current (dissolved_on null) or dissolved by move-out or death."""

    __tablename__ = "household"
    __table_args__ = ({"schema": "synth"},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    address_id: Mapped[int] = mapped_column(ForeignKey("synth.address.id"), index=True)
    # 方書: building and room.
    building: Mapped[str | None] = mapped_column(Text)
    head_person_id: Mapped[int] = mapped_column(Integer)
    formed_on: Mapped[date] = mapped_column(Date)
    dissolved_on: Mapped[date | None] = mapped_column(Date)


class Person(Base):
    """A resident record; deceased and moved-out people are kept as removed records."""

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("sex IN (1, 2)", name="sex"),
        CheckConstraint("moved_in_on >= birth_date", name="moved_in_after_birth"),
        CheckConstraint("died_on IS NULL OR moved_out_on IS NULL", name="one_removal"),
        CheckConstraint("moved_in_reason IN ('birth', 'move_in')", name="moved_in_reason"),
        CheckConstraint(
            "(nationality_code IS NULL) = (residence_status IS NULL)", name="foreign_status"
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    household_id: Mapped[int] = mapped_column(ForeignKey("synth.household.id"), index=True)
    display_order: Mapped[int] = mapped_column(SmallInteger)
    relationship_code: Mapped[str] = mapped_column(String(20))
    relationship: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    name_kana: Mapped[str] = mapped_column(Text)
    alias_name: Mapped[str | None] = mapped_column(Text)
    alias_name_kana: Mapped[str | None] = mapped_column(Text)
    # 1 男, 2 女
    sex: Mapped[int] = mapped_column(SmallInteger)
    birth_date: Mapped[date] = mapped_column(Date)
    # ISO 3166-1 alpha-2; null for Japanese nationals.
    nationality_code: Mapped[str | None] = mapped_column(String(2))
    residence_status: Mapped[str | None] = mapped_column(Text)
    residence_expires_on: Mapped[date | None] = mapped_column(Date)
    registered_domicile: Mapped[str | None] = mapped_column(Text)
    family_register_head: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[int] = mapped_column(ForeignKey("synth.address.id"), index=True)
    building: Mapped[str | None] = mapped_column(Text)
    moved_in_on: Mapped[date] = mapped_column(Date)
    moved_in_reason: Mapped[str] = mapped_column(String(10))
    moved_in_from: Mapped[str | None] = mapped_column(Text)
    died_on: Mapped[date | None] = mapped_column(Date)
    moved_out_on: Mapped[date | None] = mapped_column(Date)
    moved_out_to: Mapped[str | None] = mapped_column(Text)


class LifeEvent(Base):
    """Birth or move-in that made someone a resident, and the death or move-out that ended it."""

    __tablename__ = "life_event"
    __table_args__ = (
        CheckConstraint("kind IN ('birth', 'move_in', 'death', 'move_out')", name="kind"),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("synth.person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    occurred_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(Text)


class Income(Base):
    """Income of the calendar year before ``fiscal_year`` (what that year's 住民税 and 国保税
    are assessed on), one row per person resident on 1 January of the fiscal year, 16+."""

    __tablename__ = "income"
    __table_args__ = (
        CheckConstraint("category IN ('salary', 'pension', 'business', 'none')", name="category"),
        CheckConstraint("amount >= 0", name="amount"),
        {"schema": SCHEMA},
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("synth.person.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)


class BankAccount(Base):
    """The household head's account at a fictional bank (codes 9001–9024)."""

    __tablename__ = "bank_account"
    __table_args__ = (
        CheckConstraint("account_type IN ('1', '2')", name="account_type"),
        UniqueConstraint(
            "bank_code",
            "branch_code",
            "account_type",
            "account_number",
            name="uq_bank_account_number",
        ),
        {"schema": SCHEMA},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    household_id: Mapped[int] = mapped_column(ForeignKey("synth.household.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("synth.person.id"), index=True)
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    # 全銀協 預金種目: 1 普通, 2 当座
    account_type: Mapped[str] = mapped_column(String(1))
    account_number: Mapped[str] = mapped_column(String(7))
    # Half-width katakana as banks hold it (e.g. ｼﾐｽﾞ ﾋﾛｼ).
    holder_kana: Mapped[str] = mapped_column(Text)


# Load order (parents first); TRUNCATE lists them all in one statement.
TABLE_NAMES = (
    "town",
    "town_area",
    "address",
    "household",
    "person",
    "life_event",
    "income",
    "bank_account",
)


def synth_tables() -> list[Table]:
    return [Base.metadata.tables[f"{SCHEMA}.{name}"] for name in TABLE_NAMES]
