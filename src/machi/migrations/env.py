"""Alembic environment: migrations run as the owner role; the version table lives in
schema core."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import machi.core.models
import machi.privacy.models
import machi.registry.models
import machi.synth.models  # noqa: F401 — each import registers its tables on Base.metadata
from machi.core.db import Base

config = context.config


def run() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS core")
        conn.commit()
        context.configure(
            connection=conn,
            target_metadata=Base.metadata,
            version_table_schema="core",
            include_schemas=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
