"""The records tests run twice: on a SQLite file and on PostgreSQL (the suite's ``postgres_url``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.domain.clock import ManualClock
from cti.records import Records

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(int(NOW.timestamp() * 1000))


@pytest.fixture
def records(engine: AsyncEngine, clock: ManualClock) -> Records:
    return Records(engine, clock=clock)
