"""The demo's simulated callers go through the IVR when one is running, as on a real line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.config.settings import Settings
from cti.records import Records
from cti.sim.centre import LivingCentre
from cti.sim.generator import CallerMix
from cti.sim.ivr import caller_inputs
from cti.sim.timing import AcceleratedClock
from cti.telephony.sim import SimTelephony
from cti.wiring import Services, build_services
from ivr.actions import Digits, Speech
from ivr.api import engine_for
from tests.conftest import until
from tests.ivr.conftest import WEEKDAY_10AM, ms


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(backend="memory", database_url=f"sqlite+aiosqlite:///{tmp_path / 'fd.db'}")
    built = await build_services(settings, AcceleratedClock(50.0, start_ms=ms(WEEKDAY_10AM)))
    try:
        yield built
    finally:
        await built.close()


def test_generated_callers_answer_the_menus() -> None:
    assert caller_inputs("professional", "chs_spa", {"caller": "1", "menu": "2"}) == [
        Digits("1"), Digits("1"), Digits(""), Digits("2"),
    ]  # fmt: skip
    assert caller_inputs("carer", "asc_triage", {"caller": "2", "menu": "1"}) == [
        Digits("1"), Speech("I'm a carer"), Digits("1"), Digits("2"),
    ]  # fmt: skip
    assert caller_inputs("professional", "bed_bureau", {"menu": "1"}) == [
        Digits("1"),
        Digits(""),
        Digits("1"),
    ]


async def test_simulated_callers_are_queued_through_the_ivr(services: Services) -> None:
    sim = services.telephony
    assert isinstance(sim, SimTelephony)
    sim.attach_ivr(engine_for(services))
    assert isinstance(services.records, Records)
    centre = LivingCentre(
        services,
        bots=[],
        calls_per_minute=120,
        seed=3,
        known_numbers=[],
        max_calls=8,
        mix=CallerMix(mean_patience_s=3000, mean_patience_professional_s=3000, min_patience_s=3000),
    )
    await centre.start()
    try:
        await until(
            lambda: centre.stats.placed + centre.stats.ended_in_ivr == 8, timeout=8, message="8 callers"
        )
        waiting = await services.store.waiting()
        assert len(waiting) == centre.stats.placed >= 6
        assert all(c.attrs["ivr"]["flow"] in ("front_door", "professional") for c in waiting)
        assert all(c.attrs["ivr"]["language"] == "en-GB" for c in waiting)
        assert {c.attrs["caller_type"] for c in waiting} <= {"professional", "public", "carer"}
    finally:
        await centre.stop()
