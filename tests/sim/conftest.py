from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cti.config.settings import Settings
from cti.desktop.feed import DesktopFeed
from cti.domain.clock import ManualClock
from cti.telephony.sim import SimTelephony
from cti.wiring import Services, build_services

# A Wednesday morning: every demo queue is open (2026-01-01, a bank holiday, is not).
OPEN_MS = int(datetime(2026, 1, 7, 10, 0, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(backend="memory", database_url=f"sqlite+aiosqlite:///{tmp_path / 'frontdoor.db'}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPEN_MS)


@pytest.fixture
async def services(settings: Settings, clock: ManualClock) -> AsyncIterator[Services]:
    built = await build_services(settings, clock)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def ringer(services: Services) -> DesktopFeed:
    """The composition root's ringer (started with the services)."""
    return services.ringer


@pytest.fixture
def sim(services: Services) -> SimTelephony:
    assert isinstance(services.telephony, SimTelephony)
    return services.telephony
