"""The screen-pop on a real server with demo records: who is calling, their history, why this agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cti.desktop.schemas import ScreenPop
from cti.domain.identifiers import display_phone, format_nhs_number
from tests.api.conftest import Running
from tests.conftest import until
from tests.desktop.conftest import AGENT, QUEUE, agent_messages, find_callers, of_type, set_status


async def offered_pop(r: Running, call_id: str, agent: str = AGENT) -> dict[str, Any]:
    async def offered() -> bool:
        return bool(of_type(await agent_messages(r.services, agent), "offer.created", call_id))

    await until(offered, message="the offer's message on the agent's stream")
    (message,) = of_type(await agent_messages(r.services, agent), "offer.created", call_id)
    pop: dict[str, Any] = message.data["screen_pop"]
    ScreenPop.model_validate(pop)
    return pop


async def test_a_known_caller_pops_their_summary_and_the_named_worker_rule(desk_any: Running) -> None:
    r = desk_any
    records = r.services.records
    callers = await find_callers(r.services.engine)
    person = await records.get_person(callers.known_person)
    assert person is not None
    # The person's allocated worker in this service is the agent: named-worker routing.
    await records.allocate(person.id, "amh_spa", AGENT, "Agent 14")
    await records.allocate(person.id, "bed_bureau", "specialist06", "Kim Lee")
    open_requests = await records.open_service_requests(person.id)
    history = await records.recent_contacts(person.id, limit=3)
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")

    national = display_phone(callers.known)
    call_id = await r.place_call(sup, queue=QUEUE, cli=national, caller_type="carer")
    pop = await offered_pop(r, call_id)

    contact = pop["contact"]
    assert contact["id"] == call_id
    assert contact["number"] == national and contact["withheld"] is False
    assert contact["dialled"] == "0116 496 0000"
    assert contact["caller_type"] == "carer"
    assert (contact["queue"], contact["queue_name"], contact["service"]) == (
        QUEUE,
        "Adult mental health",
        QUEUE,
    )
    assert contact["waited_s"] >= 0 and isinstance(contact["priority"], int)
    assert contact["routing"] == {
        "rule": "named_worker",
        "why": "named worker",
        "target": f"@{AGENT}",
        "target_name": "Agent 14",
    }
    caller = pop["caller"]
    assert (caller["match"], caller["matched_by"], caller["prompt"]) == ("matched", "phone", None)
    assert caller["referrers"] == [] and caller["more"] is False
    (shown,) = caller["people"]
    assert shown["id"] == person.id and shown["name"] == person.display_name
    assert shown["nhs_number"] == format_nhs_number(person.nhs_number or "")
    assert shown["date_of_birth"] == (person.date_of_birth.isoformat() if person.date_of_birth else None)
    assert shown["flags"] == person.flags and shown["communication_needs"] == person.communication_needs
    assert [s["reference"] for s in shown["open_service_requests"]] == [s.reference for s in open_requests]
    assert {s["status"] for s in shown["open_service_requests"]} == {s.status for s in open_requests}
    assert [c["date"] for c in shown["recent_contacts"]] == [c.started_at.isoformat() for c in history]
    assert shown["allocated_worker"]["worker_id"] == AGENT
    assert {a["service"] for a in shown["allocations"]} >= {"amh_spa", "bed_bureau"}
    window = await records.contacts_in_days(person.id, 7, datetime.now(UTC) + timedelta(seconds=5))
    assert shown["repeat_caller"]["contacts"] == window  # this call included
    assert shown["repeat_caller"]["repeat"] is (window >= 2)
    pattern = await records.referral_pattern(person.id, datetime.now(UTC) + timedelta(seconds=5))
    assert shown["referral_pattern"]["contacts"] == pattern.total_contacts
    assert shown["referral_pattern"]["referrals"] == pattern.total_referrals
    # A summary is not a record view: nothing audited (GET /api/people/{id}?reason= is).
    assert await records.audit_entries(person.id, "person") == []


async def test_a_withheld_number_gives_no_candidates_and_the_identity_prompt(desk: Running) -> None:
    r = desk
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=None)
    pop = await offered_pop(r, call_id)
    assert pop["contact"]["number"] is None and pop["contact"]["withheld"] is True
    assert pop["caller"] == {
        "match": "withheld",
        "matched_by": None,
        "prompt": "Ask identity questions: withheld number",
        "people": [],
        "referrers": [],
        "more": False,
    }
    assert pop["contact"]["routing"]["why"] == "longest idle"


async def test_an_nhs_number_from_the_ivr_identifies_a_withheld_caller(desk: Running) -> None:
    r = desk
    callers = await find_callers(r.services.engine)
    person = await r.services.records.get_person(callers.known_person)
    assert person is not None and person.nhs_number
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=None, nhs_number=person.nhs_number)
    pop = await offered_pop(r, call_id)
    assert pop["contact"]["withheld"] is True
    caller = pop["caller"]
    assert (caller["match"], caller["matched_by"]) == ("matched", "nhs_number")
    assert [p["id"] for p in caller["people"]] == [person.id]
    assert caller["people"][0]["phone_kind"] is None


async def test_a_shared_number_offers_several_candidates(desk_any: Running) -> None:
    r = desk_any
    callers = await find_callers(r.services.engine)
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=callers.shared)
    caller = (await offered_pop(r, call_id))["caller"]
    assert caller["match"] == "ambiguous"
    assert caller["prompt"] == "Confirm identity: several records share this number"
    assert sorted(p["id"] for p in caller["people"]) == callers.shared_people[:5]
    assert all(p["phone_kind"] for p in caller["people"])


async def test_a_referrers_number_shows_name_role_and_organisation(desk: Running) -> None:
    r = desk
    callers = await find_callers(r.services.engine)
    referrer = await r.services.records.get_referrer(callers.gp_referrer)
    assert referrer is not None
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=callers.gp, caller_type="professional")
    pop = await offered_pop(r, call_id)
    assert pop["contact"]["caller_type"] == "professional"
    caller = pop["caller"]
    assert (caller["match"], caller["people"]) == ("matched", [])
    assert caller["referrers"] == [
        {
            "id": referrer.id,
            "name": referrer.name,
            "role": referrer.role,
            "organisation": referrer.organisation,
        }
    ]


async def test_an_unknown_number_asks_identity_questions(desk: Running) -> None:
    r = desk
    sup, agent = await r.login("supervisor01"), await r.login(AGENT)
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli="07700 900999")
    caller = (await offered_pop(r, call_id))["caller"]
    assert (caller["match"], caller["prompt"]) == ("unknown", "Ask identity questions: number not on record")


async def test_the_screen_pop_endpoint_serves_only_the_agent_with_the_call(desk: Running) -> None:
    r = desk
    callers = await find_callers(r.services.engine)
    sup, agent, other = await r.login("supervisor01"), await r.login(AGENT), await r.login("agent15")
    await set_status(r, agent, "available")
    call_id = await r.place_call(sup, queue=QUEUE, cli=callers.known)
    await offered_pop(r, call_id)
    mine = await r.client.get(f"/api/desktop/screen-pop/{call_id}", headers=agent)
    assert mine.status_code == 200, mine.text
    assert mine.json()["caller"]["people"][0]["id"] == callers.known_person
    theirs = await r.client.get(f"/api/desktop/screen-pop/{call_id}", headers=other)
    assert theirs.status_code == 403 and theirs.json()["error_id"] == "not_your_contact"
    assert (await r.client.get(f"/api/desktop/screen-pop/{call_id}", headers=sup)).status_code == 403
