"""A whole call through the REST API on a real server: what the agent and the supervisor see."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Running
from tests.conftest import until

# amh_spa is open 24x7 in the demo centre, so these tests do not depend on the time of day.
QUEUE = "amh_spa"


async def my_state(r: Running, headers: dict[str, str]) -> dict[str, Any]:
    resp = await r.client.get("/api/agents/me", headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_full_call_answered_held_ended_and_wrapped_up(running_any: Running) -> None:
    r = running_any
    sup = await r.login("supervisor01")
    agent = await r.login("agent14")
    resp = await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    assert resp.status_code == 200 and resp.json()["status"] == "available"

    call_id = await r.place_call(sup, queue=QUEUE, cli="07700 900123", caller_type="public")

    state = await my_state(r, agent)
    assert state["offer"] is not None, state
    assert state["offer"]["contact_id"] == call_id
    offer_id = state["offer"]["id"]

    accepted = await r.client.post(f"/api/offers/{offer_id}/accept", headers=agent)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "connected"
    assert (await r.client.post(f"/api/contacts/{call_id}/hold", headers=agent)).json()["state"] == "held"
    assert (await r.client.post(f"/api/contacts/{call_id}/resume", headers=agent)).json()[
        "state"
    ] == "connected"
    assert (await r.client.post(f"/api/contacts/{call_id}/hangup", headers=agent)).json()[
        "state"
    ] == "wrap_up"
    assert (await my_state(r, agent))["agent"]["engine"] == "wrap_up"

    wrapped = await r.client.post(
        f"/api/contacts/{call_id}/wrap-up",
        json={
            "outcome_code": "advice_given",
            "first_contact_resolution": True,
            "reason_codes": ["new_enquiry"],
        },
        headers=agent,
    )
    assert wrapped.status_code == 200, wrapped.text
    assert wrapped.json()["state"] == "closed"
    after = await my_state(r, agent)
    assert after["agent"]["engine"] == "idle" and after["agent"]["status"] == "available"

    decisions = await r.client.get(f"/api/contacts/{call_id}/decisions", headers=sup)
    assert decisions.status_code == 200
    (decision,) = decisions.json()
    assert decision["winner"] == "agent14" and decision["rule"] == "longest_idle_agent"

    async def recorded() -> bool:
        contact = await r.services.records.get_contact(call_id)
        return contact is not None and contact.wrap_up_ended_at is not None

    await until(recorded, message="the contact's segments recorded")
    record = await r.services.records.get_contact(call_id)
    assert record is not None
    assert record.outcome_code == "advice_given" and record.first_contact_resolution is True
    assert record.answered_at is not None and record.talk_ended_at is not None
    assert record.queue == QUEUE and record.agent_id == "agent14"


async def test_reject_and_caller_hangup_while_ringing(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    a13 = await r.login("agent13")
    a14 = await r.login("agent14")
    for h in (a13, a14):
        await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=h)
    call_id = await r.place_call(sup, queue=QUEUE)
    first = a13 if (await my_state(r, a13))["offer"] else a14
    other = a14 if first is a13 else a13
    offer_id = (await my_state(r, first))["offer"]["id"]
    rejected = await r.client.post(f"/api/offers/{offer_id}/reject", headers=first)
    assert rejected.status_code == 200
    mine = await my_state(r, first)
    assert mine["agent"]["status"] == "not_ready" and mine["agent"]["reason"] == "rejected"
    second_offer = (await my_state(r, other))["offer"]
    assert second_offer["contact_id"] == call_id

    # the caller gives up while the second agent's phone rings: the offer is cancelled
    assert (await r.client.post(f"/api/sim/calls/{call_id}/hangup", headers=sup)).status_code == 204
    assert (await my_state(r, other))["offer"] is None
    late = await r.client.post(f"/api/offers/{second_offer['id']}/accept", headers=other)
    assert late.status_code == 409
    assert late.json()["error_id"] == "illegal_transition"


async def test_queues_and_agents_for_the_supervisor(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    await r.place_call(sup, queue=QUEUE)
    queues = (await r.client.get("/api/queues", headers=sup)).json()
    amh = next(q for q in queues if q["id"] == QUEUE)
    assert amh["waiting"] == 1 and amh["open"] is True
    agents = (await r.client.get("/api/agents", headers=sup)).json()
    assert {a["id"] for a in agents} >= {"agent01", "agent20", "specialist06"}
    waiting = (await r.client.get(f"/api/queues/{QUEUE}/waiting", headers=sup)).json()
    assert len(waiting) == 1


async def test_supervisor_moves_and_reprioritises_a_waiting_contact(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    call_id = await r.place_call(sup, queue=QUEUE)
    moved = await r.client.post(f"/api/contacts/{call_id}/move", json={"queue": "bed_bureau"}, headers=sup)
    assert moved.status_code == 200 and moved.json()["queue"] == "bed_bureau"
    raised = await r.client.post(f"/api/contacts/{call_id}/priority", json={"priority": 9}, headers=sup)
    assert raised.status_code == 200 and raised.json()["priority"] == 9
    audit = await r.services.records.audit_entries(call_id)
    assert [e.action for e in audit] == ["move_contact", "set_priority"]
    assert all(e.actor == "supervisor01" for e in audit)


async def test_wrap_up_codes_are_checked(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    agent = await r.login("agent14")
    await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    call_id = await r.place_call(sup, queue=QUEUE)
    offer_id = (await my_state(r, agent))["offer"]["id"]
    await r.client.post(f"/api/offers/{offer_id}/accept", headers=agent)
    early = await r.client.post(
        f"/api/contacts/{call_id}/wrap-up",
        json={"outcome_code": "advice_given", "first_contact_resolution": True},
        headers=agent,
    )
    assert early.status_code == 409 and early.json()["error_id"] == "contact_not_in_wrap_up"
    await r.client.post(f"/api/contacts/{call_id}/hangup", headers=agent)
    bad = await r.client.post(
        f"/api/contacts/{call_id}/wrap-up",
        json={"outcome_code": "made_up", "first_contact_resolution": True},
        headers=agent,
    )
    assert bad.status_code == 422 and bad.json()["error_id"] == "unknown_outcome_code"
    assert bad.json()["details"]["field"] == "outcome_code"


async def test_an_agent_cannot_log_out_with_a_call_in_hand(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    agent = await r.login("agent14")
    await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    await r.place_call(sup, queue=QUEUE)
    out = await r.client.put("/api/agents/me/status", json={"status": "logged_out"}, headers=agent)
    assert out.status_code == 409 and out.json()["error_id"] == "agent_busy"
