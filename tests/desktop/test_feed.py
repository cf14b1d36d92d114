"""The agent's stream through a whole call: messages, their order, their catalogue, and the ring."""

from __future__ import annotations

from typing import Any

import pytest

from cti.desktop.catalogue import AgentSnapshot, agent_stream, validate_agent_message
from cti.domain.events import CENTRE_STREAM
from cti.telephony.sim import SimTelephony
from tests.api.conftest import Running
from tests.conftest import until
from tests.desktop.conftest import AGENT, QUEUE, agent_messages, find_callers, of_type, set_status


async def wait_for(r: Running, type: str, contact: str | None = None, count: int = 1) -> None:
    async def arrived() -> bool:
        return len(of_type(await agent_messages(r.services), type, contact)) >= count

    await until(arrived, message=f"{count} '{type}' message(s) on the agent's stream")


def watch_rings(r: Running, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Each ring, with the message types already on the agent's stream when it happened."""
    sim = r.services.telephony
    assert isinstance(sim, SimTelephony)
    ring = sim.ring
    seen: list[tuple[str, list[str]]] = []

    async def ring_and_note(call_id: str, agent_id: str) -> None:
        on_stream = of_type(await agent_messages(r.services, agent_id), "offer.created", call_id)
        seen.append((call_id, [e.type for e in on_stream]))
        await ring(call_id, agent_id)

    monkeypatch.setattr(sim, "ring", ring_and_note)
    return seen


async def test_a_whole_call_gives_the_agent_its_messages_in_order(
    desk_any: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = desk_any
    rings = watch_rings(r, monkeypatch)
    callers = await find_callers(r.services.engine)
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=callers.known)
    await wait_for(r, "offer.created", call_id)
    await until(lambda: bool(rings), message="the phone to ring")
    assert rings == [(call_id, ["offer.created"])]  # the pop was on the stream before the ring
    sim = r.services.telephony
    assert isinstance(sim, SimTelephony)
    assert sim.ringing(AGENT) == call_id

    offer_id = of_type(await agent_messages(r.services), "offer.created")[0].data["offer"]
    assert (await r.client.post(f"/api/offers/{offer_id}/accept", headers=agent)).status_code == 200
    for action in ("hold", "resume", "hangup"):
        resp = await r.client.post(f"/api/contacts/{call_id}/{action}", headers=agent)
        assert resp.status_code == 200, resp.text
    wrap = {"outcome_code": "advice_given", "first_contact_resolution": True, "reason_codes": []}
    resp = await r.client.post(f"/api/contacts/{call_id}/wrap-up", json=wrap, headers=agent)
    assert resp.status_code == 200, resp.text
    await wait_for(r, "agent.state", count=5)

    events = await agent_messages(r.services)
    for event in events:
        validate_agent_message(event.to_json())
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [(e.type, _what(e.data)) for e in events] == [
        ("agent.state", "available/idle"),
        ("offer.created", call_id),
        ("agent.state", "available/offered"),
        ("contact.updated", "connected"),
        ("agent.state", "available/busy"),
        ("contact.updated", "held"),
        ("contact.updated", "resumed"),
        ("contact.updated", "wrap_up"),
        ("agent.state", "available/wrap_up"),
        ("contact.updated", "closed"),
        ("agent.state", "available/idle"),
    ]
    connected = of_type(events, "contact.updated")[0].data
    assert (
        connected["offer"] == offer_id and connected["state"] == "connected" and connected["waited_ms"] >= 0
    )
    wrap_up = of_type(events, "contact.updated")[3].data
    assert wrap_up["by"] == "agent" and wrap_up["wrap_up_until"] > events[0].at
    assert sim.log(call_id) == ["ring", "connect", "hold", "resume", "hangup"]


def _what(data: dict[str, Any]) -> str:
    if "engine" in data:
        return f"{data['status']}/{data['engine']}"
    return str(data.get("change") or data.get("contact"))


async def test_offers_that_end_unanswered_say_why_and_stop_the_ringing(desk: Running) -> None:
    r = desk
    sim = r.services.telephony
    assert isinstance(sim, SimTelephony)
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    first = await r.place_call(sup, queue=QUEUE, cli="07700 900201")
    await wait_for(r, "offer.created", first)
    resp = await r.client.post(f"/api/sim/calls/{first}/hangup", headers=sup)
    assert resp.status_code == 204
    await wait_for(r, "offer.ended", first)
    await until(lambda: sim.ringing(AGENT) is None, message="the phone to stop ringing")
    assert sim.log(first) == ["ring", "stop_ringing"]

    second = await r.place_call(sup, queue=QUEUE, cli="07700 900202")
    await wait_for(r, "offer.created", second)
    offer_id = of_type(await agent_messages(r.services), "offer.created", second)[0].data["offer"]
    assert (await r.client.post(f"/api/offers/{offer_id}/reject", headers=agent)).status_code == 200
    await wait_for(r, "offer.ended", second)

    events = await agent_messages(r.services)
    for event in events:
        validate_agent_message(event.to_json())
    ended = [e.data for e in of_type(events, "offer.ended")]
    assert [(d["contact"], d["why"]) for d in ended] == [(first, "cancelled"), (second, "rejected")]
    await wait_for(r, "agent.state", count=6)
    last = of_type(await agent_messages(r.services), "agent.state")[-1].data
    assert (last["status"], last["reason"], last["engine"]) == ("not_ready", "rejected", "idle")


async def test_other_centre_events_about_the_agent_pass_through(desk: Running) -> None:
    r = desk
    data = {"handover": "h-1", "contact": "c-1", "agent": AGENT, "note": {"reason": "consult"}}
    await r.services.bus.publish(CENTRE_STREAM, "handover.requested", data, 1_767_780_000_000)
    await r.services.bus.publish(CENTRE_STREAM, "queue.paused", {"queue": QUEUE}, 1_767_780_000_001)
    await wait_for(r, "event")
    (event,) = of_type(await agent_messages(r.services), "event")
    assert event.data == {"type": "handover.requested", "data": data}
    assert event.at == 1_767_780_000_000
    validate_agent_message(event.to_json())


async def test_the_snapshot_holds_the_offer_then_the_contact_in_hand(desk_any: Running) -> None:
    r = desk_any
    callers = await find_callers(r.services.engine)
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=callers.known)
    await wait_for(r, "offer.created", call_id)
    await wait_for(r, "agent.state", count=2)

    resp = await r.client.get("/api/desktop/me", headers=agent)
    assert resp.status_code == 200, resp.text
    offered = AgentSnapshot.model_validate(resp.json())
    assert offered.stream == agent_stream(AGENT)
    assert offered.last_seq == await r.services.bus.last_seq(agent_stream(AGENT))
    assert offered.state.engine == "offered" and offered.contact is None
    assert offered.offer is not None and offered.offer.contact == call_id
    assert offered.offer.screen_pop.caller.people[0].id == callers.known_person
    assert offered.offer.screen_pop.contact.routing is not None

    assert (
        await r.client.post(f"/api/offers/{offered.offer.offer}/accept", headers=agent)
    ).status_code == 200
    in_hand = AgentSnapshot.model_validate((await r.client.get("/api/desktop/me", headers=agent)).json())
    assert in_hand.offer is None and in_hand.state.engine == "busy"
    assert in_hand.contact is not None
    assert (in_hand.contact.contact, in_hand.contact.state) == (call_id, "connected")
    assert in_hand.contact.screen_pop is not None
    assert in_hand.contact.screen_pop.caller.people[0].id == callers.known_person
    assert (await r.client.get("/api/desktop/me", headers=sup)).status_code == 403
