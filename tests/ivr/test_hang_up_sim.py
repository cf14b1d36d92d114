"""Through the real app on the simulator: a caller who hangs up in the IVR (their inputs run out with
``hang_up``) is recorded once, never queued, and not counted in the supervisors' queue figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.domain.errors import NotFound
from cti.telephony.sim import SimTelephony
from ivr.actions import Digits, Enqueue, Hangup
from tests.api.conftest import Running, settings_for, start_server
from tests.conftest import until

CLI = "07700 900123"
MENTAL_HEALTH = [Digits("1"), Digits("1"), Digits("9990000018"), Digits("3")]  # 24x7: open whenever run


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_server(settings_for(tmp_path)):
        yield r


def sim_of(r: Running) -> SimTelephony:
    sim = r.services.telephony
    assert isinstance(sim, SimTelephony)
    return sim


async def queues(r: Running, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    resp = await r.client.get("/api/live", headers=headers)
    assert resp.status_code == 200, resp.text
    return {q["queue"]: q for q in resp.json()["queues"]}


async def test_a_sim_caller_hanging_up_in_the_ivr_is_recorded_once_and_not_a_queue_abandonment(
    running: Running,
) -> None:
    r, sim = running, sim_of(running)
    sup = await r.login("supervisor01")
    gone = sim.new_call_id()
    run = await sim.dial(gone, CLI, "0116 496 0000", MENTAL_HEALTH[:3], hang_up=True)
    assert run.hung_up and isinstance(run.outcome, Hangup)
    contact = await r.services.records.get_contact(gone)
    assert contact is not None and contact.outcome_code == "abandoned_in_ivr"
    (entry,) = await r.services.records.audit_entries(gone, "contact")
    assert entry.details["path"] == "language:1 > who:1 > nhs_number:ok"
    with pytest.raises(NotFound):
        await r.services.store.get_contact(gone)

    # Without hang_up the inputs still run out into silence, as before: the caller reaches an adviser.
    waiting = sim.new_call_id()
    assert isinstance((await sim.dial(waiting, CLI, "0116 496 0000", MENTAL_HEALTH)).outcome, Enqueue)
    assert await sim.caller_hangs_up(waiting)

    async def counted() -> bool:
        return sum(q["abandoned"] for q in (await queues(r, sup)).values()) == 1

    await until(counted, message="the queued caller's abandonment in the live figures")
    figures = await queues(r, sup)
    assert (figures["amh_spa"]["offered"], figures["amh_spa"]["abandoned"]) == (1, 1)
    assert sum(q["offered"] for q in figures.values()) == 1  # the IVR hang-up was never offered
    queued = await r.services.records.get_contact(waiting)
    assert queued is not None and queued.outcome_code == "abandoned"
