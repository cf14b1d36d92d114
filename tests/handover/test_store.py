"""The handover store contract, on memory and on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from cti.domain.errors import Conflict, NotFound
from cti.domain.model import RoutingPlan, Stage
from cti.handover.model import Handover, LiveNote, Note, Transition
from cti.handover.redis_store import RedisHandoverStore
from cti.handover.states import HandoverState
from cti.handover.store import HandoverStore, MemoryHandoverStore


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[HandoverStore]:
    if request.param == "memory":
        yield MemoryHandoverStore(node_id="node-a")
        return
    client = aioredis.Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisHandoverStore(client, request.getfixturevalue("redis_prefix"), node_id="node-a")
    finally:
        await client.aclose()


def handover(
    id: str = "ho-1", contact: str = "c1", state: HandoverState = HandoverState.REQUESTED
) -> Handover:
    return Handover(
        id=id,
        contact_id=contact,
        consult_contact_id=f"{contact}.h1",
        from_agent="agent14",
        target="amh_spa",
        worker=None,
        note=Note.of("low mood", "amh_same_day", ["self_harm_history"], "a practitioner will join", "text"),
        state=state,
        created_at=1,
        updated_at=1,
        consults=[f"{contact}.h1"],
        plan=RoutingPlan((Stage(0, ("amh_spa",), "queue"), Stage(5000, ("@specialist04",), "named_worker"))),
        owner="node-a",
        history=[Transition(1, None, "request", HandoverState.REQUESTED, "agent14")],
        notes=[LiveNote(2, "agent14", "she is calm now")],
    )


async def test_a_saved_handover_reads_back_whole_by_id_caller_and_consult(store: HandoverStore) -> None:
    saved = handover()
    await store.save(saved)
    for found in (
        await store.find("ho-1"),
        await store.active_for("c1"),
        await store.by_consult("c1.h1"),
    ):
        assert found == saved
    assert await store.which("c1") == "ho-1" and await store.which("c1.h1") == "ho-1"
    assert await store.which("c2") is None
    assert [h.id for h in await store.active()] == ["ho-1"]
    with pytest.raises(NotFound):
        await store.get("ho-2")


async def test_a_finished_handover_frees_its_caller_but_its_consults_stay_known(store: HandoverStore) -> None:
    await store.save(handover())
    over = replace(handover(state=HandoverState.FAILED), caller="queued", consults=["c1.h1", "c1.h1q"])
    await store.save(over)
    assert await store.active_for("c1") is None and await store.active() == []
    assert (await store.by_consult("c1.h1q")) == over
    # A newer handover of the same caller is not unindexed by the old one being saved again.
    await store.save(handover("ho-2"))
    await store.save(over)
    found = await store.active_for("c1")
    assert found is not None and found.id == "ho-2"


async def test_one_claim_per_caller_and_none_while_a_handover_is_active(store: HandoverStore) -> None:
    assert await store.claim("c1") == 1
    with pytest.raises(Conflict):
        await store.claim("c1")
    await store.release("c1")
    await store.save(handover())
    with pytest.raises(Conflict):
        await store.claim("c1")
    await store.save(handover(state=HandoverState.CANCELLED))
    assert await store.claim("c1") == 2


async def test_this_node_is_alive_and_a_node_without_a_lease_is_not(store: HandoverStore) -> None:
    await store.heartbeat()
    assert await store.alive("node-a")
    mine = handover()
    assert await store.mine(mine)
    if isinstance(store, RedisHandoverStore):
        assert not await store.alive("node-b")
        assert await store.mine(replace(mine, owner="node-b"))  # its owner is gone: adopt it
        await RedisHandoverStore(store.client, store.prefix.removesuffix(":ho"), node_id="node-b").heartbeat()
        assert not await store.mine(replace(mine, owner="node-b"))
