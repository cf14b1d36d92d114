"""The Asterisk adapter with Frontdoor's real services against the test AMI server over TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ivr.api
from cti.asterisk.adapter import AsteriskTelephony
from cti.asterisk.testing import AmiTestServer
from cti.config.settings import load_settings
from cti.domain.clock import ManualClock
from cti.wiring import Services, build_services

WEDNESDAY_11H = 1_767_783_600_000  # 2026-01-07 11:00 Europe/London: the ASC line is open
CITY_SPOC_LINE = "01164960010"  # legacy line straight to asc_triage after the language choice
CALLER = "07700900123"


@dataclass
class Rig:
    pbx: AmiTestServer
    services: Services
    telephony: AsteriskTelephony


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    pbx = AmiTestServer({"frontdoor": "fd-secret"})
    await pbx.start()
    settings = load_settings(
        None,
        telephony="asterisk",
        ami_port=pbx.port,
        ami_secret="fd-secret",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'records.db'}",
    )
    services = await build_services(settings, ManualClock(WEDNESDAY_11H))
    telephony = services.telephony
    assert isinstance(telephony, AsteriskTelephony)
    telephony.client.backoff_initial = telephony.client.backoff_max = 0.01
    engine = ivr.api.engine_for(services)
    services.extras["ivr"] = engine
    telephony.attach_ivr(engine)
    telephony.attach_services(services)
    assert await telephony.client.wait_connected(5)
    try:
        yield Rig(pbx, services, telephony)
    finally:
        await services.close()
        await pbx.close()
