from __future__ import annotations

from datetime import timedelta

import pytest

from cti.domain.errors import IllegalTransition, InvalidInput, NotFound
from cti.records import Records
from tests.records.conftest import NOW


async def _person_id(records: Records) -> int:
    return (await records.add_person(given_name="Iris", family_name="Okafor")).id


async def test_service_request_status_history(records: Records) -> None:
    person_id = await _person_id(records)
    created = await records.create_service_request(
        person_id, "chs", "Leg ulcer dressing", due_at=NOW + timedelta(days=2), at=NOW, note="from GP"
    )
    assert created.reference == f"SR-{created.id:06d}"
    assert created.status == "received"
    assert created.is_open
    steps = [("triaged", 1), ("allocated", 3), ("visit_booked", 5)]
    for status, hours in steps:
        await records.set_service_request_status(created.reference, status, at=NOW + timedelta(hours=hours))
    found = await records.service_request_by_reference(created.reference.lower())
    assert found is not None
    assert found.status == "visit_booked"
    assert found.updated_at == NOW + timedelta(hours=5)
    assert [(h.status, h.at) for h in found.history] == [
        ("received", NOW),
        ("triaged", NOW + timedelta(hours=1)),
        ("allocated", NOW + timedelta(hours=3)),
        ("visit_booked", NOW + timedelta(hours=5)),
    ]
    assert found.history[0].note == "from GP"
    assert not found.is_overdue(NOW + timedelta(days=1))
    assert found.is_overdue(NOW + timedelta(days=3))


async def test_reference_can_be_given_in_the_ways_callers_say_it(records: Records) -> None:
    person_id = await _person_id(records)
    created = await records.create_service_request(person_id, "asc", "Care needs assessment")
    number = created.id
    for spoken in (f"SR-{number:06d}", f"sr {number}", str(number), f"SR{number:06d}"):
        found = await records.service_request_by_reference(spoken)
        assert found is not None, spoken
        assert found.id == created.id
    assert await records.service_request_by_reference("SR-999999") is None


async def test_open_requests_soonest_due_first(records: Records) -> None:
    person_id = await _person_id(records)
    later = await records.create_service_request(person_id, "asc", "Review", due_at=NOW + timedelta(days=14))
    undated = await records.create_service_request(person_id, "council", "Blue badge")
    sooner = await records.create_service_request(
        person_id, "icrs", "Urgent response", due_at=NOW + timedelta(hours=2)
    )
    done = await records.create_service_request(person_id, "chs", "Bloods")
    await records.set_service_request_status(done.reference, "completed")
    other = await records.add_person(given_name="Other", family_name="Person")
    await records.create_service_request(other.id, "asc", "Not theirs")

    open_requests = await records.open_service_requests(person_id)
    assert [r.reference for r in open_requests] == [sooner.reference, later.reference, undated.reference]
    assert all(len(r.history) == 1 for r in open_requests)


async def test_closed_request_stays_closed(records: Records) -> None:
    person_id = await _person_id(records)
    created = await records.create_service_request(person_id, "bed", "Step-down bed")
    await records.set_service_request_status(created.reference, "cancelled", note="no longer needed")
    with pytest.raises(IllegalTransition):
        await records.set_service_request_status(created.reference, "triaged")
    with pytest.raises(InvalidInput) as bad_status:
        await records.set_service_request_status(created.reference, "lost")
    assert bad_status.value.error_id == "invalid_status"
    with pytest.raises(NotFound):
        await records.set_service_request_status("SR-999999", "triaged")


async def test_allocated_worker(records: Records) -> None:
    person_id = await _person_id(records)
    assert await records.allocated_worker(person_id, "asc") is None
    await records.allocate(person_id, "asc", "specialist03", "Jo Birch", since=NOW - timedelta(days=30))
    await records.allocate(person_id, "chs", "agent05", "Ravi Mistry", since=NOW)
    moved = await records.allocate(person_id, "asc", "specialist01", "Ali Khan", since=NOW)

    found = await records.allocated_worker(person_id, "asc")
    assert found == moved
    assert (found.worker_id, found.worker_name, found.since) == ("specialist01", "Ali Khan", NOW)
    assert [(a.service, a.worker_id) for a in await records.allocations(person_id)] == [
        ("asc", "specialist01"),
        ("chs", "agent05"),
    ]
    assert await records.end_allocation(person_id, "chs") is True
    assert await records.end_allocation(person_id, "chs") is False
    assert await records.allocated_worker(person_id, "chs") is None
    with pytest.raises(NotFound):
        await records.allocate(person_id + 100, "asc", "agent01", "Someone")
