"""Nothing lost on Asterisk: a caller whose channel hangs up while still in the IVR is recorded once,
with the path so far; one who had heard their self-service status is recorded as self-service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti.asterisk.testing import Channel
from cti.domain.errors import NotFound
from cti.records.models import Contact
from tests.asterisk.conftest import CALLER, WEDNESDAY_11H, Rig
from tests.conftest import until

FRONT_DOOR = "01164960000"


async def dial_and_hang_up(rig: Rig, keys: str) -> tuple[Channel, str]:
    """The caller keys ``keys`` through the menus and hangs up at the first one left waiting."""
    caller = await rig.pbx.caller_dials(FRONT_DOOR, CALLER)
    await rig.pbx.press(caller.uniqueid, keys)  # keyed ahead: each menu's prompt takes one
    await until(lambda: caller.waiting is not None, message="a menu waiting for a key")
    await rig.pbx.hang_up(caller.uniqueid)
    return caller, f"ast-{caller.uniqueid}"


async def recorded(rig: Rig, call_id: str) -> Contact:
    async def written() -> bool:
        found = await rig.services.records.get_contact(call_id)
        return found is not None and found.ended_at is not None

    await until(written, message="the contact recorded")
    contact = await rig.services.records.get_contact(call_id)
    assert contact is not None
    return contact


async def test_a_caller_hanging_up_in_the_menu_is_recorded_once_with_the_path(rig: Rig) -> None:
    rig = rig
    _, call_id = await dial_and_hang_up(rig, "1")  # English, then gone at "who are you"
    contact = await recorded(rig, call_id)
    assert (contact.outcome_code, contact.caller_e164, contact.agent_id) == (
        "abandoned_in_ivr",
        "+447700900123",
        None,
    )
    (entry,) = await rig.services.records.audit_entries(call_id, "contact")
    assert entry.details == {"flow": "front_door", "node": "who", "path": "language:1"}
    with pytest.raises(NotFound):
        await rig.services.store.get_contact(call_id)  # never queued


async def test_a_caller_hanging_up_after_hearing_their_status_is_self_service(rig: Rig) -> None:
    rig = rig
    records = rig.services.records
    person = await records.add_person(given_name="Test", family_name="Person", phones=[(CALLER, "mobile")])
    due = datetime.fromtimestamp(WEDNESDAY_11H / 1000, UTC) + timedelta(days=2)
    await records.create_service_request(person.id, "chs_spa", "Illustrative nurse visit", due_at=due)
    _, call_id = await dial_and_hang_up(rig, "122")  # English; public; nurse: hears the status
    contact = await recorded(rig, call_id)
    assert (contact.outcome_code, contact.reason_codes, contact.first_contact_resolution) == (
        "status_given",
        ["progress_chase"],
        True,
    )
    assert contact.person_id == person.id and contact.agent_id is None
    assert await records.audit_entries(call_id, "contact") == []
