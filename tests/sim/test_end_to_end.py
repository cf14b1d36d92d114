"""A simulated call through the real services: router, state store, records, recorder, event bus."""

from __future__ import annotations

from cti.calls.service import WrapUp
from cti.desktop.feed import DesktopFeed
from cti.domain.clock import ManualClock
from cti.domain.states import AgentStatus, ContactState, OfferState
from cti.records.models import Contact as ContactRecord
from cti.telephony.port import InboundCall
from cti.telephony.sim import LegState, SimTelephony
from cti.wiring import Services
from tests.conftest import until

GP_LINE = "+441632960042"


def bed_request(call_id: str) -> InboundCall:
    return InboundCall(
        call_id=call_id,
        cli=GP_LINE,
        dialled="+441164960001",
        queue="bed_bureau",
        caller_type="professional",
        ivr={"language": "en", "menu": "1"},
    )


async def offer_for(services: Services, agent: str) -> str:
    state = await services.store.get_agent(agent)
    assert state.offer_id is not None
    return state.offer_id


async def test_a_call_is_rung_answered_held_ended_and_wrapped_up(
    services: Services, sim: SimTelephony, ringer: DesktopFeed, clock: ManualClock
) -> None:
    await services.router.set_status("agent15", AgentStatus.AVAILABLE)  # BED only
    call_id = sim.new_call_id()
    await sim.place_call(bed_request(call_id))
    await until(lambda: sim.ringing("agent15") == call_id, message="agent15's phone to ring")

    clock.advance(4_000)
    offer_id = await offer_for(services, "agent15")
    await services.calls.accept("agent15", offer_id)
    clock.advance(30_000)
    await services.calls.hold("agent15", call_id)
    clock.advance(12_000)
    await services.calls.resume("agent15", call_id)
    clock.advance(60_000)
    await services.calls.hangup("agent15", call_id)
    clock.advance(20_000)
    wrap = WrapUp("referral_made", first_contact_resolution=True, reason_codes=("bed_request",))
    closed = await services.calls.wrap_up("agent15", call_id, wrap)
    assert closed.state is ContactState.CLOSED

    assert sim.log(call_id) == ["ring", "connect", "hold", "resume", "hangup"]
    leg = sim.leg(call_id)
    assert leg is not None
    assert leg.state is LegState.ENDED
    assert leg.ended_by == "agent"

    record: ContactRecord | None = None

    async def recorded() -> bool:
        nonlocal record
        record = await services.records.get_contact(call_id)
        return record is not None and record.wrap_up_ended_at is not None

    await until(recorded, message="the contact's wrap-up to be recorded")
    assert record is not None
    assert record.caller_type == "professional"
    assert record.queue == "bed_bureau"
    assert record.agent_id == "agent15"
    assert record.caller_e164 == GP_LINE
    assert record.queued_at is not None
    assert record.offered_at is not None
    assert record.answered_at is not None
    assert record.talk_ended_at is not None
    assert record.wrap_up_ended_at is not None
    assert record.queued_at <= record.offered_at < record.answered_at < record.talk_ended_at
    assert (record.answered_at - record.offered_at).total_seconds() == 4
    assert (record.talk_ended_at - record.answered_at).total_seconds() == 102
    assert record.hold_ms == 12_000
    assert (record.wrap_up_ended_at - record.talk_ended_at).total_seconds() == 20
    assert record.outcome_code == "referral_made"
    assert record.first_contact_resolution is True
    assert record.reason_codes == ["bed_request"]
    assert record.failure_demand is False


async def test_caller_hanging_up_while_the_agent_is_rung_cancels_the_offer(
    services: Services, sim: SimTelephony, ringer: DesktopFeed, clock: ManualClock
) -> None:
    await services.router.set_status("agent15", AgentStatus.AVAILABLE)
    call_id = sim.new_call_id()
    await sim.place_call(bed_request(call_id))
    await until(lambda: sim.ringing("agent15") == call_id, message="agent15's phone to ring")
    offer_id = await offer_for(services, "agent15")

    clock.advance(3_000)
    assert await sim.caller_hangs_up(call_id) is True
    await until(lambda: sim.ringing("agent15") is None, message="agent15's phone to stop ringing")

    assert sim.log(call_id) == ["ring", "stop_ringing"]
    assert (await services.store.get_offer(offer_id)).state is OfferState.CANCELLED
    assert (await services.store.get_contact(call_id)).state is ContactState.ABANDONED
    agent = await services.store.get_agent("agent15")
    assert agent.status is AgentStatus.AVAILABLE
    assert agent.offer_id is None

    async def abandoned() -> bool:
        record = await services.records.get_contact(call_id)
        return record is not None and record.outcome_code == "abandoned"

    await until(abandoned, message="the abandoned contact to be recorded")


async def test_an_offer_that_times_out_stops_the_ringing(
    services: Services, sim: SimTelephony, ringer: DesktopFeed, clock: ManualClock
) -> None:
    await services.router.set_status("agent15", AgentStatus.AVAILABLE)
    call_id = sim.new_call_id()
    await sim.place_call(bed_request(call_id))
    await until(lambda: sim.ringing("agent15") == call_id, message="agent15's phone to ring")
    clock.advance(services.centre.routing.offer_timeout_s * 1000 + 1)
    await until(lambda: sim.ringing("agent15") is None, message="the offer to time out")
    assert sim.log(call_id) == ["ring", "stop_ringing"]
    leg = sim.leg(call_id)
    assert leg is not None
    assert leg.state is LegState.QUEUED
    agent = await services.store.get_agent("agent15")
    assert agent.status is AgentStatus.NOT_READY
    assert agent.reason == "missed"
