"""Connections end cleanly: node shutdown, server faults, stalled clients, too many connections."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from cti.auth.service import Principal
from cti.wiring import Services
from tests.conftest import until
from tests.ws.conftest import FAST, Node, close_of, publish, recv, recv_until, settings_for, start_node


async def test_a_node_shutting_down_closes_its_connections(tmp_path: Path) -> None:
    async with start_node(settings_for(tmp_path)) as node:
        ws = await node.connect("agent01")
        await recv_until(ws, lambda m: m["type"] == "heartbeat")
        hub = node.hub
    code, _ = await close_of(ws)
    assert code in (1001, 1012)  # going away / service restart: reconnect, to any node, with last_seq
    assert not hub.connections
    assert len(hub.feeds) == 0


async def test_a_failing_snapshot_closes_with_1011(node: Node) -> None:
    async def broken(services: Services, principal: Principal) -> dict[str, Any]:
        raise RuntimeError("boom")

    node.hub.snapshot_providers["agent"] = broken
    ws = await node.connect("agent01")
    assert await close_of(ws) == (1011, "internal error")


async def test_too_many_connections_for_one_user_are_refused(tmp_path: Path) -> None:
    options = dataclasses.replace(FAST, max_connections_per_user=2)
    async with start_node(settings_for(tmp_path), options) as node:
        first = await node.connect("agent01")
        second = await node.connect("agent01")
        for ws in (first, second):
            await recv(ws)
        third = await node.connect("agent01")
        assert await close_of(third) == (1008, "too many connections for this user")
        await first.close()
        await until(lambda: len(node.hub.connections) == 1, message="the first to close")
        fourth = await node.connect("agent01")
        assert (await recv(fourth))["type"] == "snapshot"
        await second.close()
        await fourth.close()


async def test_a_client_that_stops_reading_is_dropped_after_the_send_deadline(tmp_path: Path) -> None:
    options = dataclasses.replace(FAST, send_timeout_s=0.3, send_queue=1000)
    async with start_node(settings_for(tmp_path), options, sndbuf=4096) as node:
        port = int(node.base_url.rsplit(":", 1)[1])
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        stalled = await node.open("/ws/agent", sock=raw, ticket=await node.ticket("agent01"))
        await recv_until(stalled, lambda m: m["type"] == "heartbeat")
        await publish(node.services, "agent:agent01", 200, size=2000)
        await until(lambda: not node.hub.connections, message="the stalled client to be dropped")
        try:
            while True:
                await recv(stalled)  # what was already on its way, then the end
        except ConnectionClosed:
            pass
        assert stalled.close_code == 1006  # no close frame could get through: the connection just ends


async def test_when_the_stream_reader_ends_clients_are_told_to_reconnect(tmp_path: Path) -> None:
    async with start_node(settings_for(tmp_path)) as node:
        ws = await node.connect("agent01")
        await recv_until(ws, lambda m: m["type"] == "heartbeat")
        feed = node.hub.feeds.get("agent:agent01")
        assert feed is not None
        await node.services.bus.close()  # e.g. the bus adapter gave up
        assert await close_of(ws) == (1011, "the event stream ended")
        assert not feed.usable
