"""A caller who hangs up while still in the IVR is recorded once ("nothing lost"): abandoned in the IVR
with the path so far, or self-service once they had heard their status; never twice."""

from __future__ import annotations

from typing import Any

import pytest

from cti.calls.service import WrapUp
from cti.domain.clock import ManualClock
from cti.domain.codes import OUTCOME_CODES, SYSTEM_OUTCOMES
from cti.domain.errors import InvalidInput
from cti.records import Records
from cti.records.models import Contact
from cti.sim.ivr import drive
from ivr.actions import CallerInput, CallStart, Digits, Enqueue, Hangup, NoInput, SelfServiceDone
from ivr.engine import IvrEngine
from tests.ivr.conftest import CALLER, CALLER_E164, FRONT_DOOR
from tests.ivr.test_self_service import ENGLISH, NURSE, PROFESSIONAL, PUBLIC, STATUS, _request

NHS_NUMBER = Digits("9990000018")


async def hang_up_after(engine: IvrEngine, inputs: list[CallerInput]) -> dict[str, Any]:
    run = await drive(engine, CallStart("call-1", CALLER, FRONT_DOOR), inputs, hang_up=True)
    assert run.hung_up and isinstance(run.outcome, Hangup)
    return run.state


async def the_contact(records: Records) -> Contact:
    contact = await records.get_contact("call-1")
    assert contact is not None
    return contact


async def test_hanging_up_in_a_menu_records_the_call_once_with_its_path(
    engine: IvrEngine, records: Records, clock: ManualClock
) -> None:
    state = await hang_up_after(engine, [ENGLISH, PUBLIC])
    contact = await the_contact(records)
    assert (contact.outcome_code, contact.caller_e164, contact.caller_type, contact.queue) == (
        "abandoned_in_ivr",
        CALLER_E164,
        "public",
        None,
    )
    assert contact.ivr_ended_at == contact.ended_at is not None and contact.reason_codes == []
    (entry,) = await records.audit_entries("call-1", "contact")
    assert (entry.actor, entry.action) == ("ivr", "ivr_abandoned")
    assert entry.details == {"flow": "front_door", "node": "public", "path": "language:1 > who:2"}

    clock.advance(60_000)
    await engine.hung_up(state)  # told twice (a repeated callback, another node)
    assert await the_contact(records) == contact
    assert len(await records.audit_entries("call-1", "contact")) == 1


async def test_the_caller_is_identified_by_the_nhs_number_they_keyed(
    engine: IvrEngine, records: Records
) -> None:
    person = await records.add_person(given_name="Test", family_name="Patient", nhs_number="9990000018")
    await hang_up_after(engine, [ENGLISH, PROFESSIONAL, NHS_NUMBER])
    contact = await the_contact(records)
    assert (contact.person_id, contact.caller_type, contact.outcome_code) == (
        person.id,
        "professional",
        "abandoned_in_ivr",
    )
    (entry,) = await records.audit_entries("call-1", "contact")
    assert entry.details["path"] == "language:1 > who:1 > nhs_number:ok"
    assert "9990000018" not in str(entry.details)  # no personal data in the path


async def test_hanging_up_after_hearing_the_status_is_self_service_once(
    engine: IvrEngine, records: Records, clock: ManualClock
) -> None:
    request = await _request(records)
    state = await hang_up_after(engine, [ENGLISH, PUBLIC, NURSE])
    assert state["status"]["phase"] == "heard"
    contact = await the_contact(records)
    assert (contact.outcome_code, contact.reason_codes, contact.first_contact_resolution) == (
        "status_given",
        ["progress_chase"],
        True,
    )
    assert contact.failure_demand and (contact.person_id, contact.service) == (request.person_id, "chs_spa")
    assert await records.audit_entries("call-1", "contact") == []
    clock.advance(60_000)
    await engine.hung_up(state)
    assert await the_contact(records) == contact


async def test_a_hang_up_after_self_service_done_writes_nothing_new(
    engine: IvrEngine, records: Records, clock: ManualClock
) -> None:
    await _request(records)
    state, _ = await engine.start(CallStart("call-1", CALLER, FRONT_DOOR))
    for key in (ENGLISH, PUBLIC, NURSE):
        state, _ = await engine.handle(state, key)
    heard = state
    done, actions = await engine.handle(heard, NoInput())
    assert isinstance(actions[-1], SelfServiceDone)
    recorded = await the_contact(records)
    clock.advance(60_000)
    await engine.hung_up(done)  # the adapter's state after SelfServiceDone
    await engine.hung_up(heard)  # or a stale one, from before it (a late status callback)
    assert await the_contact(records) == recorded
    # A repeated gather after a hang-up already recorded the self-service: nothing new either.
    _, again = await engine.handle(heard, NoInput())
    assert isinstance(again[-1], SelfServiceDone) and await the_contact(records) == recorded


async def test_hanging_up_while_keying_a_reference_is_an_abandoned_progress_chase(
    engine: IvrEngine, records: Records
) -> None:
    await hang_up_after(engine, [ENGLISH, PROFESSIONAL, Digits(""), STATUS])
    contact = await the_contact(records)
    assert (contact.outcome_code, contact.reason_codes) == ("abandoned_in_ivr", ["progress_chase"])
    (entry,) = await records.audit_entries("call-1", "contact")
    assert entry.details["node"] == "referral_status"


async def test_a_call_that_left_the_ivr_or_a_broken_state_records_nothing(
    engine: IvrEngine, records: Records
) -> None:
    run = await drive(engine, CallStart("call-1", CALLER, FRONT_DOOR), [ENGLISH, PUBLIC, Digits("3")])
    assert isinstance(run.outcome, Enqueue) and run.state["done"]
    await engine.hung_up(run.state)  # queued: the domain records it (call_arrived), not the IVR
    assert await records.get_contact("call-1") is None
    for broken in ({}, {"call_id": "call-1"}, {"call_id": 7, "started_ms": "x"}):
        await engine.hung_up(broken)  # logged, never raised: the caller is gone either way
    assert await records.get_contact("call-1") is None


def test_abandoned_in_ivr_is_recorded_by_the_system_never_chosen_at_wrap_up() -> None:
    assert "abandoned_in_ivr" in SYSTEM_OUTCOMES and "abandoned" in SYSTEM_OUTCOMES
    assert not set(SYSTEM_OUTCOMES) & set(OUTCOME_CODES)
    with pytest.raises(InvalidInput) as refused:
        WrapUp("abandoned_in_ivr", first_contact_resolution=False).validate()
    assert refused.value.error_id == "unknown_outcome_code"
