from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.records import create_engine, migrate
from cti.records.engine import alembic_config
from cti.records.tables import metadata

TABLES = {
    "person",
    "person_phone",
    "referrer",
    "referrer_phone",
    "contact",
    "service_request",
    "service_request_status",
    "allocation",
    "audit",
}


# Every branch (records, scripts, knowledge) migrates to its own head.
HEADS = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_create_every_table_from_empty(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert names >= TABLES
    assert sorted(versions) == HEADS


async def test_migrated_schema_matches_the_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(_schema_diff)
    assert diff == []


async def test_migrating_again_changes_nothing(records_url: str, engine: AsyncEngine) -> None:
    await migrate(records_url)
    async with engine.connect() as conn:
        versions = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert sorted(versions) == HEADS


async def test_sqlite_engine_makes_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'var' / 'records.db'}"
    engine = create_engine(url)
    try:
        assert (tmp_path / "nested" / "var").is_dir()
        async with engine.connect() as conn:
            journal = await conn.scalar(sa.text("PRAGMA journal_mode"))
            foreign_keys = await conn.scalar(sa.text("PRAGMA foreign_keys"))
        assert journal == "wal"
        assert foreign_keys == 1
    finally:
        await engine.dispose()


async def test_migrations_started_together_run_once(records_url: str) -> None:
    await asyncio.gather(*(migrate(records_url) for _ in range(3)))
    engine = create_engine(records_url)
    try:
        async with engine.connect() as conn:
            versions = (
                (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars().all()
            )
    finally:
        await engine.dispose()
    assert sorted(versions) == HEADS
