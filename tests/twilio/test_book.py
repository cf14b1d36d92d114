"""The adapter's per-call state: one contract for memory and Redis (several nodes share the latter)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from cti.domain.clock import ManualClock
from cti.twilio.book import CallBook, Doc, MemoryCallBook, RedisCallBook


@pytest.fixture(params=["memory", "redis"])
async def books(request: pytest.FixtureRequest) -> AsyncIterator[tuple[CallBook, CallBook]]:
    """Two handles on one book: two nodes in redis mode, the same object in memory mode."""
    if request.param == "memory":
        book = MemoryCallBook(ManualClock(1_000))
        yield book, book
        return
    url, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    a, b = aioredis.Redis.from_url(url), aioredis.Redis.from_url(url)
    try:
        yield RedisCallBook(a, prefix), RedisCallBook(b, prefix)
    finally:
        await a.aclose()
        await b.aclose()


async def test_documents_are_shared_and_copied(books: tuple[CallBook, CallBook]) -> None:
    one, two = books
    assert await one.get("call", "CA1") is None
    await one.put("call", "CA1", {"role": "caller", "agents": {"agent14": "CA2"}})
    doc = await two.get("call", "CA1")
    assert doc == {"role": "caller", "agents": {"agent14": "CA2"}}
    assert doc is not None
    doc["agents"]["x"] = "y"  # a copy: changing it changes nothing stored
    assert await one.get("call", "CA1") == {"role": "caller", "agents": {"agent14": "CA2"}}
    assert await one.get("contact", "CA1") is None  # kinds are apart


async def test_updates_from_two_nodes_never_lose_a_write(books: tuple[CallBook, CallBook]) -> None:
    one, two = books

    def add(n: int) -> Any:
        def change(doc: Doc | None) -> Doc:
            seen = list((doc or {}).get("seen", []))
            return {"seen": [*seen, n]}

        return change

    await asyncio.gather(*(book.update("contact", "c", add(n)) for n in range(40) for book in (one, two)))
    doc = await one.get("contact", "c")
    assert doc is not None and sorted(doc["seen"]) == sorted([*range(40), *range(40)])


async def test_no_change_leaves_the_document(books: tuple[CallBook, CallBook]) -> None:
    one, two = books
    await one.put("call", "CA1", {"n": 1})
    assert await two.update("call", "CA1", lambda doc: None) == {"n": 1}
    assert await two.update("call", "nope", lambda doc: None) is None


async def test_once_is_true_for_the_first_claim_only(books: tuple[CallBook, CallBook]) -> None:
    one, two = books
    claims = await asyncio.gather(*(book.once("gather", "CA1:3") for book in (one, two, one, two)))
    assert sorted(claims) == [False, False, False, True]
    assert await one.once("gather", "CA1:4") is True


async def test_memory_documents_expire() -> None:
    clock = ManualClock(0)
    book = MemoryCallBook(clock, ttl_s=10)
    await book.put("call", "CA1", {"n": 1})
    assert await book.once("x", "y")
    clock.advance(10_001)
    assert await book.get("call", "CA1") is None
    assert await book.once("x", "y")
