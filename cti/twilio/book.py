"""Per-call state of the Twilio adapter, shared by every node: plain JSON documents by kind and key.

Webhooks for one call may reach any node, so in redis mode the documents live in Redis (keys
``{prefix}:twilio:{kind}:{key}``, each with a time to live); in memory mode in this process.
``update`` is an atomic read-modify-write (Redis: WATCH/MULTI, retried on a race); ``once`` answers
True to the first caller only, which is what makes duplicated provider callbacks harmless.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from cti.domain.clock import Clock

Doc = dict[str, Any]
Change = Callable[[Doc | None], Doc | None]  # the new document, or None to leave it as it is

TTL_S = 24 * 3600  # a call's state outlives any call


class CallBook(ABC):
    @abstractmethod
    async def get(self, kind: str, key: str) -> Doc | None: ...

    @abstractmethod
    async def update(self, kind: str, key: str, change: Change) -> Doc | None:
        """Apply ``change`` atomically; the document as it is afterwards."""

    @abstractmethod
    async def once(self, kind: str, key: str) -> bool:
        """True the first time ``(kind, key)`` is claimed, False ever after (within the TTL)."""

    async def put(self, kind: str, key: str, doc: Doc) -> None:
        await self.update(kind, key, lambda _old: doc)

    async def close(self) -> None:
        return None


class MemoryCallBook(CallBook):
    def __init__(self, clock: Clock, ttl_s: int = TTL_S) -> None:
        self.clock = clock
        self.ttl_ms = ttl_s * 1000
        self._docs: dict[tuple[str, str], tuple[int, str]] = {}  # JSON text: callers never share a doc
        self._writes = 0

    def _live(self, kind: str, key: str) -> Doc | None:
        found = self._docs.get((kind, key))
        if found is None or found[0] <= self.clock.now_ms():
            return None
        doc: Doc = json.loads(found[1])
        return doc

    def _prune(self) -> None:
        self._writes += 1
        if self._writes % 1000:
            return
        now = self.clock.now_ms()
        for k in [k for k, (expires, _) in self._docs.items() if expires <= now]:
            del self._docs[k]

    async def get(self, kind: str, key: str) -> Doc | None:
        return self._live(kind, key)

    async def update(self, kind: str, key: str, change: Change) -> Doc | None:
        # No await between read and write: atomic on the event loop.
        old = self._live(kind, key)
        new = change(None if old is None else json.loads(json.dumps(old)))
        if new is None:
            return old
        self._docs[(kind, key)] = (self.clock.now_ms() + self.ttl_ms, json.dumps(new))
        self._prune()
        return new

    async def once(self, kind: str, key: str) -> bool:
        if self._live("once." + kind, key) is not None:
            return False
        self._docs[("once." + kind, key)] = (self.clock.now_ms() + self.ttl_ms, "{}")
        self._prune()
        return True


class RedisCallBook(CallBook):
    def __init__(self, client: aioredis.Redis, prefix: str, ttl_s: int = TTL_S) -> None:
        self._r = client
        self._prefix = prefix
        self.ttl_s = ttl_s

    def _key(self, kind: str, key: str) -> str:
        return f"{self._prefix}:twilio:{kind}:{key}"

    async def get(self, kind: str, key: str) -> Doc | None:
        raw = await self._r.get(self._key(kind, key))
        if raw is None:
            return None
        doc: Doc = json.loads(raw)
        return doc

    async def update(self, kind: str, key: str, change: Change) -> Doc | None:
        name = self._key(kind, key)
        async with self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(name)
                    raw = await pipe.get(name)
                    old: Doc | None = json.loads(raw) if raw is not None else None
                    new = change(None if raw is None else json.loads(raw))
                    if new is None:
                        return old  # leaving the block resets the pipeline (UNWATCH)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(name, json.dumps(new), ex=self.ttl_s)
                    await pipe.execute()
                    return new
                except WatchError:
                    continue  # another node changed it between read and write: read again

    async def once(self, kind: str, key: str) -> bool:
        return bool(await self._r.set(self._key("once." + kind, key), b"1", nx=True, ex=self.ttl_s))
