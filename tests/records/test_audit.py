from __future__ import annotations

from datetime import timedelta

import pytest

from cti.domain.clock import ManualClock
from cti.domain.errors import InvalidInput
from cti.records import Records
from tests.records.conftest import NOW


async def test_every_view_is_audited_in_order(records: Records, clock: ManualClock) -> None:
    first = await records.audit_view("agent05", "agent", "person", 42, "caller on the line")
    clock.advance(60_000)
    second = await records.audit_view(
        actor="specialist02",
        role="specialist",
        subject_type="person",
        subject_id="42",
        reason="break glass: safeguarding concern",
        action="break_glass",
        details={"contact": "call-9"},
    )
    await records.audit_view("agent01", "agent", "person", 43, "caller on the line")

    entries = await records.audit_entries(42)
    assert entries == [first, second]
    assert [(e.actor, e.role, e.action, e.at) for e in entries] == [
        ("agent05", "agent", "view", NOW),
        ("specialist02", "specialist", "break_glass", NOW + timedelta(minutes=1)),
    ]
    assert entries[1].details == {"contact": "call-9"}
    assert entries[1].reason == "break glass: safeguarding concern"
    assert await records.audit_entries("42", subject_type="contact") == []


async def test_a_view_needs_a_reason(records: Records) -> None:
    with pytest.raises(InvalidInput) as caught:
        await records.audit_view("agent05", "agent", "person", "42", "  ")
    assert caught.value.details["field"] == "reason"
    assert await records.audit_entries("42") == []


def test_the_audit_cannot_be_changed_through_records() -> None:
    names = {name for name in dir(Records) if "audit" in name}
    assert names == {"audit_view", "audit_entries"}
