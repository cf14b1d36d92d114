"""Every failure path ends in a defined state, with the caller talking to someone or back in queue."""

from __future__ import annotations

from cti.domain.states import ContactState
from cti.telephony.sim import LegState
from tests.conftest import until
from tests.handover.conftest import AGENT, Centre
from tests.handover.test_flows import consulting


async def back_with_first_agent(centre: Centre, call_id: str) -> None:
    parent = await centre.contact(call_id)
    assert parent.state is ContactState.CONNECTED and parent.agent_id == AGENT
    leg = centre.leg(call_id)
    assert leg.state is LegState.CONNECTED and leg.agent == AGENT


async def test_nobody_accepts_in_time(quick_centre: Centre) -> None:
    centre = quick_centre
    call_id = await centre.call_answered_by_agent()
    handover = await centre.ask(call_id, target="amh_spa")  # no specialist is available

    failed = await centre.until_state(handover["id"], "failed")
    assert failed["reason"] == "no_specialist" and failed["caller"] == "with_first_agent"
    await back_with_first_agent(centre, call_id)
    consult_id = handover["consult_contact_id"]
    assert (await centre.contact(consult_id)).state is ContactState.ABANDONED  # out of the queue
    assert centre.leg(consult_id).state is LegState.ENDED

    async def told() -> bool:
        ended = await centre.events(f"agent:{AGENT}", "handover.ended")
        return [(e.data["state"], e.data["reason"]) for e in ended] == [("failed", "no_specialist")]

    await until(told, message="agent14 to be told")


async def test_a_specialist_declines_then_nobody_accepts_in_time(quick_centre: Centre) -> None:
    centre = quick_centre
    call_id = await centre.call_answered_by_agent()
    spec = await centre.login("specialist04")
    await centre.available(spec)
    handover = await centre.ask(call_id, target="amh_spa")
    offer_id = await centre.offer_for(spec, handover["consult_contact_id"])
    declined = await centre.post(f"/api/offers/{offer_id}/reject", spec)
    assert declined.status_code == 200, declined.text
    assert (await centre.handover(handover["id"]))["state"] == "requested"  # still looking

    failed = await centre.until_state(handover["id"], "failed")
    assert failed["reason"] == "no_specialist" and failed["specialist"] is None
    await back_with_first_agent(centre, call_id)


async def test_a_declined_consult_goes_to_the_next_specialist(centre: Centre) -> None:
    call_id = await centre.call_answered_by_agent()
    first, second = await centre.login("specialist04"), await centre.login("specialist06")
    await centre.available(first)
    await centre.available(second)
    handover = await centre.ask(call_id, target="amh_spa")
    consult_id = handover["consult_contact_id"]
    offer_id = await centre.offer_for(first, consult_id)  # the longest idle
    assert (await centre.post(f"/api/offers/{offer_id}/reject", first)).status_code == 200
    await centre.answer(second, consult_id)
    assert (await centre.until_state(handover["id"], "consulting"))["specialist"] == "specialist06"


async def test_the_specialist_hangs_up_during_the_consult(centre: Centre) -> None:
    call_id, handover, spec = await consulting(centre)
    consult_id = handover["consult_contact_id"]
    assert (await centre.post(f"/api/contacts/{consult_id}/hangup", spec)).status_code == 200

    failed = await centre.until_state(handover["id"], "failed")
    assert failed["reason"] == "specialist_left"
    await back_with_first_agent(centre, call_id)
    assert (await centre.contact(consult_id)).state is ContactState.WRAP_UP


async def test_the_first_agent_hangs_up_during_the_consult(centre: Centre) -> None:
    call_id, handover, _ = await consulting(centre)
    consult_id = handover["consult_contact_id"]
    assert (await centre.post(f"/api/contacts/{call_id}/hangup", centre.agent)).status_code == 200

    done = await centre.until_state(handover["id"], "completed")
    assert done["reason"] == "first_agent_left" and done["caller"] == "with_specialist"
    consult = await centre.contact(consult_id)
    assert consult.state is ContactState.CONNECTED and consult.agent_id == "specialist04"
    leg = centre.leg(consult_id)
    assert leg.state is LegState.CONNECTED and leg.has_caller and leg.agent == "specialist04"
    assert (await centre.contact(call_id)).state is ContactState.WRAP_UP


async def test_the_first_agent_hangs_up_before_anyone_accepts(centre: Centre) -> None:
    call_id = await centre.call_answered_by_agent()
    enqueued_at = (await centre.contact(call_id)).enqueued_at
    handover = await centre.ask(call_id, target="amh_spa")
    consult_id = handover["consult_contact_id"]
    assert (await centre.post(f"/api/contacts/{call_id}/hangup", centre.agent)).status_code == 200

    failed = await centre.until_state(handover["id"], "failed")
    assert failed["reason"] == "first_agent_left" and failed["caller"] == "queued"
    # The caller waits in the target queue, in their original place, hearing the queue.
    waiting = await centre.contact(consult_id)
    assert waiting.state is ContactState.QUEUED and waiting.enqueued_at == enqueued_at
    leg = centre.leg(consult_id)
    assert leg.state is LegState.QUEUED and leg.has_caller
    assert centre.leg(call_id).transferred_to == consult_id

    # Whoever answers gets the note and talks to the caller at once.
    spec = await centre.login("specialist06")
    await centre.available(spec)
    await centre.answer(spec, consult_id)
    await until(lambda: centre.leg(consult_id).state is LegState.CONNECTED, message="caller and specialist")

    async def briefed() -> bool:
        notes = await centre.events("agent:specialist06", "handover.note")
        return [e.data["handover"] for e in notes] == [handover["id"]]

    # Sent when the offer is made (the caller is on this call already, so answering connects at once).
    await until(briefed, message="the note to reach specialist06")
    # And the caller can still hang up on the number they rang.
    assert await centre.sim.caller_hangs_up(call_id)
    await until(
        lambda: centre.leg(consult_id).ended_by == "caller", message="the caller's hang-up on the consult"
    )
    assert (await centre.contact(consult_id)).state is ContactState.WRAP_UP


async def test_the_caller_hangs_up_during_the_consult(centre: Centre) -> None:
    call_id, handover, _ = await consulting(centre)
    consult_id = handover["consult_contact_id"]
    resp = await centre.post(f"/api/sim/calls/{call_id}/hangup", centre.sup)
    assert resp.status_code == 204, resp.text

    cancelled = await centre.until_state(handover["id"], "cancelled")
    assert cancelled["reason"] == "caller_hung_up" and cancelled["caller"] == "gone"
    assert centre.leg(consult_id).state is LegState.ENDED
    assert (await centre.contact(consult_id)).state is ContactState.WRAP_UP  # the specialist wraps up
    assert (await centre.contact(call_id)).state is ContactState.WRAP_UP  # and so does agent14

    async def told() -> bool:
        ended = await centre.events("agent:specialist04", "handover.ended")
        return [(e.data["state"], e.data["reason"]) for e in ended] == [("cancelled", "caller_hung_up")]

    await until(told, message="the specialist to be told")


async def test_the_caller_hangs_up_while_a_specialist_is_rung(centre: Centre) -> None:
    call_id = await centre.call_answered_by_agent()
    spec = await centre.login("specialist04")
    await centre.available(spec)
    handover = await centre.ask(call_id, target="amh_spa")
    consult_id = handover["consult_contact_id"]
    await centre.offer_for(spec, consult_id)
    assert await centre.sim.caller_hangs_up(call_id)

    await centre.until_state(handover["id"], "cancelled")
    assert (await centre.contact(consult_id)).state is ContactState.ABANDONED
    await until(lambda: centre.sim.ringing("specialist04") is None, message="the specialist's phone to stop")
    agent = await centre.r.services.store.get_agent("specialist04")
    assert agent.engine == "idle" and agent.offer_id is None
