"""The small parts of the transport: catalogue models, outbox, rate limit, Origin policy, tickets."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from cti.auth.service import Principal
from cti.domain.events import Resync
from cti.ws.handshake import Refused, check_origin
from cti.ws.messages import validate_transport_message
from cti.ws.outbox import Control, Encoded, Outbox, TokenBucket
from cti.ws.tickets import MemoryTicketStore

STREAM = "agent:agent01"


def test_the_models_reject_what_is_not_in_the_catalogue() -> None:
    ok = {"stream": "s", "seq": 1, "at": 0}
    validate_transport_message({**ok, "type": "resync", "data": {"reason": "overflow"}})
    validate_transport_message({**ok, "type": "offer.created", "data": {"anything": 1}})
    bad = [
        {**ok, "type": "resync", "data": {"reason": "boredom"}},
        {**ok, "type": "heartbeat", "data": {}},
        {**ok, "type": "pong", "data": {"id": [1]}},
        {**ok, "type": "error", "data": {"error_id": "x"}},
        {**ok, "type": "snapshot", "data": {}, "extra": 1},
        {**ok, "type": "snapshot"},
        {"stream": "", "seq": 1, "at": 0, "type": "x", "data": {}},
        {"stream": "s", "seq": -1, "at": 0, "type": "x", "data": {}},
    ]
    for msg in bad:
        with pytest.raises(ValidationError):
            validate_transport_message(msg)


async def test_the_outbox_replaces_an_overflow_with_one_resync() -> None:
    box = Outbox(STREAM, limit=3)
    for seq in range(1, 4):
        box.put(Encoded(seq, f"{seq}"))
    box.put(Encoded(4, "4"))  # overflow: 1..4 dropped, covered by a resync
    box.put(Encoded(5, "5"))
    box.put(Encoded(6, "6"))
    box.put(Encoded(7, "7"))  # overflows again: still one resync, now covering 7
    box.control(Control("pong"))
    assert await box.get() == Control("pong")  # control first
    assert await box.get() == Resync(STREAM, 7, "overflow")
    assert box.overflows == 2
    box.put(Encoded(8, "8"))
    assert await box.get() == Encoded(8, "8")
    box.close(1001, "bye")
    assert await box.get() is None
    assert box.close_request is not None
    assert box.close_request.code == 1001


async def test_gather_returns_when_enough_events_wait_without_waiting_the_window() -> None:
    box = Outbox(STREAM, limit=100)
    box.put(Encoded(1, "1"))

    async def fill() -> None:
        for seq in range(2, 6):
            await asyncio.sleep(0)  # one at a time, as a feed delivers them
            box.put(Encoded(seq, str(seq)))

    filler = asyncio.create_task(fill())
    async with asyncio.timeout(5):  # the window below is an hour: returning at all is the test
        await box.gather(5, window_s=3600)
    await filler
    assert box.pending == 5


async def test_gather_gives_up_after_its_window_and_wakes_normally_after() -> None:
    box = Outbox(STREAM, limit=100)
    box.put(Encoded(1, "1"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await box.gather(10, window_s=0.05)
    assert loop.time() - started >= 0.05
    assert box.pending == 1
    # After gathering, one event wakes a waiting writer again.
    assert await box.get() == Encoded(1, "1")
    waiting = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    box.put(Encoded(2, "2"))
    async with asyncio.timeout(5):
        assert await waiting == Encoded(2, "2")


@pytest.mark.parametrize("interrupt", ["control", "close", "overflow"])
async def test_gather_stops_at_a_control_item_a_close_or_an_overflow(interrupt: str) -> None:
    box = Outbox(STREAM, limit=3)
    box.put(Encoded(1, "1"))
    gathering = asyncio.create_task(box.gather(50, window_s=3600))
    await asyncio.sleep(0)
    assert not gathering.done()
    if interrupt == "control":
        box.control(Control("pong", {"id": 1}))
    elif interrupt == "close":
        box.close(1001, "bye")
    else:
        for seq in range(2, 5):
            box.put(Encoded(seq, str(seq)))
    async with asyncio.timeout(5):
        await gathering
    if interrupt == "overflow":
        assert await box.get() == Resync(STREAM, 4, "overflow")


def test_the_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, now=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] += 100
    assert sum(bucket.take() for _ in range(10)) == 3


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "h:1", frozenset({"https://a.example"}), True),
        ("https://a.example", None, frozenset({"https://a.example"}), True),
        ("https://A.example/", None, frozenset({"https://a.example"}), True),
        ("https://b.example", None, frozenset({"https://a.example"}), False),
        ("https://a.example:444", None, frozenset({"https://a.example"}), False),
        ("null", "h:1", frozenset(), False),
        ("file://", "h:1", frozenset(), False),
        ("http://h:1", "h:1", frozenset(), True),
        ("http://h:2", "h:1", frozenset(), False),
        ("http://h:1", "h:1", frozenset({"https://a.example"}), False),  # a list replaces same-origin
    ],
)
def test_origin_policy(origin: str | None, host: str | None, allowed: frozenset[str], ok: bool) -> None:
    if ok:
        check_origin(origin, host, allowed)
    else:
        with pytest.raises(Refused):
            check_origin(origin, host, allowed)


async def test_memory_tickets_are_single_use_and_expire() -> None:
    store = MemoryTicketStore()
    who = Principal("agent01", "agent")
    ticket = await store.issue(who, now_ms=1000, ttl_ms=30_000)
    assert await store.consume(ticket, 2000) == who
    assert await store.consume(ticket, 2000) is None
    late = await store.issue(who, now_ms=1000, ttl_ms=30_000)
    assert await store.consume(late, 31_000) is None
    await store.issue(who, now_ms=1000, ttl_ms=30_000)
    await store.prune(31_000)
    assert len(store) == 0
    assert await store.consume("x" * 500, 0) is None
