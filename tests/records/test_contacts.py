from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.records import Records
from tests.records.conftest import NOW


async def _person_id(records: Records) -> int:
    person = await records.add_person(
        given_name="Dev",
        family_name="Patel",
        date_of_birth=date(1950, 1, 1),
        phones=[("07700 900321", "mobile")],
    )
    return person.id


async def test_a_call_is_recorded_segment_by_segment(records: Records) -> None:
    person_id = await _person_id(records)
    start = NOW
    created = await records.record_contact(
        "call-1",
        started_at=start,
        caller_e164="07700 900321",
        person_id=person_id,
        caller_type="public",
        service="asc",
        queue="asc-public",
    )
    assert (created.caller_e164, created.channel, created.direction) == ("+447700900321", "voice", "inbound")
    assert created.answered_at is None
    assert created.reason_codes == []
    assert created.failure_demand is False

    await records.update_contact(
        "call-1", ivr_ended_at=start + timedelta(seconds=30), queued_at=start + timedelta(seconds=30)
    )
    await records.update_contact("call-1", offered_at=start + timedelta(seconds=70), agent_id="agent05")
    await records.update_contact("call-1", answered_at=start + timedelta(seconds=75))
    await records.update_contact("call-1", talk_ended_at=start + timedelta(minutes=8), hold_ms=45_000)
    await records.update_contact(
        "call-1",
        wrap_up_ended_at=start + timedelta(minutes=9),
        ended_at=start + timedelta(minutes=9),
        outcome_code="referral_made",
        first_contact_resolution=True,
        reason_codes=["new_referral", "equipment"],
    )
    stored = await records.get_contact("call-1")
    assert stored is not None
    assert stored.agent_id == "agent05"
    assert stored.queued_at == start + timedelta(seconds=30)
    assert stored.answered_at == start + timedelta(seconds=75)
    assert stored.answered_at is not None
    assert stored.answered_at.tzinfo is not None
    assert stored.hold_ms == 45_000
    assert stored.wrap_up_ended_at == start + timedelta(minutes=9)
    assert (stored.outcome_code, stored.first_contact_resolution) == ("referral_made", True)
    assert stored.reason_codes == ["new_referral", "equipment"]
    assert stored.failure_demand is False


async def test_times_in_another_zone_are_stored_as_utc(records: Records) -> None:
    bst = timezone(timedelta(hours=1))
    created = await records.record_contact("call-bst", started_at=datetime(2025, 7, 1, 10, 0, tzinfo=bst))
    assert created.started_at == datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    assert created.started_at.utcoffset() == timedelta(0)


async def test_progress_chase_is_failure_demand(records: Records) -> None:
    await records.record_contact("call-2", started_at=NOW)
    chased = await records.update_contact(
        "call-2", reason_codes=["progress_chase"], first_contact_resolution=False
    )
    assert chased.failure_demand is True
    overridden = await records.update_contact("call-2", reason_codes=["progress_chase"], failure_demand=False)
    assert overridden.failure_demand is False


async def test_withheld_caller_is_recorded_without_a_number(records: Records) -> None:
    created = await records.record_contact("call-3", started_at=NOW, caller_e164="anonymous")
    assert created.caller_e164 is None
    assert created.caller_type == "unknown"


async def test_contact_updates_are_checked(records: Records) -> None:
    await records.record_contact("call-4", started_at=NOW)
    bad: list[dict[str, object]] = [
        {"colour": "blue"},
        {"answered_at": datetime(2026, 1, 1, 12, 0)},  # naive: refused, never guessed
        {"answered_at": "2026-01-01T12:00:00Z"},
        {"hold_ms": -1},
        {"hold_ms": True},
        {"first_contact_resolution": "yes"},
        {"reason_codes": "progress_chase"},
        {"caller_type": "robot"},
        {"person_id": "12"},
    ]
    for fields in bad:
        with pytest.raises(InvalidInput) as caught:
            await records.update_contact("call-4", **fields)
        assert caught.value.details["field"] == next(iter(fields)), fields
    with pytest.raises(NotFound):
        await records.update_contact("no-such-call", outcome_code="advice_given")
    with pytest.raises(InvalidInput) as unknown_person:
        await records.update_contact("call-4", person_id=999_999)
    assert unknown_person.value.error_id == "unknown_person_or_referrer"
    assert await records.update_contact("call-4") == await records.get_contact("call-4")


async def test_contact_ids_are_unique(records: Records) -> None:
    await records.record_contact("call-5", started_at=NOW)
    with pytest.raises(Conflict) as caught:
        await records.record_contact("call-5", started_at=NOW)
    assert caught.value.error_id == "duplicate_contact"
    with pytest.raises(InvalidInput) as naive:
        await records.record_contact("call-6", started_at=datetime(2026, 1, 1))
    assert naive.value.error_id == "invalid_datetime"
    assert await records.get_contact("call-6") is None


async def test_recent_contacts_newest_first(records: Records) -> None:
    person_id = await _person_id(records)
    for day in range(12):
        await records.record_contact(f"c{day:02d}", started_at=NOW - timedelta(days=day), person_id=person_id)
    await records.record_contact("someone-else", started_at=NOW)
    recent = await records.recent_contacts(person_id)
    assert [c.id for c in recent] == [f"c{day:02d}" for day in range(10)]
    assert [c.id for c in await records.recent_contacts(person_id, limit=2)] == ["c00", "c01"]


async def test_repeat_caller_in_seven_days(records: Records) -> None:
    person_id = await _person_id(records)
    for hours in (1, 30, 100, 24 * 7 + 1):  # the last is just outside a 7-day window
        await records.record_contact(
            f"r{hours}", started_at=NOW - timedelta(hours=hours), person_id=person_id
        )
    await records.record_contact("later", started_at=NOW + timedelta(hours=1), person_id=person_id)
    assert await records.contacts_in_days(person_id, 7, NOW) == 3
    assert await records.contacts_in_days(person_id, 1, NOW) == 1
    assert await records.contacts_in_days(person_id + 1, 7, NOW) == 0
    listed = await records.contacts_since(person_id, NOW - timedelta(days=7), NOW)
    assert [c.id for c in listed] == ["r1", "r30", "r100"]


async def test_referral_pattern_over_twelve_months(records: Records) -> None:
    person_id = await _person_id(records)
    history = [
        ("asc", 10),
        ("asc", 40),
        ("asc", 200),
        ("chs", 20),
        ("amh", 400),  # older than 12 months: not counted
        (None, 5),
    ]
    for n, (service, days_ago) in enumerate(history):
        await records.record_contact(
            f"p{n}", started_at=NOW - timedelta(days=days_ago), person_id=person_id, service=service
        )
    await records.create_service_request(person_id, "asc", "Care package review", at=NOW - timedelta(days=40))
    await records.create_service_request(person_id, "icrs", "Falls response", at=NOW - timedelta(days=3))
    await records.create_service_request(person_id, "amh", "Old referral", at=NOW - timedelta(days=500))

    pattern = await records.referral_pattern(person_id, NOW)
    assert pattern.since == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert [(s.service, s.contacts, s.referrals) for s in pattern.services] == [
        ("asc", 3, 1),
        ("chs", 1, 0),
        ("icrs", 0, 1),
        ("unassigned", 1, 0),
    ]
    asc = pattern.for_service("asc")
    assert asc is not None
    assert asc.last_contact_at == NOW - timedelta(days=10)
    assert (pattern.total_contacts, pattern.total_referrals) == (5, 2)
    assert pattern.for_service("amh") is None
    three_months = await records.referral_pattern(person_id, NOW, months=3)
    assert three_months.since == datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
    assert three_months.total_contacts == 4


async def test_set_contact_writes_without_reading_back_and_checks_like_update(records: Records) -> None:
    await records.record_contact("call-5", started_at=NOW)
    await records.set_contact("call-5", offered_at=NOW + timedelta(seconds=5), agent_id="agent07")
    await records.set_contact("call-5", reason_codes=["progress_chase"])
    stored = await records.get_contact("call-5")
    assert stored is not None
    assert (stored.offered_at, stored.agent_id) == (NOW + timedelta(seconds=5), "agent07")
    assert stored.failure_demand is True  # derived from the reason codes, as update_contact does
    with pytest.raises(InvalidInput) as bad:
        await records.set_contact("call-5", hold_ms=-1)
    assert bad.value.details["field"] == "hold_ms"
    with pytest.raises(InvalidInput) as unknown_person:
        await records.set_contact("call-5", person_id=999_999)
    assert unknown_person.value.error_id == "unknown_person_or_referrer"
    with pytest.raises(InvalidInput):
        await records.set_contact("call-5")
    with pytest.raises(NotFound):
        await records.set_contact("no-such-call", outcome_code="advice_given")
