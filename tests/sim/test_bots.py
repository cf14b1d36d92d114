"""One bot on a manual clock: it only moves when the test moves time, so every race is staged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cti.domain.clock import ManualClock
from cti.domain.states import AgentStatus, EngineState
from cti.sim.bots import BotProfile
from cti.sim.centre import LivingCentre
from cti.telephony.port import InboundCall
from cti.telephony.sim import LegState, SimTelephony
from cti.wiring import Services
from tests.conftest import until

STEADY = BotProfile(
    answer_delay_s=(2.0, 3.0),
    ring_out_share=0.0,
    reject_share=0.0,
    hold_share=0.0,
    break_share=0.0,
    wrap_s=(10.0, 20.0),
)


@pytest.fixture
async def centre(services: Services) -> AsyncIterator[LivingCentre]:
    living = LivingCentre(
        services, bots=["agent15"], calls_per_minute=0, seed=3, known_numbers=[], bot_profile=STEADY
    )
    await living.start()
    try:
        yield living
    finally:
        await living.stop()


async def place(sim: SimTelephony) -> str:
    call_id = sim.new_call_id()
    await sim.place_call(
        InboundCall(call_id, "+441632960001", "+441164960001", "bed_bureau", caller_type="professional")
    )
    return call_id


async def test_a_bot_survives_callers_who_hang_up_first(
    centre: LivingCentre, services: Services, sim: SimTelephony, clock: ManualClock
) -> None:
    bot = centre.bots["agent15"]

    async def available() -> bool:
        agent = await services.store.get_agent("agent15")
        return agent.status is AgentStatus.AVAILABLE and agent.engine is EngineState.IDLE

    await until(available, message="the bot to go available")

    # The caller gives up while the bot's phone rings: the offer is cancelled under the bot.
    first = await place(sim)
    await until(lambda: sim.ringing("agent15") == first, message="the bot's phone to ring")
    await sim.caller_hangs_up(first)
    await until(lambda: bot.stats.races == 1, message="the bot to notice the cancelled offer")
    assert sim.log(first) == ["ring", "stop_ringing"]

    # The next caller is answered once the bot's answer delay has passed on the clock.
    second = await place(sim)
    await until(lambda: sim.ringing("agent15") == second, message="the bot's phone to ring again")
    clock.advance(3_000)
    await until(lambda: sim.log(second)[-1:] == ["connect"], message="the bot to answer")
    assert bot.stats.answered == 1

    # The caller ends the conversation first; the bot wraps up and is ready for more.
    await sim.caller_hangs_up(second)
    await until(lambda: bot.stats.caller_ended == 1, message="the bot to see the caller go")
    clock.advance(20_000)
    await until(lambda: bot.stats.wrapped == 1, message="the bot to wrap up")
    await until(available, message="the bot to be available again")
    record = await services.records.get_contact(second)
    assert record is not None
    assert record.outcome_code is not None
    assert record.agent_id == "agent15"
    leg = sim.leg(second)
    assert leg is not None
    assert leg.state is LegState.ENDED
    assert leg.ended_by == "caller"
    assert bot.stats.offers == 2
