"""The scripts API on a real server: the agent runs a script on the call in hand; supervisors read;
clinical safety approves; bad input gets a 4xx whose error_id and details name the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cti.live.messages import SUPERVISOR_STREAM, validate_supervisor_message
from scripts.api import EXTRAS_KEY
from scripts.service import ScriptService
from tests.api.conftest import Running, settings_for, start_server
from tests.conftest import until
from tests.scripts.conftest import build, triage

AGENT = "agent14"  # serves amh_spa (open 24x7)
SCRIPT = "amh_spa_mental_health"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_server(settings_for(tmp_path)):
        yield r


async def call_in_hand(r: Running, agent: dict[str, str], sup: dict[str, str]) -> str:
    resp = await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    assert resp.status_code == 200, resp.text
    call_id = await r.place_call(sup, queue="amh_spa", cli="07700 900321")
    offer: dict[str, Any] = {}

    async def offered() -> bool:
        found = (await r.client.get("/api/agents/me", headers=agent)).json()["offer"]
        if found is not None and found["contact_id"] == call_id:
            offer.update(found)
            return True
        return False

    await until(offered, message="the offer")
    assert (await r.client.post(f"/api/offers/{offer['id']}/accept", headers=agent)).status_code == 200
    return call_id


def refused(resp: httpx.Response, status: int, error_id: str, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error_id"] == error_id
    if field is not None:
        details = body["details"]
        names = {f["field"] for f in details["fields"]} if "fields" in details else {details["field"]}
        assert field in names, body


async def test_an_agent_runs_a_script_on_the_call_in_hand(running: Running) -> None:
    r = running
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    listed = (await r.client.get("/api/scripts", headers=agent)).json()
    assert len(listed) == 8
    amh = next(s for s in listed if s["id"] == SCRIPT)
    assert {"id", "version", "title", "services"} <= set(amh) and amh["services"] == ["amh_spa"]

    call_id = await call_in_hand(r, agent, sup)
    resp = await r.client.post(f"/api/contacts/{call_id}/script", json={"script_id": SCRIPT}, headers=agent)
    assert resp.status_code == 201, resp.text
    session = resp.json()
    assert session["contact_id"] == call_id and session["state"] == "in_progress"
    assert session["script"].startswith(f"{SCRIPT}@1#") and session["outcome"] is None
    question = session["question"]
    assert question["id"] == "q_danger" and question["red_flag"] is True
    assert {"id", "text", "help", "rationale", "answers"} <= set(question)
    base = f"/api/script-sessions/{session['id']}"

    refused(
        await r.client.post(f"{base}/answer", json={"question_id": "q_danger"}, headers=agent),
        422,
        "invalid_request",
        "answer_id",
    )
    bad = {"question_id": "q_danger", "answer_id": "perhaps"}
    refused(
        await r.client.post(f"{base}/answer", json=bad, headers=agent), 422, "invalid_answer", "answer_id"
    )
    ok = {"question_id": "q_danger", "answer_id": "none"}
    refused(await r.client.post(f"{base}/answer", json=ok, headers=sup), 403, "role_forbidden")
    assert (await r.client.post(f"{base}/answer", json=ok, headers=agent)).json()["question"][
        "id"
    ] == "q_risk"
    flagged = await r.client.post(
        f"{base}/answer", json={"question_id": "q_risk", "answer_id": "at_risk"}, headers=agent
    )
    outcome = flagged.json()["outcome"]
    assert (outcome["id"], outcome["action"], outcome["skill"], outcome["timeframe"]) == (
        "o_crisis",
        "warm_handover",
        "AMH",
        "immediate",
    )
    assert outcome["service_type"] == "mental_health_crisis" and outcome["red_flag"] is True
    assert outcome["proposed"]["kind"] == "warm_handover" and outcome["proposed"]["target"] == "amh_spa"
    refused(await r.client.post(f"{base}/back", headers=agent), 409, "red_flag_cannot_be_undone")

    no_reason = {"accept": False, "override_action": "transfer_111"}
    refused(
        await r.client.post(f"{base}/outcome", json=no_reason, headers=agent),
        422,
        "override_reason_required",
        "reason",
    )
    wrong = {"accept": False, "override_action": "teleport", "reason": "x"}
    refused(
        await r.client.post(f"{base}/outcome", json=wrong, headers=agent),
        422,
        "invalid_request",
        "override_action",
    )
    override = {"accept": False, "override_action": "transfer_111", "reason": "caller asked for 111"}
    done = (await r.client.post(f"{base}/outcome", json=override, headers=agent)).json()
    assert done["state"] == "finished" and done["decision"]["action"] == "transfer_111"

    alerts = await r.services.bus.read_after(SUPERVISOR_STREAM, 0)
    assert isinstance(alerts, list)
    overrides = [a for a in alerts if a.type == "script.override"]
    assert len(overrides) == 1 and overrides[0].data["contact"] == call_id
    validate_supervisor_message(overrides[0])

    read = await r.client.get(base, headers=sup)
    assert read.status_code == 200 and read.json()["decision"]["reason"] == "caller asked for 111"
    other = await r.login("agent13")
    refused(await r.client.get(base, headers=other), 404, "script_session_not_found")
    fhir = (await r.client.get(f"{base}/fhir", headers=agent)).json()
    assert fhir["resourceType"] == "QuestionnaireResponse" and fhir["status"] == "completed"
    events = (await r.client.get(f"{base}/events", headers=sup)).json()
    assert [e["kind"] for e in events] == ["started", "answered", "answered", "overridden"]
    assert {e["script"] for e in events} == {session["script"]}

    refused(
        await r.client.post(f"/api/contacts/{call_id}/script", json={"script_id": "Bad Id"}, headers=agent),
        422,
        "invalid_request",
        "script_id",
    )
    refused(
        await r.client.post("/api/contacts/nope/script", json={"script_id": SCRIPT}, headers=agent),
        404,
        "contact_not_found",
    )
    refused(await r.client.get("/api/scripts"), 401, "not_authenticated")
    refused(await r.client.get("/api/script-sessions/nope", headers=sup), 404, "script_session_not_found")


async def test_only_clinical_safety_approves_over_the_api(running: Running) -> None:
    r = running
    service = r.services.extras[EXTRAS_KEY]
    assert isinstance(service, ScriptService)
    script = build(triage())
    await service.store.register(script, service.now())
    await service.store.add_status(script.hash, "in_review", "library", "system", service.now())
    path = "/api/scripts/tiny_triage/versions/1/approve"
    clinsafe, admin, agent = await r.login("clinsafe01"), await r.login("admin"), await r.login(AGENT)
    for headers in (admin, agent):
        refused(await r.client.post(path, json={"hash": script.hash}, headers=headers), 403, "role_forbidden")
    refused(await r.client.post(path, json={"hash": "0" * 64}, headers=clinsafe), 409, "script_hash_mismatch")
    refused(
        await r.client.post(path, json={"hash": "short"}, headers=clinsafe), 422, "invalid_request", "hash"
    )
    signed = await r.client.post(path, json={"hash": script.hash}, headers=clinsafe)
    assert signed.status_code == 200 and signed.json()["status_by"] == "clinsafe01"
    refused(
        await r.client.post(path, json={"hash": script.hash}, headers=clinsafe), 409, "illegal_transition"
    )
    assert "tiny_triage" in [s["id"] for s in (await r.client.get("/api/scripts", headers=agent)).json()]
    versions = (await r.client.get("/api/scripts/tiny_triage/versions", headers=clinsafe)).json()
    assert [v["status"] for v in versions] == ["approved"]
    refused(await r.client.get("/api/scripts/tiny_triage/versions", headers=agent), 403, "role_forbidden")
    retire = {"status": "retired", "hash": script.hash}
    status = await r.client.post("/api/scripts/tiny_triage/versions/1/status", json=retire, headers=clinsafe)
    assert status.status_code == 200 and status.json()["status"] == "retired"
