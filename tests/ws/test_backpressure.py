"""A slow client is told to resync; it never delays the others and never loses events silently."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

from tests.conftest import until
from tests.ws.conftest import FAST, events, recv_until, settings_for, start_node

STREAM = "agent:agent01"
N = 200


async def test_a_slow_consumer_gets_a_resync_while_a_fast_one_gets_everything(tmp_path: Path) -> None:
    options = dataclasses.replace(FAST, send_queue=16)
    async with start_node(settings_for(tmp_path), options, sndbuf=4096) as node:
        fast = await node.connect("agent01")
        port = int(node.base_url.rsplit(":", 1)[1])
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        # Reads at most one message ahead, and not at all until the test reads: a stalled desktop.
        slow = await node.open("/ws/agent", sock=raw, ticket=await node.ticket("agent01"))
        for ws in (fast, slow):
            await recv_until(ws, lambda m: m["type"] == "heartbeat")  # snapshot, then live
        fast_got = []
        for i in range(N):  # each event reaches the fast client before the next is published
            event = await node.services.bus.publish(STREAM, "test.event", {"n": i, "pad": "x" * 2000}, 0)
            fast_got += await recv_until(
                fast, lambda m, seq=event.seq: m["type"] == "test.event" and m["seq"] == seq
            )
        assert events(fast_got) == list(range(1, N + 1))
        assert not [m for m in fast_got if m["type"] == "resync"]
        await until(
            lambda: any(c.outbox.overflows for c in node.hub.connections),
            message="the slow queue to overflow",
        )

        msgs = await recv_until(slow, lambda m: m["type"] == "test.event" and m["seq"] == N, timeout=10)
        seen = 0
        resyncs = 0
        for m in msgs:
            if m["type"] == "resync":
                assert m["data"] == {"reason": "overflow"}
                assert m["seq"] > seen
                seen = m["seq"]
                resyncs += 1
            elif m["type"] == "test.event":
                assert m["seq"] == seen + 1  # contiguous, or right after what a resync covered
                seen = m["seq"]
        assert resyncs >= 1
        assert len(events(msgs)) < N
        await fast.close()
        await slow.close()
