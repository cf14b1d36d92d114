"""What a client may send: size, rate, kind of frame; and the answers to what it may say."""

from __future__ import annotations

import json

import pytest

from tests.ws.conftest import Node, close_of, recv, recv_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def node(shared_node: Node) -> Node:
    """This module's tests share one node (they do not depend on fresh streams)."""
    return shared_node


async def test_an_oversize_message_closes_with_1009(node: Node) -> None:
    limit = node.hub.options.max_message_bytes
    ws = await node.connect("agent01")
    await recv(ws)
    await ws.send(json.dumps({"type": "ping", "pad": "x" * limit}))  # over the hub's limit
    assert await close_of(ws) == (1009, f"message larger than {limit} bytes")
    # Far over it: the transport refuses the frame itself, before buffering it.
    ws = await node.connect("agent01")
    await recv(ws)
    await ws.send("x" * (1024 * 1024))
    assert (await close_of(ws))[0] == 1009


async def test_multibyte_text_is_measured_in_bytes(node: Node) -> None:
    limit = node.hub.options.max_message_bytes
    ws = await node.connect("agent01")
    await recv(ws)
    await ws.send(json.dumps({"type": "ping", "pad": "é" * (limit // 2)}, ensure_ascii=False))
    assert (await close_of(ws))[0] == 1009


async def test_flooding_closes_with_1008(node: Node) -> None:
    ws = await node.connect("agent01")
    await recv(ws)
    burst = node.hub.options.rate_burst
    for _ in range(burst * 3):
        await ws.send('{"type":"ping"}')
    assert await close_of(ws) == (1008, "too many messages")


async def test_binary_frames_close_with_1003(node: Node) -> None:
    ws = await node.connect("agent01")
    await recv(ws)
    await ws.send(b'{"type":"ping"}')
    assert await close_of(ws) == (1003, "text (JSON) messages only")


async def test_ping_pong_and_errors_keep_the_connection_open(node: Node) -> None:
    ws = await node.connect("agent01")
    snapshot = await recv(ws)
    await ws.send(json.dumps({"type": "ping", "id": "abc"}))
    pong = (await recv_until(ws, lambda m: m["type"] == "pong"))[-1]
    assert pong["data"] == {"id": "abc"}
    assert pong["stream"] == "agent:agent01"
    assert pong["seq"] == snapshot["seq"]
    await ws.send("not json")
    error = (await recv_until(ws, lambda m: m["type"] == "error"))[-1]
    assert error["data"]["error_id"] == "invalid_json"
    await ws.send(json.dumps({"type": "subscribe", "stream": "agent:agent02"}))
    error = (await recv_until(ws, lambda m: m["type"] == "error"))[-1]
    assert error["data"]["error_id"] == "unknown_type"
    await ws.send(json.dumps([1, 2]))
    error = (await recv_until(ws, lambda m: m["type"] == "error"))[-1]
    assert error["data"]["error_id"] == "invalid_message"
    await ws.send(json.dumps({"type": "ping", "id": {"nested": True}}))
    pong = (await recv_until(ws, lambda m: m["type"] == "pong"))[-1]
    assert pong["data"] == {"id": None}
    await ws.close()


async def test_the_server_sends_heartbeats(node: Node) -> None:
    ws = await node.connect("supervisor01", "/ws/supervisor")
    assert (await recv(ws))["type"] == "snapshot"
    first = await recv(ws)  # sent as soon as the connection is live
    second = await recv(ws)  # then every heartbeat_interval_s
    assert first["type"] == second["type"] == "heartbeat"
    assert first["data"] == {"interval_s": 0.1, "timeout_s": 30.0}  # timeout from routing.yaml
    await ws.close()


async def test_per_message_compression_is_not_negotiated(node: Node) -> None:
    ws = await node.connect("agent01")  # the client offers permessage-deflate by default
    await recv(ws)
    assert ws.protocol.extensions == []
    await ws.close()
