"""Asking for a handover: who is offered first, and the 4xx answers (stable error ids, never a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from cti.domain.errors import InvalidInput
from cti.domain.model import RoutingPlan, Stage
from cti.handover import Note
from cti.handover.service import stages_later
from tests.handover.conftest import NOTE, Centre

CALLER = "07700 900987"


async def refused(centre: Centre, path: str, body: dict[str, Any], status: int, error_id: str) -> None:
    resp = await centre.r.client.post(path, json=body, headers=centre.agent)
    assert resp.status_code == status, resp.text
    assert resp.json()["error_id"] == error_id


async def test_the_allocated_worker_is_offered_first(centre: Centre) -> None:
    records = centre.r.services.records
    person = await records.add_person(given_name="Ada", family_name="Example", phones=[(CALLER, "mobile")])
    await records.allocate(person.id, "icrs", "specialist06", "Crisis response practitioner 06")
    await centre.available(centre.agent)
    call_id = await centre.r.place_call(centre.sup, queue="amh_spa", cli=CALLER)
    await centre.answer(centre.agent, call_id)
    # agent18 serves the crisis queue and has been idle longer; the allocated worker still comes first.
    for username in ("agent18", "specialist06"):
        await centre.available(await centre.login(username))

    handover = await centre.ask(call_id, target="icrs_rapid_response")
    assert handover["worker"] == "specialist06" and handover["target"] == "icrs_rapid_response"
    spec = await centre.login("specialist06")
    await centre.answer(spec, handover["consult_contact_id"])
    await centre.until_state(handover["id"], "consulting")
    decisions = await centre.r.services.store.decisions(handover["consult_contact_id"])
    assert decisions[0]["rule"] == "named_worker" and decisions[0]["winner"] == "specialist06"
    note = (await centre.events("agent:specialist06", "handover.note"))[0]
    assert note.data["caller"]["person"]["id"] == person.id
    views = await records.audit_entries(person.id, "person")
    assert [(v.actor, v.action) for v in views] == [("specialist06", "handover_context")]


async def test_a_worker_by_name(centre: Centre) -> None:
    call_id = await centre.call_answered_by_agent()
    spec = await centre.login("specialist06")
    await centre.available(spec)
    handover = await centre.ask(call_id, worker="specialist06")
    assert handover["worker"] == "specialist06" and handover["target"] == "amh_spa"
    await centre.answer(spec, handover["consult_contact_id"])
    assert (await centre.until_state(handover["id"], "consulting"))["specialist"] == "specialist06"


async def test_requests_that_cannot_be_met(centre: Centre) -> None:
    call_id = await centre.call_answered_by_agent()
    path = f"/api/contacts/{call_id}/handover"
    await refused(centre, path, {"note": NOTE}, 422, "invalid_request")
    await refused(centre, path, {"target": "nowhere", "note": NOTE}, 422, "unknown_queue")
    await refused(centre, path, {"worker": "nobody", "note": NOTE}, 422, "unknown_worker")
    await refused(centre, path, {"worker": "agent14", "note": NOTE}, 422, "handover_to_self")
    await refused(centre, path, {"worker": "specialist03", "note": NOTE}, 409, "worker_unavailable")
    await refused(centre, path, {"target": "amh_spa", "note": {"reason": ""}}, 422, "invalid_request")
    long_note = {**NOTE, "free_text": "x" * 2001}
    await refused(centre, path, {"target": "amh_spa", "note": long_note}, 422, "invalid_request")
    flags = {**NOTE, "risk_flags": ["Not A Code"]}
    await refused(centre, path, {"target": "amh_spa", "note": flags}, 422, "invalid_note")
    await refused(
        centre, "/api/contacts/nope/handover", {"target": "amh_spa", "note": NOTE}, 404, "contact_not_found"
    )

    other = await centre.login("agent13")
    resp = await centre.r.client.post(path, json={"target": "amh_spa", "note": NOTE}, headers=other)
    assert resp.status_code == 404 and resp.json()["error_id"] == "contact_not_found"
    resp = await centre.r.client.post(path, json={"target": "amh_spa", "note": NOTE}, headers=centre.sup)
    assert resp.status_code == 403 and resp.json()["error_id"] == "role_forbidden"

    first = await centre.ask(call_id, target="amh_spa")
    await refused(centre, path, {"target": "amh_spa", "note": NOTE}, 409, "handover_in_progress")
    consult_path = f"/api/contacts/{first['consult_contact_id']}/handover"
    await refused(centre, consult_path, {"target": "amh_spa", "note": NOTE}, 404, "contact_not_found")
    notes = f"/api/handovers/{first['id']}/notes"
    await refused(centre, notes, {"text": ""}, 422, "invalid_request")
    await refused(centre, notes, {"text": "bell\x07"}, 422, "invalid_note")
    missing = await centre.r.client.get("/api/handovers/ho-nope", headers=centre.agent)
    assert missing.status_code == 404 and missing.json()["error_id"] == "handover_not_found"
    cancelled = await centre.r.client.post(f"/api/handovers/{first['id']}/cancel", headers=centre.agent)
    assert cancelled.status_code == 200
    await refused(centre, notes, {"text": "too late"}, 409, "handover_over")
    # The caller can be handed over again; the next consult is numbered on.
    assert (await centre.ask(call_id, target="amh_spa"))["consult_contact_id"] == f"{call_id}.h2"


def test_a_note_is_checked_and_cleaned() -> None:
    note = Note.of("  needs a practitioner  ", risk_flags=["a", "a", "b"], free_text="  ")
    assert note.reason == "needs a practitioner" and note.risk_flags == ("a", "b") and note.free_text is None
    assert "free_text" not in note.summary() and "told_caller" not in note.summary()
    for bad in ({"reason": "x" * 201}, {"reason": "ok", "risk_flags": ["f"] * 11}, {"reason": "a\x00b"}):
        with pytest.raises(InvalidInput) as raised:
            Note.of(**bad)  # type: ignore[arg-type]
        assert raised.value.error_id == "invalid_note"


def test_a_consult_keeps_the_callers_place_but_counts_its_stages_from_the_request() -> None:
    plan = RoutingPlan(
        (Stage(0, ("@specialist06",), "named_worker"), Stage(30_000, ("icrs_rapid_response",), "queue"))
    )
    moved = stages_later(plan, 95_000)  # the caller was enqueued 95 s before the handover
    assert [(s.after_ms, s.targets) for s in moved.stages] == [
        (0, ("@specialist06",)),
        (125_000, ("icrs_rapid_response",)),
    ]
