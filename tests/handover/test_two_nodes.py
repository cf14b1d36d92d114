"""Two nodes on one Redis and one PBX: any node acts on any handover; a dead owner's handovers are adopted.

Node A is the real server (HTTP); node B is a second set of services on the same Redis and PostgreSQL,
with a handover service of its own. Both drive the same simulated PBX, as two nodes drive one Twilio
account or one Asterisk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from cti.calls.service import CallService
from cti.domain.states import ContactState
from cti.handover import HandoverPolicy, HandoverService, build
from cti.handover.follower import HandoverFollower
from cti.handover.redis_store import RedisHandoverStore
from cti.telephony.sim import LegState
from cti.wiring import build_services
from tests.conftest import until
from tests.handover.conftest import AGENT, Centre, CentreFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@asynccontextmanager
async def second_node(centre: Centre, policy: HandoverPolicy) -> AsyncIterator[HandoverService]:
    first = centre.r.services
    services = await build_services(first.settings)
    # One PBX for the whole centre: node B's commands reach the same simulated calls as node A's.
    services.telephony = first.telephony
    services.calls = CallService(
        services.router, services.records, first.telephony, services.centre, services.clock
    )
    service = build(services, policy)
    await service.start()
    follower = HandoverFollower(services.bus, service)
    await follower.start()
    try:
        yield service
    finally:
        await follower.stop()
        await service.stop()
        services.telephony = services.ringer.telephony  # its own sim, for a clean close
        await services.close()


async def kill_handovers_of(centre: Centre) -> str:
    """Node A's handover part dies: it stops following and its lease lapses. Its node id."""
    first = centre.r.services
    follower = first.extras.pop("handover.follower")
    await follower.stop()
    service = first.extras["handover"]
    assert isinstance(service, HandoverService)
    await service.stop()
    store = service.handovers
    assert isinstance(store, RedisHandoverStore)
    await store.client.delete(store._key("node", store.node_id))  # the lease runs out
    return store.node_id


async def test_a_handover_asked_on_one_node_is_read_and_completed_on_another(
    open_centre: CentreFactory,
) -> None:
    async with open_centre(backend="redis") as centre, second_node(centre, HandoverPolicy()) as other:
        call_id = await centre.call_answered_by_agent()
        spec = await centre.login("specialist04")
        await centre.available(spec)
        asked = await centre.ask(call_id, target="amh_spa")
        seen = await other.visible(AGENT, "agent", asked["id"])
        assert seen.state == "requested" and seen.note.reason == asked["note"]["reason"]

        await centre.answer(spec, asked["consult_contact_id"])
        await centre.until_state(asked["id"], "consulting")
        done = await other.complete(AGENT, "agent", asked["id"])  # on node B

        assert done.state == "completed" and done.caller == "with_specialist"
        assert (await centre.handover(asked["id"]))["state"] == "completed"  # node A reads it too
        consult = await centre.contact(asked["consult_contact_id"])
        assert consult.state is ContactState.CONNECTED and consult.agent_id == "specialist04"
        assert centre.leg(asked["consult_contact_id"]).has_caller
        # Each transition published once, though two nodes follow the centre stream.
        states = [e.type for e in await centre.events("centre") if e.data["handover"] == asked["id"]]
        assert states == [
            "handover.requested",
            "handover.specialist_reserved",
            "handover.consulting",
            "handover.completed",
        ]
        notes = await centre.events("agent:specialist04", "handover.note")
        assert len(notes) == 1


async def test_when_the_owner_dies_another_node_adopts_the_handover_and_briefs_the_specialist(
    open_centre: CentreFactory,
) -> None:
    async with open_centre(backend="redis") as centre, second_node(centre, HandoverPolicy()) as other:
        call_id = await centre.call_answered_by_agent()
        spec = await centre.login("specialist04")
        await centre.available(spec)
        asked = await centre.ask(call_id, target="amh_spa")
        dead = await kill_handovers_of(centre)

        await centre.answer(spec, asked["consult_contact_id"])  # node B hears it: A is gone
        handover = await centre.until_state(asked["id"], "consulting")
        assert handover["specialist"] == "specialist04"
        adopted = await other.visible(AGENT, "agent", asked["id"])
        assert adopted.owner == other.handovers.node_id != dead
        notes = await centre.events("agent:specialist04", "handover.note")
        assert [n.data["handover"] for n in notes] == [asked["id"]]
        assert centre.leg(asked["consult_contact_id"]).state is LegState.CONSULTING

        cancelled = await other.cancel(AGENT, "agent", asked["id"])
        assert cancelled.state == "cancelled" and cancelled.caller == "with_first_agent"
        assert (await centre.contact(call_id)).state is ContactState.CONNECTED


async def test_a_dead_owners_handover_still_times_out_and_the_caller_goes_back(
    open_centre: CentreFactory,
) -> None:
    policy = HandoverPolicy(timeout_s=1.0, sweep_s=0.1)
    async with open_centre(backend="redis", timeout_s=1.0) as centre, second_node(centre, policy) as other:
        call_id = await centre.call_answered_by_agent()
        asked = await centre.ask(call_id, target="amh_spa")  # no specialist is available
        await kill_handovers_of(centre)

        handover = await centre.until_state(asked["id"], "failed", timeout=10)
        assert handover["reason"] == "no_specialist" and handover["caller"] == "with_first_agent"
        assert (await other.visible(AGENT, "agent", asked["id"])).owner == other.handovers.node_id
        assert (await centre.contact(call_id)).state is ContactState.CONNECTED
        assert centre.leg(call_id).state is LegState.CONNECTED
        consult = await centre.contact(asked["consult_contact_id"])
        assert consult.state not in (ContactState.QUEUED, ContactState.OFFERED)


async def test_two_requests_for_one_caller_on_two_nodes_make_one_handover(open_centre: CentreFactory) -> None:
    async with open_centre(backend="redis") as centre, second_node(centre, HandoverPolicy()) as other:
        call_id = await centre.call_answered_by_agent()
        store = other.handovers
        number = await store.claim(call_id)  # node B is setting one up
        refused = await centre.post(
            f"/api/contacts/{call_id}/handover", centre.agent, target="amh_spa", note={"reason": "second"}
        )
        assert refused.status_code == 409 and refused.json()["error_id"] == "handover_in_progress"
        await store.release(call_id)
        asked = await centre.ask(call_id, target="amh_spa")
        assert asked["consult_contact_id"] == f"{call_id}.h{number + 1}"

        async def active_on_b() -> bool:
            found = await store.active_for(call_id)
            return found is not None and found.id == asked["id"]

        await until(active_on_b, message="node B to see the active handover")
