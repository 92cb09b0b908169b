"""Trigram indexes for kanji-variant name search (髙橋 finds 高橋).

Revision ID: 0006_registry_variant_search
Revises: 0005_registry

The index expression must equal the one machi.registry.queries builds from _VARIANT_KANJI;
tests/registry/test_search_indexes.py checks that the two stay the same. Changing the map
means a new revision that drops and recreates these indexes.
"""

from __future__ import annotations

from alembic import op

revision = "0006_registry_variant_search"
down_revision = "0005_registry"
branch_labels = None
depends_on = None

VARIANT_FROM = "髙﨑嵜碕邊邉齋齊斉澤濱濵嶋嶌桒廣國櫻冨槇眞惠德黑壽實淺藏栁瀨𠮷"
VARIANT_TO = "高崎崎崎辺辺斎斎斎沢浜浜島島桑広国桜富槙真恵徳黒寿実浅蔵柳瀬吉"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_resident_version_name_key_variant_trgm ON registry.resident_version "
        f"USING gin (translate(name_key, '{VARIANT_FROM}', '{VARIANT_TO}') gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_resident_version_alias_name_key_variant_trgm "
        "ON registry.resident_version "
        f"USING gin (translate(alias_name_key, '{VARIANT_FROM}', '{VARIANT_TO}') gin_trgm_ops) "
        "WHERE alias_name_key IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX registry.ix_resident_version_alias_name_key_variant_trgm")
    op.execute("DROP INDEX registry.ix_resident_version_name_key_variant_trgm")
