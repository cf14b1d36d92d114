"""Two nodes on one Redis: the same figures, each supervisor message once, and recovery after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis

from cti.bus.redis import RedisEventBus
from cti.domain.clock import ManualClock
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.domain.model import Policy, RoutingPlan, Stage
from cti.domain.states import AgentStatus
from cti.live import SUPERVISOR_STREAM, LiveView, validate_supervisor_message
from cti.live.checkpoint import RedisCheckpoints
from cti.live.feed import SupervisorFeed
from cti.state.port import NewContact
from cti.state.redis import RedisStateStore
from tests.conftest import until
from tests.live.events import T0, TARGETS

pytestmark = pytest.mark.redis

SETTLE_MS = 250


@dataclass
class Cluster:
    """Nodes sharing one Redis prefix; each node has its own client, as another process would."""

    url: str
    prefix: str
    clock: ManualClock
    store: RedisStateStore
    clients: list[aioredis.Redis] = field(default_factory=list)
    views: list[LiveView] = field(default_factory=list)

    async def node(self, checkpoint_every_s: float = 3600.0) -> LiveView:
        client = aioredis.Redis.from_url(self.url)
        self.clients.append(client)
        bus = RedisEventBus(client, prefix=self.prefix, block_ms=100)
        view = LiveView(
            bus,
            self.store,
            TARGETS,
            self.clock,
            checkpoints=RedisCheckpoints(client, self.prefix),
            tick_s=0.02,
            settle_ms=SETTLE_MS,
            checkpoint_every_s=checkpoint_every_s,
        )
        await view.start()
        self.views.append(view)
        return view

    async def centre_events(self) -> list[Event]:
        got = await self.views[0].bus.read_after(CENTRE_STREAM, 0, limit=100_000)
        assert not isinstance(got, Resync)
        return got

    async def supervisor_events(self) -> list[Event]:
        got = await self.views[0].bus.read_after(SUPERVISOR_STREAM, 0, limit=100_000)
        assert not isinstance(got, Resync)
        return got

    async def caught_up(self, *views: LiveView) -> None:
        last = await self.store._r.get(f"{self.prefix}:seq:{CENTRE_STREAM}")

        def done() -> bool:
            return all(v.stats.seq == int(last or 0) for v in views)

        await until(done, message="every node at the newest centre event")


@pytest.fixture
async def cluster(redis_url: str, redis_prefix: str) -> AsyncIterator[Cluster]:
    client = aioredis.Redis.from_url(redis_url)
    store = RedisStateStore(client, prefix=redis_prefix, policy=Policy())
    await store.setup()
    c = Cluster(redis_url, redis_prefix, ManualClock(T0), store)
    try:
        yield c
    finally:
        for view in c.views:
            await view.stop()
        for view in c.views:
            await view.bus.close()
        for extra in c.clients:
            await extra.aclose()
        await client.aclose()


def contact(cid: str, queue: str) -> NewContact:
    return NewContact(cid, queue, 5, RoutingPlan((Stage(0, (queue,), "queue"),)), {})


async def first_half(store: RedisStateStore) -> None:
    for agent in ("agent1", "agent2"):
        await store.register_agent(agent, ["q1", "q2"], T0)
    await store.set_status("agent1", AgentStatus.AVAILABLE, None, T0 + 1_000)
    await store.enqueue(contact("c1", "q1"), T0 + 2_000)  # offered to agent1 at once
    offer = (await store.get_agent("agent1")).offer_id
    assert offer is not None
    await store.accept(offer, "agent1", T0 + 5_000)
    await store.enqueue(contact("c2", "q2"), T0 + 6_000)  # waits: potential breach at 22 s, breach 26 s


async def second_half(store: RedisStateStore) -> None:
    await store.set_status("agent2", AgentStatus.NOT_READY, "unreachable", T0 + 7_000)
    await store.hangup("c2", T0 + 30_000)  # abandoned after 24 s
    await store.end_call("c1", "agent1", T0 + 40_000)
    await store.finish_wrap_up("c1", "agent1", T0 + 45_000)
    await store.enqueue(contact("c3", "q1"), T0 + 50_000)


def expected(events: list[Event], until_ms: int) -> list[tuple[str, dict[str, Any], int]]:
    feed = SupervisorFeed.for_queues(TARGETS)
    out = [m for e in events for m in feed.apply(e)] + feed.advance(until_ms)
    return [(m.type, m.data, m.at) for m in out]


async def test_two_nodes_agree_publish_once_and_a_restarted_node_recovers(cluster: Cluster) -> None:
    c = cluster
    a, b = await c.node(), await c.node()
    await first_half(c.store)
    await c.caught_up(a, b)
    await a.stop()  # a checkpoint on the way out
    saved = await RedisCheckpoints(c.clients[0], c.prefix).load()
    assert saved is not None and saved.seq == a.stats.seq

    await second_half(c.store)
    restarted = await c.node()
    await c.caught_up(b, restarted)
    assert saved.seq < restarted.stats.seq  # restored, then replayed the events after the checkpoint

    end = T0 + 100_000
    c.clock.advance(end - T0)
    await until(lambda: b.stats.time == restarted.stats.time == end - SETTLE_MS, message="time moved on")
    now = end + 5_000
    assert restarted.snapshot(now) == b.snapshot(now)
    snapshot = b.snapshot(now)
    assert snapshot["partial"] is False
    q1, q2 = snapshot["queues"]
    assert (q1["offered"], q1["answered"], q1["waiting"], q1["longest_wait_s"]) == (2, 1, 1, 55)
    assert (q2["offered"], q2["abandoned"], q2["abandoned_after"], q2["abandon_rate"]) == (1, 1, 1, 1.0)
    assert q2["service_level"] == 0.0
    assert [a["id"] for a in snapshot["alerts"]] == ["agent_unreachable:agent2", "potential_breach:c3"]

    # Each message once, in order, as one feed alone would have published them.
    want = expected(await c.centre_events(), end - SETTLE_MS)

    async def all_published() -> bool:
        return len(await c.supervisor_events()) >= len(want)

    await until(all_published, message="the supervisor messages published")
    got = await c.supervisor_events()
    assert [(e.type, e.data, e.at) for e in got] == want
    for e in got:
        validate_supervisor_message(e)
    kinds = [e.data["kind"] for e in got if e.type == "alert.raised"]
    assert kinds == ["agent_unreachable", "potential_breach", "breach", "potential_breach"]


async def test_a_checkpoint_older_than_the_stream_gives_a_partial_rebuild(cluster: Cluster) -> None:
    c = cluster
    a = await c.node()
    await first_half(c.store)
    await c.caught_up(a)
    await a.stop()
    # A store that trims the centre stream to 4 events: the ones after the checkpoint are gone.
    trimming = RedisStateStore(c.store._r, prefix=c.prefix, stream_maxlen=4, exact_trim=True)
    await second_half(trimming)
    for i in range(8):
        await trimming.set_status("agent2", AgentStatus.NOT_READY, f"r{i}", T0 + 60_000 + i)

    restarted = await c.node()
    snapshot = restarted.snapshot(T0 + 61_000)
    assert snapshot["partial"] is True
    assert snapshot["as_of_seq"] == int(await c.store._r.get(f"{c.prefix}:seq:{CENTRE_STREAM}") or 0)
    q1 = next(q for q in snapshot["queues"] if q["queue"] == "q1")
    assert (q1["waiting"], q1["longest_wait_s"], q1["partial"]) == (1, 11, True)  # c3, from the store
    agents = {ag["agent"]: ag for ag in snapshot["agents"]}
    assert (agents["agent1"]["status"], agents["agent1"]["engine"]) == ("available", "offered")
    assert agents["agent2"]["reason"] == "r7"

    await c.store.hangup("c3", T0 + 62_000)  # it goes on following
    await c.caught_up(restarted)
    q1 = next(q for q in restarted.snapshot(T0 + 63_000)["queues"] if q["queue"] == "q1")
    assert (q1["waiting"], q1["abandoned"]) == (0, 1)
