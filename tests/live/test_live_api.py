"""The supervisor live view on a real server (memory): calls placed and answered through the REST API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cti.auth.service import Principal
from cti.domain.errors import Forbidden
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.live import SUPERVISOR_STREAM, supervisor_snapshot, validate_supervisor_message
from tests.api.conftest import Running
from tests.conftest import until

QUEUE = "amh_spa"  # open 24x7 in the demo centre


async def supervisor_messages(r: Running) -> list[Event]:
    got = await r.services.bus.read_after(SUPERVISOR_STREAM, 0, limit=10_000)
    assert not isinstance(got, Resync)
    return got


def latest(messages: list[Event], type_: str, **match: Any) -> dict[str, Any] | None:
    found = [
        m.data for m in messages if m.type == type_ and all(m.data.get(k) == v for k, v in match.items())
    ]
    return found[-1] if found else None


async def offer_for(r: Running, headers: dict[str, str]) -> dict[str, Any]:
    state: dict[str, Any] = {}

    async def offered() -> bool:
        state.update((await r.client.get("/api/agents/me", headers=headers)).json())
        return state.get("offer") is not None

    await until(offered, message="an offer for the agent")
    offer: dict[str, Any] = state["offer"]
    return offer


async def test_calls_answered_and_abandoned_show_in_the_stream_and_the_snapshot(live_server: Running) -> None:
    r = live_server
    sup = await r.login("supervisor01")
    agent = await r.login("agent14")
    assert (
        await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    ).is_success

    call = await r.place_call(sup, queue=QUEUE, cli="07700 900123")
    offer = await offer_for(r, agent)
    assert (await r.client.post(f"/api/offers/{offer['id']}/accept", headers=agent)).is_success
    assert (await r.client.post(f"/api/contacts/{call}/hangup", headers=agent)).is_success
    wrap = {"outcome_code": "advice_given", "first_contact_resolution": True}
    assert (await r.client.post(f"/api/contacts/{call}/wrap-up", json=wrap, headers=agent)).is_success
    busy = {"status": "not_ready", "reason": "break"}
    assert (await r.client.put("/api/agents/me/status", json=busy, headers=agent)).is_success

    gone = await r.place_call(sup, queue=QUEUE)
    assert (await r.client.post(f"/api/sim/calls/{gone}/hangup", headers=sup)).status_code == 204

    async def figures_settled() -> bool:
        stats = latest(await supervisor_messages(r), "queue.stats", queue=QUEUE)
        return stats is not None and (stats["offered"], stats["answered"], stats["abandoned"]) == (2, 1, 1)

    await until(figures_settled, message="queue.stats with both calls")
    messages = await supervisor_messages(r)
    for m in messages:
        validate_supervisor_message(m)
    stats = latest(messages, "queue.stats", queue=QUEUE)
    assert stats is not None
    assert stats["waiting"] == 0 and stats["answered_within"] == 1 and stats["abandoned_after"] == 0
    assert stats["service_level"] == 1.0 and stats["abandon_rate"] == 0.5
    assert stats["asa_s"] is not None and stats["asa_s"] < 5 and stats["threshold_s"] == 60
    ringing = [m.data for m in messages if m.type == "queue.stats" and m.data["waiting"] == 1]
    assert ringing, "the waiting call was shown"

    states = [
        (m.data["status"], m.data["engine"], m.data["contact"]) for m in messages if m.type == "agent.state"
    ]
    assert states[0] == ("available", "idle", None)
    assert ("available", "offered", call) in states and ("available", "busy", call) in states
    assert ("available", "wrap_up", call) in states and states[-1] == ("not_ready", "idle", None)
    assert len({m.seq for m in messages}) == len(messages)

    snapshot = (await r.client.get("/api/live", headers=sup)).json()
    amh = next(q for q in snapshot["queues"] if q["queue"] == QUEUE)
    assert {k: amh[k] for k in ("offered", "answered", "abandoned", "service_level", "abandon_rate")} == {
        "offered": 2,
        "answered": 1,
        "abandoned": 1,
        "service_level": 1.0,
        "abandon_rate": 0.5,
    }
    assert [q["queue"] for q in snapshot["queues"]] == list(r.services.centre.queues)
    (me,) = [a for a in snapshot["agents"] if a["agent"] == "agent14"]
    assert (me["status"], me["reason"], me["engine"], me["contact"]) == ("not_ready", "break", "idle", None)
    assert snapshot["alerts"] == [] and snapshot["partial"] is False
    assert snapshot["as_of_seq"] == await r.services.bus.last_seq(CENTRE_STREAM)
    assert snapshot["supervisor_seq"] <= await r.services.bus.last_seq(SUPERVISOR_STREAM)


async def test_only_supervisors_and_admins_see_the_live_view(live_server: Running) -> None:
    r = live_server
    agent = await r.login("agent14")
    denied = await r.client.get("/api/live", headers=agent)
    assert denied.status_code == 403 and denied.json()["error_id"] == "role_forbidden"
    assert (await r.client.get("/api/live")).status_code == 401
    assert (await r.client.get("/api/live", headers=await r.login("admin"))).status_code == 200
    with pytest.raises(Forbidden):
        await supervisor_snapshot(r.services, Principal("agent14", "agent"))


async def test_supervisor_actions_are_audited_and_shown(live_server: Running) -> None:
    r = live_server
    sup = await r.login("supervisor01")
    agent = await r.login("agent14")
    await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    now = datetime.now(UTC)
    before = now.replace(microsecond=now.microsecond // 1000 * 1000)  # audit times are whole ms

    set_status = {"status": "not_ready", "reason": "training"}
    assert (await r.client.put("/api/agents/agent14/status", json=set_status, headers=sup)).is_success
    call = await r.place_call(sup, queue=QUEUE)
    moved = await r.client.post(f"/api/contacts/{call}/move", json={"queue": "bed_bureau"}, headers=sup)
    assert moved.is_success
    raised = await r.client.post(f"/api/contacts/{call}/priority", json={"priority": 9}, headers=sup)
    assert raised.is_success
    after = datetime.now(UTC)

    entries = await r.services.records.audit_entries("agent14", subject_type="agent")
    entries += await r.services.records.audit_entries(call, subject_type="contact")
    assert [(e.action, e.subject_id) for e in entries] == [
        ("set_agent_status", "agent14"),
        ("move_contact", call),
        ("set_priority", call),
    ]
    for e in entries:
        assert (e.actor, e.role) == ("supervisor01", "supervisor")
        assert before <= e.at <= after

    async def shown() -> bool:
        snapshot = await supervisor_snapshot(r.services, Principal("supervisor01", "supervisor"))
        queues = {q["queue"]: q for q in snapshot["queues"]}
        me = next((a for a in snapshot["agents"] if a["agent"] == "agent14"), None)
        return (
            queues["bed_bureau"]["waiting"] == 1
            and queues[QUEUE]["waiting"] == 0
            and me is not None
            and me["reason"] == "training"
        )

    await until(shown, message="the live view showing the supervisor's actions")
