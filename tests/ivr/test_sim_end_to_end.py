"""Through the real app on the simulator: a call dialled to the front door, answered in the IVR, queued
with what the caller chose, offered to an agent; hold announcements; self-service recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cti.domain.errors import NotFound
from cti.telephony.port import InboundCall
from ivr.actions import Pause, Say
from ivr.waiting import hold_actions
from tests.api.conftest import Running, settings_for, start_server
from tests.conftest import until

CLI = "07700 900123"
# 1 English, 1 professional, NHS number, 3 adult mental health (open 24x7, so any time of day works)
MENTAL_HEALTH = [{"digits": "1"}, {"digits": "1"}, {"digits": "9990000018"}, {"digits": "3"}]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_server(settings_for(tmp_path)):
        yield r


async def _dial(
    r: Running, headers: dict[str, str], inputs: list[dict[str, Any]], **body: Any
) -> dict[str, Any]:
    resp = await r.client.post(
        "/api/sim/ivr-calls", json={"cli": CLI, "inputs": inputs, **body}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def test_front_door_call_is_queued_with_the_ivr_choices_and_offered(running: Running) -> None:
    r = running
    person = await r.services.records.add_person(
        given_name="Test", family_name="Patient", nhs_number="9990000018"
    )
    sup, agent = await r.login("supervisor01"), await r.login("agent14")
    assert (
        await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    ).status_code == 200

    body = await _dial(r, sup, MENTAL_HEALTH)
    call_id = body["call_id"]
    assert "If someone's life is at risk, hang up and dial 999 now." in body["heard"][0]
    assert body["outcome"]["action"] == "enqueue" and body["outcome"]["queue"] == "amh_spa"
    assert "nhs_number" not in body["outcome"]

    me = (await r.client.get("/api/agents/me", headers=agent)).json()
    assert me["offer"]["contact_id"] == call_id
    accepted = await r.client.post(f"/api/offers/{me['offer']['id']}/accept", headers=agent)
    assert accepted.status_code == 200, accepted.text
    contact = (await r.client.get("/api/agents/me", headers=agent)).json()["contact"]
    assert contact["id"] == call_id and contact["queue"] == "amh_spa"
    assert contact["attrs"]["caller_type"] == "professional"
    assert contact["attrs"]["ivr"]["service"] == "amh_spa"
    assert contact["attrs"]["ivr"]["path"] == "language:1 > who:1 > nhs_number:ok > professional_menu:3"
    record = await r.services.records.get_contact(call_id)
    assert record is not None and record.person_id == person.id  # found by the NHS number keyed
    assert record.caller_type == "professional"


async def test_waiting_callers_hear_their_position_and_the_hold_message(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    first = (await _dial(r, sup, MENTAL_HEALTH))["call_id"]
    second = (await _dial(r, sup, MENTAL_HEALTH))["call_id"]
    assert (await hold_actions(r.services, first, 0))[0] == Say("You are next in the queue.")
    assert await hold_actions(r.services, second, 0) == [Say("You are number 2 in the queue."), Pause(30.0)]
    later = await hold_actions(r.services, second, 1)
    assert later == [
        Say("Thank you for holding. An adviser will be with you as soon as possible."),
        Pause(30.0),
    ]
    assert (await r.client.post(f"/api/sim/calls/{first}/hangup", headers=sup)).status_code == 204
    assert (await hold_actions(r.services, second, 2))[0] == Say("You are next in the queue.")

    # Once calls are answered, callers also hear the average wait (from the live figures).
    agent = await r.login("agent14")
    await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    offer = (await r.client.get("/api/agents/me", headers=agent)).json()["offer"]
    assert (await r.client.post(f"/api/offers/{offer['id']}/accept", headers=agent)).status_code == 200
    third = (await _dial(r, sup, MENTAL_HEALTH))["call_id"]
    average = Say("The average wait at the moment is less than a minute.")

    async def hears_the_wait() -> bool:
        return average in await hold_actions(r.services, third, 0)

    await until(hears_the_wait, message="the average wait in the announcement")


async def test_legacy_line_hold_messages_are_the_flows(running: Running) -> None:
    r = running
    sup = await r.login("supervisor01")
    call_id = (await _dial(r, sup, [{"digits": "2"}], dialled="0116 496 0015"))["call_id"]  # AMH line, Welsh
    assert (await hold_actions(r.services, call_id, 0))[0] == Say("Chi sydd nesaf yn y ciw.", "cy-GB")
    message = (await hold_actions(r.services, call_id, 1))[0]
    assert isinstance(message, Say) and message.text.startswith("Os bydd pethau'n gwaethygu")


async def test_wheres_my_nurse_is_resolved_without_an_agent(running: Running) -> None:
    r = running
    records = r.services.records
    person = await records.add_person(given_name="Test", family_name="Patient", phones=[(CLI, "mobile")])
    due = datetime.now(UTC) + timedelta(days=2)
    request = await records.create_service_request(
        person.id, "chs_spa", "Wound care (illustrative)", due_at=due
    )
    sup = await r.login("supervisor01")
    body = await _dial(r, sup, [{"digits": "1"}, {"digits": "2"}, {"digits": "2"}, {"no_input": True}])
    assert body["outcome"]["action"] == "selfservicedone"
    assert any("has been received and is waiting to be looked at by the team" in t for t in body["heard"])
    contact = await records.get_contact(body["call_id"])
    assert contact is not None
    assert (contact.reason_codes, contact.outcome_code, contact.agent_id) == (
        ["progress_chase"],
        "status_given",
        None,
    )
    assert contact.person_id == person.id and request.service == contact.service
    with pytest.raises(NotFound):
        await r.services.store.get_contact(body["call_id"])  # never queued


async def test_bad_ivr_call_bodies_get_422(running: Running) -> None:
    sup = await running.login("supervisor01")
    bad: list[list[dict[str, Any]]] = [[{"digits": "1", "speech": "one"}], [{}], [{"digits": "1a"}]]
    for inputs in bad:
        resp = await running.client.post("/api/sim/ivr-calls", json={"inputs": inputs}, headers=sup)
        assert resp.status_code == 422, (inputs, resp.text)
    agent = await running.login("agent14")
    assert (await running.client.post("/api/sim/ivr-calls", json={}, headers=agent)).status_code == 403


async def test_the_priority_an_ivr_gives_raises_the_contact_above_its_queues(running: Running) -> None:
    calls = running.services.calls
    for call_id, priority in (("c-plain", None), ("c-raised", 9)):
        await calls.call_arrived(
            InboundCall(call_id, "+447700900123", "+441164960000", "amh_spa", "public", priority=priority)
        )
    plain = await running.services.store.get_contact("c-plain")
    raised = await running.services.store.get_contact("c-raised")
    assert plain.priority < 9 and raised.priority == 9
