"""The router applies the centre's configuration: hours, out-of-hours, boosts, named worker, timers."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cti.bus.memory import MemoryEventBus
from cti.config.centre import DEMO_DIR, load_centre
from cti.domain.clock import ManualClock
from cti.domain.errors import InvalidInput
from cti.domain.model import personal_target
from cti.domain.states import AgentStatus, ContactState
from cti.router.service import Router
from cti.state.memory import MemoryStateStore
from tests.conftest import until

LONDON = ZoneInfo("Europe/London")


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp() * 1000)


TUESDAY_10AM = at("2026-11-24T10:00:00")
TUESDAY_11PM = at("2026-11-24T23:00:00")
CHRISTMAS_NOON = at("2026-12-25T12:00:00")


async def make_router(clock: ManualClock, folder: Path = DEMO_DIR) -> Router:
    centre = load_centre(folder)
    store = MemoryStateStore(MemoryEventBus(), centre.routing.store_policy())
    router = Router(store, centre, clock)
    await router.start()
    return router


@pytest.fixture
async def router() -> AsyncIterator[Router]:
    r = await make_router(ManualClock(TUESDAY_10AM))
    yield r
    await r.stop()


async def test_in_hours_a_contact_waits_in_its_queue(router: Router) -> None:
    placed = await router.enqueue("c1", "asc_triage")
    assert placed.queue == "asc_triage"
    assert not placed.out_of_hours
    assert placed.contact is not None
    assert placed.contact.state is ContactState.QUEUED


async def test_out_of_hours_a_contact_goes_to_the_fallback() -> None:
    r = await make_router(ManualClock(TUESDAY_11PM))
    try:
        placed = await r.enqueue("c1", "asc_triage")
        assert placed.out_of_hours
        assert placed.queue == "ooh_fallback"
        placed = await r.enqueue("c2", "chs_spa")
        assert placed.queue == "icrs_rapid_response"
        # 24x7 queues stay put
        assert (await r.enqueue("c3", "amh_spa")).queue == "amh_spa"
    finally:
        await r.stop()


async def test_bank_holiday_closes_office_hours_queues() -> None:
    r = await make_router(ManualClock(CHRISTMAS_NOON))
    try:
        assert (await r.enqueue("c1", "council_general")).queue == "ooh_fallback"
    finally:
        await r.stop()


async def test_out_of_hours_transfer_to_another_number(tmp_path: Path) -> None:
    folder = tmp_path / "centre"
    shutil.copytree(DEMO_DIR, folder)
    queues = folder / "queues.yaml"
    text = queues.read_text()
    marker = "  - id: council_general"
    head, tail = text.split(marker, 1)
    tail = tail.replace("out_of_hours: {queue: ooh_fallback}", 'out_of_hours: {transfer: "111"}', 1)
    queues.write_text(head + marker + tail)
    r = await make_router(ManualClock(TUESDAY_11PM), folder)
    try:
        placed = await r.enqueue("c1", "council_general")
        assert placed.transfer_to == "111"
        assert placed.contact is None
    finally:
        await r.stop()


async def test_professional_and_repeat_callers_are_boosted(router: Router) -> None:
    base = router.centre.queues["asc_triage"].base_priority
    public = await router.enqueue("pub", "asc_triage", caller_type="public")
    pro = await router.enqueue("pro", "asc_triage", caller_type="professional")
    repeat = await router.enqueue("rep", "asc_triage", caller_type="public", repeat_caller=True)
    assert public.contact is not None and pro.contact is not None and repeat.contact is not None
    assert public.contact.priority == base
    assert pro.contact.priority == base + router.centre.routing.professional_boost
    assert repeat.contact.priority == base + router.centre.routing.repeat_caller_boost
    waiting = [c.id for c in await router.store.waiting("asc_triage")]
    assert waiting == ["pro", "rep", "pub"]


async def test_named_worker_only_when_on_shift(router: Router) -> None:
    off = await router.enqueue("c1", "allocated_worker", named_worker="specialist01")
    assert off.contact is not None
    assert personal_target("specialist01") not in off.contact.targets
    await router.set_status("specialist01", AgentStatus.NOT_READY, "admin")
    on = await router.enqueue("c2", "allocated_worker", named_worker="specialist01")
    assert on.contact is not None
    assert on.contact.targets == [personal_target("specialist01")]
    assert on.contact.attrs["named_worker"] == "specialist01"


async def test_agents_serve_the_targets_their_skills_meet(router: Router) -> None:
    targets = router.targets_for("agent14")
    assert "amh_spa" in targets
    assert "asc_triage" not in targets
    assert targets[-1] == "@agent14"


async def test_unknown_queue_and_bad_priority_are_refused(router: Router) -> None:
    with pytest.raises(InvalidInput) as err:
        await router.enqueue("c1", "nowhere")
    assert err.value.error_id == "unknown_queue"
    await router.enqueue("c2", "amh_spa")
    with pytest.raises(InvalidInput):
        await router.set_priority("c2", 10)


async def test_the_timer_loop_fires_offer_timeouts() -> None:
    clock = ManualClock(TUESDAY_10AM)
    r = await make_router(clock)
    try:
        await r.set_status("agent14", AgentStatus.AVAILABLE)
        placed = await r.enqueue("c1", "amh_spa")
        assert placed.contact is not None
        assert placed.contact.agent_id == "agent14"
        clock.advance(r.centre.routing.offer_timeout_s * 1000)

        async def missed() -> bool:
            agent = await r.store.get_agent("agent14")
            return agent.reason == "missed"

        await until(missed, message="the offer to time out")
        assert (await r.store.get_contact("c1")).state is ContactState.QUEUED
    finally:
        await r.stop()
