"""The kanji-variant search is served by an index whose expression is exactly the one the
query builds (else PostgreSQL silently falls back to a full scan)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from machi.registry import queries


def test_variant_index_uses_the_same_fold_as_the_query(connection: Connection) -> None:
    definitions = dict(
        connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'registry' "
                "AND indexname LIKE '%variant_trgm'"
            )
        ).all()
    )
    assert set(definitions) == {
        "ix_resident_version_name_key_variant_trgm",
        "ix_resident_version_alias_name_key_variant_trgm",
    }
    for definition in definitions.values():
        assert f"'{queries._VARIANT_FROM}'" in definition
        assert f"'{queries._VARIANT_TO}'" in definition
        assert "gin_trgm_ops" in definition
