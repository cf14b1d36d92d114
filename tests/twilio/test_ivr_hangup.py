"""Nothing lost on Twilio: a caller who hangs up while still in the IVR is recorded once, from the
``completed`` status callback, however often Twilio repeats it; and it is not a queue abandonment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import until
from tests.twilio.conftest import Twilio
from tests.twilio.test_flows import AMH_KEYS, CALLER_NUMBER, dial, queued


async def live_queues(tw: Twilio) -> list[dict[str, Any]]:
    sup = await tw.r.login("supervisor01")
    resp = await tw.r.client.get("/api/live", headers=sup)
    assert resp.status_code == 200, resp.text
    queues: list[dict[str, Any]] = resp.json()["queues"]
    return queues


async def test_a_caller_hanging_up_in_the_menu_is_recorded_once_with_the_path(twilio_app: Twilio) -> None:
    tw = twilio_app
    records = tw.r.services.records
    sid, page = await dial(tw, ["1", "2"])  # English; member of the public; then hangs up at the menu
    assert page.find("Gather") is not None
    for seq in (5, 5, 6):  # Twilio repeats its callbacks
        await tw.status(sid, "completed", seq)
    record = await records.get_contact(sid)
    assert record is not None
    assert (record.outcome_code, record.caller_e164, record.agent_id, record.queue) == (
        "abandoned_in_ivr",
        CALLER_NUMBER,
        None,
        None,
    )
    assert record.caller_type == "public" and record.ended_at is not None
    (entry,) = await records.audit_entries(sid, "contact")
    assert entry.action == "ivr_abandoned"
    assert entry.details == {"flow": "front_door", "node": "public", "path": "language:1 > who:2"}
    late = await tw.twiml(page.gather_url(), {"CallSid": sid, "Digits": "3"})  # a gather after the end
    assert late.find("Conference") is None
    assert len(await records.audit_entries(sid, "contact")) == 1
    assert not await tw.r.services.store.waiting()


async def test_a_caller_hanging_up_after_hearing_their_status_is_self_service(twilio_app: Twilio) -> None:
    tw = twilio_app
    records = tw.r.services.records
    person = await records.add_person(
        given_name="Test", family_name="Person", phones=[(CALLER_NUMBER, "mobile")]
    )
    due = datetime.fromtimestamp(tw.r.services.clock.now_ms() / 1000, UTC) + timedelta(days=2)
    await records.create_service_request(person.id, "chs_spa", "Illustrative nurse visit", due_at=due)
    sid, page = await dial(tw, ["1", "2", "2"])  # hears the status, then hangs up at "press 0"
    assert "has been received" in page.said()[0]
    await tw.status(sid, "completed", 3)
    await tw.status(sid, "completed", 4)
    record = await records.get_contact(sid)
    assert record is not None
    assert (record.outcome_code, record.reason_codes, record.first_contact_resolution) == (
        "status_given",
        ["progress_chase"],
        True,
    )
    assert record.person_id == person.id and record.failure_demand is True
    assert await records.audit_entries(sid, "contact") == []  # not an abandonment


async def test_an_ivr_hang_up_is_not_a_queue_abandonment(twilio_app: Twilio) -> None:
    tw = twilio_app
    in_menu, _ = await dial(tw, AMH_KEYS[:2])
    await tw.status(in_menu, "completed", 3)
    waiting, _ = await queued(tw)
    await tw.status(waiting, "completed", 9)

    async def queue_abandonment_counted() -> bool:
        return sum(q["abandoned"] for q in await live_queues(tw)) == 1

    await until(queue_abandonment_counted, message="the queued caller's abandonment")
    figures = {q["queue"]: q for q in await live_queues(tw)}
    assert (figures["amh_spa"]["offered"], figures["amh_spa"]["abandoned"]) == (1, 1)
    assert sum(q["offered"] for q in figures.values()) == 1
    ivr = await tw.r.services.records.get_contact(in_menu)
    assert ivr is not None and ivr.outcome_code == "abandoned_in_ivr"
    queue = await tw.r.services.records.get_contact(waiting)
    assert queue is not None and queue.outcome_code == "abandoned"
