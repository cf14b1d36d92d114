"""Warm handovers that go as asked, on a real server through the REST API: complete and cancel."""

from __future__ import annotations

from typing import Any

import pytest

from cti.domain.states import ContactState
from cti.telephony.sim import LegState
from tests.conftest import until
from tests.handover.conftest import AGENT, NOTE, Centre, CentreFactory


async def consulting(
    centre: Centre, specialist: str = "specialist04"
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """agent14's caller on hold, agent14 and the specialist in a consult: (call, handover, specialist)."""
    call_id = await centre.call_answered_by_agent()
    spec = await centre.login(specialist)
    await centre.available(spec)
    handover = await centre.ask(call_id, target="amh_spa")
    await centre.answer(spec, handover["consult_contact_id"])
    return call_id, await centre.until_state(handover["id"], "consulting"), spec


@pytest.mark.parametrize(
    "backend", ["memory", pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.postgres])]
)
async def test_complete_puts_the_caller_through_to_a_briefed_specialist(
    open_centre: CentreFactory, backend: str
) -> None:
    async with open_centre(backend=backend) as centre:
        sim = centre.sim
        briefed_first: list[bool] = []
        consult = sim.consult

        async def consult_checked(parent: str, consult_id: str, from_agent: str, specialist: str) -> None:
            # The moment the consult connects, the specialist's stream must already hold the note.
            notes = await centre.events(f"agent:{specialist}", "handover.note")
            briefed_first.append(any(e.data["consult_contact"] == consult_id for e in notes))
            await consult(parent, consult_id, from_agent, specialist)

        sim.consult = consult_checked  # type: ignore[method-assign]

        call_id = await centre.call_answered_by_agent()
        spec = await centre.login("specialist04")
        await centre.available(spec)  # after the call: it would have gone to them
        asked = await centre.ask(call_id, target="amh_spa")
        consult_id = asked["consult_contact_id"]
        assert asked["state"] == "requested" and asked["caller"] == "held"
        assert consult_id == f"{call_id}.h1"
        assert (await centre.contact(call_id)).state is ContactState.HELD
        assert centre.leg(call_id).state is LegState.HELD  # hold music, still with agent14

        await centre.answer(spec, consult_id)
        handover = await centre.until_state(asked["id"], "consulting")
        assert handover["specialist"] == "specialist04"
        assert briefed_first == [True]
        note = (await centre.events("agent:specialist04", "handover.note"))[0]
        assert note.data["note"] == {**NOTE}
        assert note.data["caller"]["contact"] == call_id
        assert centre.leg(consult_id).state is LegState.CONSULTING
        assert centre.sim.log(call_id)[-2:] == ["open_consult", "consult"]

        done = await centre.post(f"/api/handovers/{asked['id']}/complete", centre.agent)
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "completed" and done.json()["caller"] == "with_specialist"

        # The caller talks to the specialist on the consult contact; agent14's part is over.
        consult_contact = await centre.contact(consult_id)
        assert consult_contact.state is ContactState.CONNECTED
        assert consult_contact.agent_id == "specialist04"
        assert (await centre.contact(call_id)).state is ContactState.WRAP_UP
        leg = centre.leg(consult_id)
        assert leg.state is LegState.CONNECTED and leg.has_caller and leg.agent == "specialist04"
        assert centre.leg(call_id).transferred_to == consult_id

        states = [e.type for e in await centre.events("centre") if e.data["handover"] == asked["id"]]
        assert states == [
            "handover.requested",
            "handover.specialist_reserved",
            "handover.consulting",
            "handover.completed",
        ]
        audit = await centre.r.services.records.audit_entries(call_id, "contact")
        actions = [a.action for a in audit]
        assert actions == [
            "handover_request",
            "handover_reserve",
            "handover_connect",
            "handover_complete",
            "handover_segment",
        ]

        # The specialist ends the call and wraps up the consult contact as theirs.
        assert (await centre.post(f"/api/contacts/{consult_id}/hangup", spec)).status_code == 200
        wrapped = await centre.post(
            f"/api/contacts/{consult_id}/wrap-up",
            spec,
            outcome_code="advice_given",
            first_contact_resolution=True,
        )
        assert wrapped.status_code == 200, wrapped.text

        async def recorded() -> bool:
            record = await centre.r.services.records.get_contact(consult_id)
            return record is not None and record.wrap_up_ended_at is not None

        await until(recorded, message="the consult contact's segments to be recorded")


async def test_cancel_gives_the_caller_back_to_the_first_agent(centre: Centre) -> None:
    call_id, handover, _ = await consulting(centre)
    consult_id = handover["consult_contact_id"]

    cancelled = await centre.post(f"/api/handovers/{handover['id']}/cancel", centre.agent)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["reason"] == "cancelled_by_agent"

    parent = await centre.contact(call_id)
    assert parent.state is ContactState.CONNECTED and parent.agent_id == AGENT
    assert centre.leg(call_id).state is LegState.CONNECTED
    assert centre.leg(consult_id).state is LegState.ENDED
    assert (await centre.contact(consult_id)).state is ContactState.WRAP_UP  # the specialist's own wrap-up
    ended = await centre.events("agent:specialist04", "handover.ended")
    assert [e.data["state"] for e in ended] == ["cancelled"]  # the response came after the transition

    again = await centre.post(f"/api/handovers/{handover['id']}/complete", centre.agent)
    assert again.status_code == 409 and again.json()["error_id"] == "illegal_transition"


async def test_notes_during_the_consult_reach_the_other_side(centre: Centre) -> None:
    _, handover, spec = await consulting(centre)
    path = f"/api/handovers/{handover['id']}/notes"
    assert (await centre.post(path, spec, text="Has she a care plan?")).status_code == 201
    assert (await centre.post(path, centre.agent, text="Yes, from March.")).status_code == 201
    for agent in (AGENT, "specialist04"):
        added = await centre.events(f"agent:{agent}", "handover.note_added")
        assert [(e.data["note"]["author"], e.data["note"]["text"]) for e in added] == [
            ("specialist04", "Has she a care plan?"),
            (AGENT, "Yes, from March."),
        ]
    assert [n["author"] for n in (await centre.handover(handover["id"], spec))["notes"]] == [
        "specialist04",
        AGENT,
    ]


async def test_only_the_parties_see_it_and_only_the_first_agent_acts(centre: Centre) -> None:
    _, handover, spec = await consulting(centre)
    other = await centre.login("agent13")
    hid = handover["id"]
    hidden = await centre.r.client.get(f"/api/handovers/{hid}", headers=other)
    assert hidden.status_code == 404 and hidden.json()["error_id"] == "handover_not_found"
    assert (await centre.post(f"/api/handovers/{hid}/cancel", other)).status_code == 404
    refused = await centre.post(f"/api/handovers/{hid}/complete", spec)
    assert refused.status_code == 403 and refused.json()["error_id"] == "not_your_handover"
    noted = await centre.post(f"/api/handovers/{hid}/notes", other, text="hello")
    assert noted.status_code == 404
    seen = await centre.handover(hid, centre.sup)  # supervisors read: the summary, not the free text
    assert seen["state"] == "consulting" and "free_text" not in seen["note"]
    assert (await centre.handover(hid, spec))["note"]["free_text"] == NOTE["free_text"]


async def test_every_desktop_message_of_a_handover_matches_the_catalogue(centre: Centre) -> None:
    """Both agents' streams, through request, consult, a live note and completion, validate."""
    from cti.desktop.catalogue import validate_agent_message

    call_id, handover, _ = await consulting(centre)
    await centre.post(f"/api/handovers/{handover['id']}/notes", centre.agent, text="GP visited last week")
    done = await centre.post(f"/api/handovers/{handover['id']}/complete", centre.agent)
    assert done.status_code == 200

    async def ended_everywhere() -> bool:
        ends = [await centre.events(f"agent:{a}", "handover.ended") for a in (AGENT, "specialist04")]
        return all(ends)

    await until(ended_everywhere, message="both parties told the handover ended")
    for agent in (AGENT, "specialist04"):
        messages = await centre.events(f"agent:{agent}", "")
        types = {m.type for m in messages}
        assert {"handover.note_added", "handover.ended"} <= types
        for message in messages:
            validate_agent_message(message.to_json())
    specialist_types = [m.type for m in await centre.events("agent:specialist04", "")]
    assert "handover.note" in specialist_types
    assert any(
        m.data.get("contact") == call_id for m in await centre.events("agent:specialist04", "handover.note")
    )
