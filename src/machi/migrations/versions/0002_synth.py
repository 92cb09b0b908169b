"""Synthetic town (schema synth): address master, households, persons, life events,
incomes, bank accounts. Mirrors src/machi/synth/models.py.

Revision ID: 0002_synth
Revises: 0001_core_privacy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_synth"
down_revision = "0001_core_privacy"
branch_labels = None
depends_on = None

TABLES = (
    "bank_account",
    "income",
    "life_event",
    "person",
    "household",
    "address",
    "town_area",
    "town",
)


def upgrade() -> None:
    op.create_table(
        "town",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("local_government_code", sa.String(length=6), nullable=False),
        sa.Column("prefecture", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_town_single_town")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town")),
        schema="synth",
    )
    op.create_table(
        "town_area",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_kana", sa.Text(), nullable=False),
        sa.Column("address_style", sa.String(length=20), nullable=False),
        sa.Column("chome_count", sa.SmallInteger(), nullable=False),
        sa.Column("postal_code", sa.String(length=7), nullable=False),
        sa.CheckConstraint(
            "address_style IN ('residence_indication', 'lot_number')",
            name=op.f("ck_town_area_address_style"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_area")),
        sa.UniqueConstraint("code", name=op.f("uq_town_area_code")),
        schema="synth",
    )
    op.create_table(
        "address",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("town_area_id", sa.Integer(), nullable=False),
        sa.Column("chome", sa.SmallInteger(), nullable=True),
        sa.Column("lot_no", sa.Integer(), nullable=False),
        sa.Column("sub_no", sa.Integer(), nullable=True),
        sa.Column("lot", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["town_area_id"],
            ["synth.town_area.id"],
            name=op.f("fk_address_town_area_id_town_area"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address")),
        schema="synth",
    )
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.Text(), nullable=True),
        sa.Column("head_person_id", sa.Integer(), nullable=False),
        sa.Column("formed_on", sa.Date(), nullable=False),
        sa.Column("dissolved_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["address_id"], ["synth.address.id"], name=op.f("fk_household_address_id_address")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
        schema="synth",
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("display_order", sa.SmallInteger(), nullable=False),
        sa.Column("relationship_code", sa.String(length=20), nullable=False),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_kana", sa.Text(), nullable=False),
        sa.Column("alias_name", sa.Text(), nullable=True),
        sa.Column("alias_name_kana", sa.Text(), nullable=True),
        sa.Column("sex", sa.SmallInteger(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("nationality_code", sa.String(length=2), nullable=True),
        sa.Column("residence_status", sa.Text(), nullable=True),
        sa.Column("residence_expires_on", sa.Date(), nullable=True),
        sa.Column("registered_domicile", sa.Text(), nullable=True),
        sa.Column("family_register_head", sa.Text(), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.Text(), nullable=True),
        sa.Column("moved_in_on", sa.Date(), nullable=False),
        sa.Column("moved_in_reason", sa.String(length=10), nullable=False),
        sa.Column("moved_in_from", sa.Text(), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("moved_out_on", sa.Date(), nullable=True),
        sa.Column("moved_out_to", sa.Text(), nullable=True),
        sa.CheckConstraint("sex IN (1, 2)", name=op.f("ck_person_sex")),
        sa.CheckConstraint(
            "moved_in_on >= birth_date", name=op.f("ck_person_moved_in_after_birth")
        ),
        sa.CheckConstraint(
            "died_on IS NULL OR moved_out_on IS NULL", name=op.f("ck_person_one_removal")
        ),
        sa.CheckConstraint(
            "moved_in_reason IN ('birth', 'move_in')", name=op.f("ck_person_moved_in_reason")
        ),
        sa.CheckConstraint(
            "(nationality_code IS NULL) = (residence_status IS NULL)",
            name=op.f("ck_person_foreign_status"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["synth.household.id"],
            name=op.f("fk_person_household_id_household"),
        ),
        sa.ForeignKeyConstraint(
            ["address_id"], ["synth.address.id"], name=op.f("fk_person_address_id_address")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        schema="synth",
    )
    op.create_table(
        "life_event",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('birth', 'move_in', 'death', 'move_out')", name=op.f("ck_life_event_kind")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["synth.person.id"], name=op.f("fk_life_event_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_event")),
        schema="synth",
    )
    op.create_table(
        "income",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "category IN ('salary', 'pension', 'business', 'none')",
            name=op.f("ck_income_category"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_income_amount")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["synth.person.id"], name=op.f("fk_income_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", "fiscal_year", name=op.f("pk_income")),
        schema="synth",
    )
    op.create_table(
        "bank_account",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=1), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("holder_kana", sa.Text(), nullable=False),
        sa.CheckConstraint("account_type IN ('1', '2')", name=op.f("ck_bank_account_account_type")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["synth.household.id"],
            name=op.f("fk_bank_account_household_id_household"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["synth.person.id"], name=op.f("fk_bank_account_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_account")),
        sa.UniqueConstraint(
            "bank_code",
            "branch_code",
            "account_type",
            "account_number",
            name=op.f("uq_bank_account_number"),
        ),
        schema="synth",
    )
    # Foreign-key columns get an index each: the importer joins along them.
    for table, column in (
        ("address", "town_area_id"),
        ("household", "address_id"),
        ("person", "household_id"),
        ("person", "address_id"),
        ("life_event", "person_id"),
        ("bank_account", "household_id"),
        ("bank_account", "person_id"),
    ):
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], schema="synth")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA synth TO machi_app"
    )
    op.execute("GRANT USAGE ON SCHEMA synth TO machi_app")


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table, schema="synth")
