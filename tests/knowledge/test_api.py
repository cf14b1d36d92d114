"""The knowledge and directory API on a real server: roles, contacts handled, errors naming fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Running, settings_for, start_server
from tests.conftest import until


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_server(settings_for(tmp_path)):
        yield r


async def handled_contact(r: Running, contact_id: str, agent: str) -> None:
    """A contact the records say ``agent`` handled (a finished call)."""
    await r.services.records.record_contact(
        contact_id, started_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC), agent_id=agent, caller_type="public"
    )


async def test_search_and_read_by_role(running: Running) -> None:
    r = running
    assert (await r.client.get("/api/kb/search", params={"q": "OT"})).status_code == 401
    for user in ("agent01", "specialist01", "supervisor01"):
        resp = await r.client.get("/api/kb/search", params={"q": "OT"}, headers=await r.login(user))
        assert resp.status_code == 200, resp.text
        first = resp.json()["results"][0]
        assert first["id"] == "kb-asc-ot-assessment"
        assert first["kind"] == "article"
    resp = await r.client.get("/api/kb/search", params={"q": "OT"}, headers=await r.login("clinsafe01"))
    assert resp.status_code == 403
    assert resp.json()["error_id"] == "role_forbidden"


async def test_search_filters_and_bad_input(running: Running) -> None:
    r = running
    agent = await r.login("agent01")
    resp = await r.client.get(
        "/api/kb/search", params={"q": "admission", "service": "bed_bureau", "limit": 3}, headers=agent
    )
    ids = [h["id"] for h in resp.json()["results"]]
    assert ids[0] in ("kb-bed-gp-admission-request", "dos-bed-bureau")
    assert len(ids) <= 3
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({}, "invalid_query", "q"),
        ({"q": "ot", "limit": 500}, "invalid_limit", "limit"),
        ({"q": "ot", "service": "mars"}, "invalid_service", "service"),
        ({"q": "ot", "audience": "robots"}, "invalid_audience", "audience"),
    ]
    for params, error_id, field in cases:
        resp = await r.client.get("/api/kb/search", params=params, headers=agent)
        assert resp.status_code == 422, params
        assert resp.json()["error_id"] == error_id
        assert resp.json()["details"]["field"] == field
    resp = await r.client.get("/api/kb/search", params={"q": "ot", "limit": "many"}, headers=agent)
    assert resp.status_code == 422
    assert resp.json()["details"]["field"] == "limit"
    resp = await r.client.get("/api/kb/search?q=care&service=&audience=&limit=", headers=agent)
    assert resp.status_code == 200
    assert len(resp.json()["results"]) == 10


async def test_get_article_returns_markdown_and_html_and_hides_drafts(running: Running) -> None:
    r = running
    agent = await r.login("agent01")
    resp = await r.client.get("/api/kb/articles/kb-gen-dols", headers=agent)
    assert resp.status_code == 200
    body = resp.json()
    assert body["title"].startswith("Deprivation of Liberty Safeguards")
    assert "## Who calls" in body["markdown"]
    assert "<h2>Who calls</h2>" in body["html"]
    for hidden in ("kb-amh-crisis-text-line", "kb-gen-fax-referrals", "kb-nope"):
        resp = await r.client.get(f"/api/kb/articles/{hidden}", headers=agent)
        assert resp.status_code == 404
        assert resp.json()["error_id"] == "article_not_found"


async def test_link_an_article_to_a_contact_you_handled(running: Running) -> None:
    r = running
    await handled_contact(r, "c-kb-1", "agent01")
    agent01, agent02 = await r.login("agent01"), await r.login("agent02")
    body = {"article_id": "kb-asc-carers-assessment"}
    resp = await r.client.post("/api/contacts/c-kb-1/articles", json=body, headers=agent01)
    assert resp.status_code == 201, resp.text
    assert resp.json()["article_id"] == "kb-asc-carers-assessment"
    assert resp.json()["linked_by"] == "agent01"
    listed = await r.client.get("/api/contacts/c-kb-1/articles", headers=agent01)
    assert [x["article_id"] for x in listed.json()["links"]] == ["kb-asc-carers-assessment"]
    resp = await r.client.post("/api/contacts/c-kb-1/articles", json=body, headers=agent02)
    assert resp.status_code == 403
    assert resp.json()["error_id"] == "not_your_contact"
    resp = await r.client.post("/api/contacts/c-none/articles", json=body, headers=agent01)
    assert resp.status_code == 404
    assert resp.json()["error_id"] == "contact_not_found"
    resp = await r.client.post("/api/contacts/c-kb-1/articles", json={}, headers=agent01)
    assert resp.status_code == 422
    assert resp.json()["details"]["fields"][0]["field"] == "article_id"
    resp = await r.client.post(
        "/api/contacts/c-kb-1/articles", json={"article_id": "kb-amh-crisis-text-line"}, headers=agent01
    )
    assert resp.status_code == 404
    sup = await r.login("supervisor01")
    assert (await r.client.post("/api/contacts/c-kb-1/articles", json=body, headers=sup)).status_code == 403
    audit = await r.services.records.audit_entries("c-kb-1", subject_type="contact")
    assert [(a.action, a.actor) for a in audit] == [("kb_link", "agent01")]


async def test_link_on_the_call_in_hand(running: Running) -> None:
    r = running
    sup, agent = await r.login("supervisor01"), await r.login("agent14")
    resp = await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=agent)
    assert resp.status_code == 200
    call_id = await r.place_call(sup, queue="amh_spa", cli="07700 900555")
    offer: dict[str, Any] = {}

    async def offered() -> bool:
        found = (await r.client.get("/api/agents/me", headers=agent)).json()["offer"]
        if found is not None and found["contact_id"] == call_id:
            offer.update(found)
            return True
        return False

    await until(offered, message="an offer to agent14")
    assert (await r.client.post(f"/api/offers/{offer['id']}/accept", headers=agent)).status_code == 200
    body = {"article_id": "kb-amh-crisis"}
    resp = await r.client.post(f"/api/contacts/{call_id}/articles", json=body, headers=agent)
    assert resp.status_code == 201, resp.text
    other = await r.login("agent01")
    assert (
        await r.client.post(f"/api/contacts/{call_id}/articles", json=body, headers=other)
    ).status_code == 403


async def test_flag_an_article_becomes_a_task_for_its_owner(running: Running) -> None:
    r = running
    await handled_contact(r, "c-kb-2", "agent03")
    agent, sup = await r.login("agent03"), await r.login("supervisor01")
    body = {"reason": "The agency phone number is out of date", "contact_id": "c-kb-2"}
    resp = await r.client.post("/api/kb/articles/kb-asc-home-care/flag", json=body, headers=agent)
    assert resp.status_code == 201, resp.text
    flag = resp.json()
    assert (flag["owner"], flag["state"], flag["contact_id"]) == ("asc-knowledge-team", "open", "c-kb-2")
    resp = await r.client.post("/api/kb/articles/kb-asc-home-care/flag", json={"reason": ""}, headers=agent)
    assert resp.status_code == 422
    assert resp.json()["details"]["fields"][0]["field"] == "reason"
    resp = await r.client.post("/api/kb/articles/kb-nope/flag", json={"reason": "wrong"}, headers=agent)
    assert resp.status_code == 404
    other = await r.login("agent04")
    resp = await r.client.post("/api/kb/articles/kb-asc-home-care/flag", json=body, headers=other)
    assert resp.status_code == 403
    tasks = await r.client.get("/api/kb/flags", params={"owner": "asc-knowledge-team"}, headers=sup)
    assert [f["id"] for f in tasks.json()["flags"]] == [flag["id"]]
    assert (await r.client.get("/api/kb/flags", headers=agent)).status_code == 403
    done = await r.client.post(f"/api/kb/flags/{flag['id']}/done", headers=sup)
    assert done.json()["state"] == "done"
    again = await r.client.post(f"/api/kb/flags/{flag['id']}/done", headers=sup)
    assert again.status_code == 409


async def test_directory_search(running: Running) -> None:
    r = running
    agent = await r.login("agent01")
    resp = await r.client.get(
        "/api/directory/search", params={"q": "crisis", "open_now": "true"}, headers=agent
    )
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert "dos-icrs" in [e["id"] for e in results]  # open 24 hours
    assert all(e["open_now"] for e in results)
    assert {"stale", "last_verified", "contact", "referral", "eligibility"} <= set(results[0])
    for bad, field in (
        ({"within_hours": 0}, "within_hours"),
        ({"within_hours": "soon"}, "within_hours"),
        ({"open_now": "maybe"}, "open_now"),
        ({"limit": 0}, "limit"),
    ):
        resp = await r.client.get("/api/directory/search", params=bad, headers=agent)
        assert resp.status_code == 422, bad
        assert resp.json()["details"]["field"] == field
    empty = await r.client.get("/api/directory/search?q=&open_now=&within_hours=", headers=agent)
    assert empty.status_code == 200
    assert len(empty.json()["results"]) == 20
    within = await r.client.get("/api/directory/search", params={"within_hours": "1.5"}, headers=agent)
    assert within.status_code == 200
    assert "dos-icrs" in [e["id"] for e in within.json()["results"]]
    everything = await r.client.get("/api/directory/search", params={"limit": 50}, headers=agent)
    assert len(everything.json()["results"]) == len(r.services.extras["knowledge"].directory)
    entry = await r.client.get("/api/directory/entries/dos-bed-bureau", headers=agent)
    assert entry.json()["contact"]["phone"] == "+441164960700"
