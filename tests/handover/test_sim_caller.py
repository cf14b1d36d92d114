"""The demo's simulated callers keep track of their call after a warm handover moves them on."""

from __future__ import annotations

from cti.sim.centre import ENDED, TALKING, LivingCentre
from tests.handover.conftest import Centre


async def test_a_simulated_caller_follows_their_call_onto_the_specialists_leg(centre: Centre) -> None:
    living = LivingCentre(centre.r.services, bots=(), calls_per_minute=0, seed=1, known_numbers=())
    call_id = await centre.call_answered_by_agent()
    spec = await centre.login("specialist04")
    await centre.available(spec)
    asked = await centre.ask(call_id, target="amh_spa")
    await centre.answer(spec, asked["consult_contact_id"])
    await centre.until_state(asked["id"], "consulting")
    done = await centre.post(f"/api/handovers/{asked['id']}/complete", centre.agent)
    assert done.status_code == 200, done.text

    # The caller's first leg is over, but they are talking to the specialist: still on the line.
    assert living._leg_in(call_id, TALKING)
    assert not await living._wait_leg(call_id, 0, ENDED)
    assert await centre.sim.caller_hangs_up(call_id)  # and their hang-up reaches the consult leg
    assert await living._wait_leg(call_id, 0, ENDED)
