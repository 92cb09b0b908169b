"""My Number vault: privacy.individual_number (sealed 個人番号, key id, blind index, history).
Mirrors IndividualNumber in src/machi/privacy/models.py.

Revision ID: 0003_vault
Revises: 0002_synth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_vault"
down_revision = "0002_synth"
branch_labels = None
depends_on = None

# No DELETE: a superseded number is history (番号法 第7条第2項 changes) and stays. UPDATE is
# needed to set superseded_at and, for rotation and index rebuilds, to rewrite ciphertext,
# key_id and blind_index.
GRANTS_SQL = """
GRANT SELECT, INSERT, UPDATE ON privacy.individual_number TO machi_app;
GRANT USAGE ON SEQUENCE privacy.individual_number_id_seq TO machi_app;
"""


def upgrade() -> None:
    op.create_table(
        "individual_number",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_individual_number")),
        schema="privacy",
    )
    op.create_index(
        "uq_individual_number_current_blind_index",
        "individual_number",
        ["blind_index"],
        unique=True,
        schema="privacy",
        postgresql_where=sa.text("superseded_at IS NULL"),
    )
    op.create_index(
        "uq_individual_number_current_subject_id",
        "individual_number",
        ["subject_id"],
        unique=True,
        schema="privacy",
        postgresql_where=sa.text("superseded_at IS NULL"),
    )
    op.create_index(
        "ix_individual_number_key_id", "individual_number", ["key_id"], schema="privacy"
    )
    op.execute(GRANTS_SQL)


def downgrade() -> None:
    # Dropping the table would destroy the only copy of every stored number.
    raise NotImplementedError("the vault is never dropped by a migration")
