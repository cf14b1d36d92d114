"""'Where's my nurse': progress heard without an agent, recorded as a progress chase resolved by
self-service."""

from __future__ import annotations

from datetime import date, timedelta

from cti.records import Records
from cti.records.models import ServiceRequest
from ivr.actions import Digits, Enqueue, NoInput, SelfServiceDone
from ivr.engine import IvrEngine
from tests.ivr.conftest import CALLER, CALLER_E164, WEEKDAY_10AM, call

BORN = date(1950, 2, 1)
ENGLISH, PUBLIC, PROFESSIONAL, NURSE, STATUS = Digits("1"), Digits("2"), Digits("1"), Digits("2"), Digits("6")


async def _request(records: Records, phone: str = CALLER, status: str = "visit_booked") -> ServiceRequest:
    person = await records.add_person(
        given_name="Test",
        family_name="Patient",
        nhs_number="9990000018",
        date_of_birth=BORN,
        phones=[(phone, "mobile")],
    )
    request = await records.create_service_request(
        person.id,
        "chs_spa",
        "District nurse visit (illustrative)",
        due_at=WEEKDAY_10AM + timedelta(days=2),
        at=WEEKDAY_10AM - timedelta(days=3),
    )
    if status != "received":
        request = await records.set_service_request_status(request.reference, status, at=WEEKDAY_10AM)
    return request


async def test_caller_matched_by_number_hears_status_and_next_step(
    engine: IvrEngine, records: Records
) -> None:
    request = await _request(records)
    number = request.reference.removeprefix("SR-").lstrip("0")
    run = await call(engine, [ENGLISH, PUBLIC, NURSE, NoInput()])
    spoken = (
        f"Your request, reference {' '.join(number)}, has a visit booked."
        " The next step is due by Thursday 8 January."
    )
    assert spoken in run.heard
    assert "Thank you for calling. Goodbye." in run.heard
    assert isinstance(run.outcome, SelfServiceDone)
    assert (run.outcome.reason, run.outcome.resolution) == ("progress_chase", "self_service")
    contact = await records.get_contact("call-1")
    assert contact is not None
    assert contact.reason_codes == ["progress_chase"] and contact.failure_demand
    assert (contact.outcome_code, contact.first_contact_resolution) == ("status_given", True)
    assert (contact.person_id, contact.service, contact.caller_e164) == (
        request.person_id,
        "chs_spa",
        CALLER_E164,
    )
    assert contact.agent_id is None and contact.queued_at is None and contact.ended_at is not None


async def test_caller_keys_a_reference_and_proves_the_date_of_birth(
    engine: IvrEngine, records: Records
) -> None:
    request = await _request(records, phone="07700 900456", status="allocated")
    digits = request.reference.removeprefix("SR-")
    inputs = [ENGLISH, PROFESSIONAL, Digits(""), STATUS, Digits(digits), Digits("01021950"), NoInput()]
    run = await call(engine, inputs)
    assert any("Please key in the referral reference" in t for t in run.heard)
    assert any("key in the date of birth of the person it is for" in t for t in run.heard)
    assert any("has been allocated to a worker, who will contact you." in t for t in run.heard)
    assert isinstance(run.outcome, SelfServiceDone)
    contact = await records.get_contact("call-1")
    assert contact is not None and contact.caller_type == "professional"
    assert contact.reason_codes == ["progress_chase"] and contact.person_id == request.person_id


async def test_a_wrong_date_of_birth_hears_nothing_and_reaches_an_adviser(
    engine: IvrEngine, records: Records
) -> None:
    request = await _request(records, phone="07700 900456")
    wrong = Digits("02021950")
    run = await call(engine, [ENGLISH, PUBLIC, NURSE, Digits(request.reference[3:]), wrong, wrong, wrong])
    assert run.heard.count("Sorry, that does not match our records.") == 2
    assert not any("visit booked" in t for t in run.heard)
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "status_enquiry"
    assert "wheres_my_nurse:not_verified" in run.outcome.choices["path"]


async def test_a_reference_keyed_from_the_persons_own_number_needs_no_more(
    engine: IvrEngine, records: Records
) -> None:
    request = await _request(records, status="received")
    digits = request.reference.removeprefix("SR-")
    run = await call(engine, [ENGLISH, PROFESSIONAL, Digits(""), STATUS, Digits(digits), NoInput()])
    assert any("has been received and is waiting" in t for t in run.heard)
    assert isinstance(run.outcome, SelfServiceDone)


async def test_overdue_requests_say_so(engine: IvrEngine, records: Records, clock) -> None:  # type: ignore[no-untyped-def]
    await _request(records)
    clock.advance(int(timedelta(days=3).total_seconds() * 1000))
    run = await call(engine, [ENGLISH, PUBLIC, NURSE, NoInput()])
    assert any("was due by Thursday 8 January and is late" in t for t in run.heard)


async def test_unknown_reference_goes_to_an_adviser_after_retries(
    engine: IvrEngine, records: Records
) -> None:
    run = await call(engine, [ENGLISH, PUBLIC, NURSE, Digits("424242"), Digits("434343"), Digits("444444")])
    assert run.heard.count("Sorry, I could not find that reference.") == 2
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "status_enquiry"
    assert await records.get_contact("call-1") is None  # the domain records it when it is queued


async def test_caller_can_still_ask_for_an_adviser_after_hearing(engine: IvrEngine, records: Records) -> None:
    request = await _request(records)
    run = await call(engine, [ENGLISH, PUBLIC, NURSE, Digits("1"), Digits("0")])
    assert sum("has a visit booked" in t for t in run.heard) == 2  # 1 hears it again
    assert isinstance(run.outcome, Enqueue) and run.outcome.queue == "asc_triage"
    assert run.outcome.choices["status_heard"] == request.reference
    assert await records.get_contact("call-1") is None
