"""What only the memory adapter offers: a synchronous append for the in-memory state store."""

from __future__ import annotations

import asyncio

import pytest

from cti.bus.memory import MemoryEventBus
from cti.domain.events import Event, Resync

AT = 1_767_225_600_000


async def test_append_is_synchronous_and_reaches_subscribers_at_once() -> None:
    bus = MemoryEventBus()
    sub = bus.subscribe("s")
    event = bus.append("s", "t", {"k": 1}, AT)  # no await: usable inside a critical section
    assert event == Event("s", 1, "t", AT, {"k": 1})
    assert sub.pending == 1  # type: ignore[attr-defined]
    assert await asyncio.wait_for(anext(aiter(sub)), 1) == event
    await bus.close()


async def test_ring_is_bounded_per_stream() -> None:
    bus = MemoryEventBus(maxlen_per_stream=3)
    for i in range(10):
        bus.append("s", "t", {"i": i}, AT)
    assert await bus.last_seq("s") == 10
    assert [e.seq for e in await bus.read_after("s", 7)] == [8, 9, 10]  # type: ignore[union-attr]
    assert await bus.read_after("s", 6) == Resync("s", 10, "trimmed")


async def test_stored_payload_is_a_copy() -> None:
    bus = MemoryEventBus()
    data = {"k": 1}
    bus.append("s", "t", data, AT)
    data["k"] = 2
    assert await bus.read_after("s", 0) == [Event("s", 1, "t", AT, {"k": 1})]


def test_json_roundtrip_rejects_what_redis_could_not_store() -> None:
    bus = MemoryEventBus(json_roundtrip=True)
    with pytest.raises(TypeError):
        bus.append("s", "t", {"when": object()}, AT)
    assert bus.append("s", "t", {"pair": (1, 2)}, AT).data == {"pair": [1, 2]}


def test_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError, match="maxlen"):
        MemoryEventBus(maxlen_per_stream=0)
    with pytest.raises(ValueError, match="max_pending"):
        MemoryEventBus().subscribe("s", max_pending=0)
