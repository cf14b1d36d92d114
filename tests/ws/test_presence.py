"""Presence: a desktop that goes silent, or goes away and does not come back, is made unreachable."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from cti.desktop.snapshot import agent_snapshot_provider
from cti.domain.clock import ManualClock
from cti.domain.events import CENTRE_STREAM
from cti.domain.states import AgentStatus
from cti.live import supervisor_snapshot
from cti.ws.presence import UNREACHABLE
from tests.conftest import until
from tests.ws.conftest import FAST, Node, close_of, recv_until, settings_for, start_node


def heartbeat(m: dict[str, Any]) -> bool:
    return m["type"] == "heartbeat"


async def set_status(node: Node, user: str, status: str, reason: str | None = None) -> None:
    await node.services.router.set_status(user, AgentStatus(status), reason)


async def status_of(node: Node, user: str) -> tuple[AgentStatus, str | None]:
    agent = await node.services.store.get_agent(user)
    return agent.status, agent.reason


async def unreachable_events(node: Node, user: str, after: int) -> list[dict[str, Any]]:
    found = await node.services.bus.read_after(CENTRE_STREAM, after)
    assert isinstance(found, list)
    return [
        e.data
        for e in found
        if e.type == "agent.status" and e.data.get("agent") == user and e.data.get("reason") == UNREACHABLE
    ]


async def sweeps(*nodes: Node, count: int = 2) -> None:
    """Wait until every node has completed ``count`` more presence sweeps."""
    start = [n.hub.presence.sweeps for n in nodes]
    await until(
        lambda: all(n.hub.presence.sweeps >= s + count for n, s in zip(nodes, start, strict=True)),
        message="presence sweeps",
    )


async def ping(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    await recv_until(ws, lambda m: m["type"] == "pong")


async def gone(node: Node) -> None:
    await until(lambda: not node.hub.connections, message="the server to see the connection close")


async def test_a_silent_available_agent_is_made_not_ready_unreachable(tmp_path: Path) -> None:
    clock = ManualClock()
    async with start_node(settings_for(tmp_path), clock=clock) as node:
        await set_status(node, "agent01", "available")
        await set_status(node, "agent02", "not_ready", "training")
        centre = await node.services.bus.last_seq(CENTRE_STREAM)
        silent = await node.connect("agent01")
        other = await node.connect("agent02")
        for ws in (silent, other):
            await recv_until(ws, heartbeat)
        clock.advance(30_001)  # routing.yaml: heartbeat_timeout_s 30
        assert await close_of(silent) == (4000, "heartbeat timeout")
        assert await close_of(other) == (4000, "heartbeat timeout")
        await until(lambda: node.hub.presence.marked == 1, message="agent01 marked")
        assert await status_of(node, "agent01") == (AgentStatus.NOT_READY, UNREACHABLE)
        assert await status_of(node, "agent02") == (AgentStatus.NOT_READY, "training")  # not available
        [event] = await unreachable_events(node, "agent01", centre)
        assert event["status"] == "not_ready"
        assert await unreachable_events(node, "agent02", centre) == []


async def test_the_supervisor_channel_shows_the_unreachable_alert(tmp_path: Path) -> None:
    clock = ManualClock()
    providers = {"agent": agent_snapshot_provider, "supervisor": supervisor_snapshot}
    async with start_node(settings_for(tmp_path), clock=clock, providers=providers) as node:
        await set_status(node, "agent03", "available")
        sup = await node.connect("supervisor01", "/ws/supervisor")
        snapshot = (await recv_until(sup, heartbeat))[0]
        assert snapshot["type"] == "snapshot"
        assert "alerts" in snapshot["data"]  # the live view's snapshot
        desk = await node.connect("agent03")
        assert (await recv_until(desk, heartbeat))[0]["data"]["agent"] == "agent03"  # the desktop's
        for _ in range(3):
            clock.advance(10_001)  # the supervisor keeps pinging; the agent's desktop does not
            await ping(sup)
        assert await close_of(desk) == (4000, "heartbeat timeout")
        got = await recv_until(
            sup,
            lambda m: m["type"] == "alert.raised" and m["data"]["kind"] == "agent_unreachable",
            timeout=10,
        )
        assert got[-1]["data"]["agent"] == "agent03"
        await sup.close()


async def test_an_agent_who_reconnects_in_time_is_not_marked_and_one_who_does_not_is(tmp_path: Path) -> None:
    clock = ManualClock()
    async with start_node(settings_for(tmp_path), clock=clock) as node:
        await set_status(node, "agent01", "available")
        ws = await node.connect("agent01")
        await recv_until(ws, heartbeat)
        await ws.close()  # the laptop sleeps: the grace period starts now
        await gone(node)
        clock.advance(20_000)
        ws = await node.connect("agent01", last_seq=0)  # ... and wakes up in time
        await recv_until(ws, heartbeat)
        clock.advance(15_000)  # past the first connection's lease
        await ping(ws)
        await sweeps(node)
        assert await status_of(node, "agent01") == (AgentStatus.AVAILABLE, None)
        await ws.close()  # now gone for good
        await gone(node)
        clock.advance(29_000)
        await sweeps(node)
        assert (await status_of(node, "agent01"))[0] is AgentStatus.AVAILABLE
        clock.advance(1_001)
        await until(lambda: node.hub.presence.marked == 1, message="agent01 marked")
        assert await status_of(node, "agent01") == (AgentStatus.NOT_READY, UNREACHABLE)


@pytest.mark.redis
async def test_presence_is_shared_by_the_nodes(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    clock = ManualClock()
    options = dataclasses.replace(FAST, heartbeat_timeout_s=5)

    def settings(name: str) -> Any:
        return settings_for(tmp_path, name, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix)

    async with (
        start_node(settings("a"), options, clock) as a,
        start_node(settings("b"), options, clock) as b,
    ):
        await set_status(a, "agent01", "available")
        centre = await a.services.bus.last_seq(CENTRE_STREAM)
        on_b = await b.connect("agent01")
        await recv_until(on_b, heartbeat)
        await on_b.close()  # it left node B ...
        await gone(b)
        on_a = await a.connect("agent01")  # ... for node A
        await recv_until(on_a, heartbeat)
        clock.advance(3_000)
        await ping(on_a)
        clock.advance(3_000)  # node B's own connection would have lapsed by now; A keeps the lease
        await sweeps(a, b)
        assert (await status_of(a, "agent01"))[0] is AgentStatus.AVAILABLE
        clock.advance(5_001)  # silent on A too: exactly one node acts
        assert await close_of(on_a) == (4000, "heartbeat timeout")
        await until(lambda: a.hub.presence.marked + b.hub.presence.marked == 1, message="marked once")
        await sweeps(a, b)
        assert a.hub.presence.marked + b.hub.presence.marked == 1
        assert await status_of(b, "agent01") == (AgentStatus.NOT_READY, UNREACHABLE)
        assert len(await unreachable_events(a, "agent01", centre)) == 1
