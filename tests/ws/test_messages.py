"""The transport catalogue, and the small parts behind it."""

from __future__ import annotations

import json

import pytest

from cti.domain.events import Resync
from cti.ws.messages import TRANSPORT_TYPES, validate_transport_message
from tests.ws.conftest import Node, publish, recv, recv_until

STREAM = "agent:agent01"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def node(shared_node: Node) -> Node:
    """This module's tests share one node (they do not depend on fresh streams)."""
    return shared_node


async def test_every_transport_message_the_server_sends_validates(node: Node) -> None:
    seen: dict[str, dict[str, object]] = {}
    ws = await node.connect("agent01")
    for m in await recv_until(ws, lambda m: m["type"] == "heartbeat"):
        seen[m["type"]] = m
    await ws.send(json.dumps({"type": "ping", "id": 7}))
    await ws.send("{")
    for m in await recv_until(ws, lambda m: m["type"] == "error"):
        seen[m["type"]] = m
    # The stream's reader reports that it fell behind, before it has handed on the events.
    last = await publish(node.services, STREAM, 2)
    feed = node.hub.feeds.get(STREAM)
    assert feed is not None
    for member in feed.members:
        member.resync(Resync(STREAM, last, "overflow"))
    for m in await recv_until(ws, lambda m: m["type"] == "resync"):
        seen[m["type"]] = m
    await publish(node.services, STREAM, 1, start=2)
    got = await recv_until(ws, lambda m: m["type"] == "test.event")
    assert [m["seq"] for m in got if m["type"] == "test.event"] == [last + 1]  # after the resync
    assert set(seen) >= TRANSPORT_TYPES
    for m in seen.values():
        validate_transport_message(m)  # recv validated them too; say so explicitly
    assert seen["resync"]["seq"] == last
    assert seen["pong"]["data"] == {"id": 7}
    await ws.close()


async def test_recv_checks_the_envelope(node: Node) -> None:
    ws = await node.connect("agent01")
    msg = await recv(ws)
    assert set(msg) == {"stream", "seq", "type", "at", "data"}
    await ws.close()
