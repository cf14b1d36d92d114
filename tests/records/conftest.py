"""The records tests run twice: on a SQLite file and on PostgreSQL (the suite's ``postgres_url``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.domain.clock import ManualClock
from cti.records import Records, create_engine, migrate

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'records.db'}"
    # The conftest fixture skips (or fails, under FRONTDOOR_REQUIRE_SERVICES=1) without a server.
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def engine(records_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(records_url)
    engine = create_engine(records_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(int(NOW.timestamp() * 1000))


@pytest.fixture
def records(engine: AsyncEngine, clock: ManualClock) -> Records:
    return Records(engine, clock=clock)
