"""Caller lookup gives summaries; opening a person's record needs a reason and is audited."""

from __future__ import annotations

from cti.records.demo_data import seed_demo
from tests.api.conftest import Running


async def test_lookup_then_audited_record_view(running: Running) -> None:
    r = running
    await seed_demo(r.services.records, people=200)
    numbers = await r.services.records.known_numbers(limit=50)
    number = ""
    for candidate in numbers:
        if (await r.services.records.lookup_by_phone(candidate)).people:
            number = candidate
            break
    agent = await r.login("agent01")

    found = await r.client.get("/api/people/lookup", params={"phone": number}, headers=agent)
    assert found.status_code == 200
    match = found.json()
    assert match["withheld"] is False
    assert match["outcome"] in ("matched", "ambiguous")
    person = match["people"][0]
    assert person["nhs_number"].startswith("999")
    assert "address" not in person  # summary only: the full record is opened on purpose

    no_reason = await r.client.get(f"/api/people/{person['id']}", headers=agent)
    assert no_reason.status_code == 422
    assert no_reason.json()["details"]["fields"][0]["field"] == "reason"
    opened = await r.client.get(
        f"/api/people/{person['id']}", params={"reason": "caller on the line"}, headers=agent
    )
    assert opened.status_code == 200
    body = opened.json()
    assert body["person"]["id"] == person["id"]
    assert {"recent_contacts", "open_service_requests", "allocations", "referral_pattern"} <= set(body)

    (entry,) = await r.services.records.audit_entries(str(person["id"]))
    assert (entry.actor, entry.role, entry.action, entry.reason) == (
        "agent01",
        "agent",
        "view",
        "caller on the line",
    )


async def test_withheld_and_unknown_numbers(running: Running) -> None:
    agent = await running.login("agent01")
    withheld = await running.client.get("/api/people/lookup", params={"phone": "anonymous"}, headers=agent)
    assert withheld.json()["withheld"] is True
    assert withheld.json()["people"] == []
    unused = "+447700900999"
    assert not (await running.services.records.lookup_by_phone(unused)).people  # nothing seeded here
    unknown = await running.client.get("/api/people/lookup", params={"phone": "07700 900999"}, headers=agent)
    assert unknown.json()["outcome"] == "unknown"
    missing = await running.client.get("/api/people/999999", params={"reason": "checking"}, headers=agent)
    assert missing.status_code == 404
    assert missing.json()["error_id"] == "person_not_found"
