"""The living centre on an accelerated clock: a bounded run of callers answered by bots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cti.config.settings import Settings
from cti.domain.states import AgentStatus
from cti.sim.bots import BotProfile
from cti.sim.centre import LivingCentre
from cti.sim.generator import CallerMix
from cti.sim.timing import AcceleratedClock
from cti.telephony.sim import SimTelephony
from cti.wiring import Services, build_services
from tests.conftest import until
from tests.sim.conftest import OPEN_MS

BOTS = [*(f"agent{n}" for n in range(11, 21)), "specialist04", "specialist05", "specialist06"]
SPEED = 50.0  # clock seconds per real second
FAST_BOTS = BotProfile(
    answer_delay_s=(1.0, 3.0),
    ring_out_share=0.1,
    talk_scale=0.15,
    hold_share=0.3,
    hold_s=(5.0, 10.0),
    wrap_s=(3.0, 8.0),
    break_share=0.1,
    break_s=(10.0, 20.0),
    back_after_s=(2.0, 4.0),
)


@pytest.fixture
async def fast_services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings, AcceleratedClock(SPEED, start_ms=OPEN_MS))
    try:
        yield built
    finally:
        await built.close()


async def test_bots_answer_and_wrap_up_simulated_calls(fast_services: Services) -> None:
    services = fast_services
    sim = services.telephony
    assert isinstance(sim, SimTelephony)
    known = ["+447700900100", "+447700900101"]
    centre = LivingCentre(
        services,
        bots=BOTS,
        calls_per_minute=30,
        seed=11,
        known_numbers=known,
        max_calls=20,
        bot_profile=FAST_BOTS,
        mix=CallerMix(caller_hangs_up_first_share=0.3),
    )
    # A person logged in as agent01 gets offers from the same queues.
    await services.router.set_status("agent01", AgentStatus.AVAILABLE)
    await centre.start()
    try:

        def wrapped() -> bool:
            return sum(bot.stats.wrapped for bot in centre.bots.values()) >= 8

        await until(wrapped, timeout=8, message="bots to wrap up eight calls")
        assert centre.stats.placed >= 8
        assert centre.stats.answered >= 8
        rung = [leg for leg in sim.legs() if any(c.name == "ring" for c in leg.commands)]
        assert any(c.agent == "agent01" for leg in rung for c in leg.commands)
        assert centre.live_calls <= centre.max_live_calls
    finally:
        await centre.stop()
    assert centre.live_calls == 0

    outcomes = []
    for leg in sim.legs():
        record = await services.records.get_contact(leg.call_id)
        assert record is not None
        if record.outcome_code is not None:
            outcomes.append(record.outcome_code)
        if record.agent_id in BOTS and record.wrap_up_ended_at is not None:
            assert record.answered_at is not None
            assert record.talk_ended_at is not None
    assert len(outcomes) >= 8
    answered_by_bots = {leg.agent for leg in sim.legs() if leg.agent is not None}
    assert answered_by_bots <= set(BOTS)
    # Stopping leaves the centre tidy: nobody waiting, every bot's call wrapped up, bots logged out.
    assert sim.calls() == []
    bots = [a for a in await services.store.agents() if a.id in BOTS]
    assert all(a.status is AgentStatus.LOGGED_OUT and a.contact_id is None for a in bots)
    assert await services.store.waiting() == []


async def test_callers_abandon_when_nobody_answers(fast_services: Services) -> None:
    centre = LivingCentre(
        fast_services,
        bots=[],
        calls_per_minute=60,
        seed=5,
        known_numbers=[],
        max_calls=5,
        mix=CallerMix(mean_patience_s=20, mean_patience_professional_s=20, max_patience_s=40),
    )
    await centre.start()
    try:
        await until(lambda: centre.stats.abandoned == 5, timeout=8, message="five callers to give up")
    finally:
        await centre.stop()
    assert centre.stats.placed == 5
    assert centre.stats.answered == 0
    sim = fast_services.telephony
    assert isinstance(sim, SimTelephony)
    assert sim.calls() == []
    assert all(leg.ended_by == "caller" for leg in sim.legs())


async def test_refuses_bots_that_are_not_users(fast_services: Services) -> None:
    with pytest.raises(ValueError, match="nobody"):
        LivingCentre(fast_services, bots=["nobody"], calls_per_minute=1, seed=1, known_numbers=[])
