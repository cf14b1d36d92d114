"""Event bus on Redis Streams, with the key layout fixed in ``cti.bus.port``.

Publishing contract (what the Redis state store embeds in its own scripts): ``PUBLISH_LUA`` defines
the Lua function ``fd_publish(counter_key, stream_key, maxlen, trim, type, at, data)``, which runs
``INCR counter_key`` and then ``XADD stream_key MAXLEN <trim> <maxlen> <seq>-0 type <type> at <at> data
<data>`` and returns the new seq. ``counter_key`` is ``counter_key(prefix, stream)``, ``stream_key`` is
``stream_key(prefix, stream)`` (pass both in ``KEYS``), ``trim`` is ``"~"`` (normal) or ``"="`` (exact),
``at`` is epoch ms and ``data`` is ``encode_data(payload)`` (a JSON object). Prepend ``PUBLISH_LUA`` to a
script and call ``fd_publish`` once per event: the events are numbered in the same atomic step as the
state change. The counter and the stream must only ever be written this way; ``decode_entry`` turns an
entry back into an ``Event``.

``publish_once`` runs ``PUBLISH_ONCE_SCRIPT``: only if the source seq is greater than the one at
``source_key(prefix, stream)`` does it record it and call ``fd_publish``, in the same script.

Subscriptions read with ``XREAD BLOCK`` on a dedicated connection of the client's pool (one per
subscription), so the client's ``socket_timeout``, if set, must exceed ``block_ms``. The bus closes the
client only if it created it (``from_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cti.bus.memory import Inbox, check_source_seq
from cti.bus.port import EventBus, Subscription
from cti.domain.events import Event, Resync

log = logging.getLogger(__name__)

PUBLISH_LUA = """
local function fd_publish(counter_key, stream_key, maxlen, trim, type, at, data)
  local seq = redis.call('INCR', counter_key)
  local id = string.format('%d-0', seq)
  redis.call('XADD', stream_key, 'MAXLEN', trim, maxlen, id, 'type', type, 'at', at, 'data', data)
  return seq
end
"""

# KEYS: counter key, stream key. ARGV: maxlen, trim ("~" or "="), type, at, data (JSON).
PUBLISH_SCRIPT = (
    PUBLISH_LUA + "return fd_publish(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])\n"
)

# KEYS: source, counter and stream keys. ARGV: the source seq, then as above. nil: source seq not newer.
PUBLISH_ONCE_SCRIPT = PUBLISH_LUA + (
    "if tonumber(ARGV[1]) <= tonumber(redis.call('GET', KEYS[1]) or '0') then return false end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "return fd_publish(KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])\n"
)

_RETRY_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


def counter_key(prefix: str, stream: str) -> str:
    return f"{prefix}:seq:{stream}"


def stream_key(prefix: str, stream: str) -> str:
    return f"{prefix}:stream:{stream}"


def source_key(prefix: str, stream: str) -> str:
    return f"{prefix}:src:{stream}"


def encode_data(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _seq_of(entry_id: bytes | str) -> int:
    return int(_text(entry_id).partition("-")[0])


def decode_entry(stream: str, entry_id: bytes | str, fields: dict[Any, Any]) -> Event:
    """An ``Event`` from one stream entry (works with and without ``decode_responses``)."""
    text = {_text(k): _text(v) for k, v in fields.items()}
    return Event(stream, _seq_of(entry_id), text["type"], int(text["at"]), json.loads(text["data"]))


def _xread_entries(response: Any) -> list[tuple[Any, dict[Any, Any]]]:
    """The entries of a one-stream XREAD reply, whatever shape the client's protocol gives it."""
    if not response:
        return []
    entries = next(iter(response.values())) if isinstance(response, dict) else response[0][1]
    if entries and isinstance(entries[0], list):  # RESP3 reply in the legacy wrapping
        entries = entries[0]
    return list(entries)


class RedisEventBus(EventBus):
    """``exact_trim=True`` trims with ``MAXLEN =`` (deterministic, slower) instead of ``MAXLEN ~``."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str = "fd",
        maxlen: int = 100_000,
        *,
        exact_trim: bool = False,
        block_ms: int = 1000,
        read_count: int = 500,
    ) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.client = client
        self.prefix = prefix
        self.maxlen = maxlen
        self.trim = "=" if exact_trim else "~"
        self.block_ms = block_ms
        self.read_count = read_count
        self._script = client.register_script(PUBLISH_SCRIPT)
        self._once_script = client.register_script(PUBLISH_ONCE_SCRIPT)
        self._subs: set[RedisSubscription] = set()
        self._owns_client = False
        self._closed = False

    @classmethod
    def from_url(cls, url: str, prefix: str = "fd", maxlen: int = 100_000, **kwargs: Any) -> RedisEventBus:
        """A bus on its own client (closed with the bus); ``kwargs`` go to the bus constructor."""
        bus = cls(aioredis.Redis.from_url(url), prefix, maxlen, **kwargs)
        bus._owns_client = True
        return bus

    async def publish(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event:
        if self._closed:
            raise RuntimeError("event bus is closed")
        keys = [counter_key(self.prefix, stream), stream_key(self.prefix, stream)]
        args: list[str | int] = [self.maxlen, self.trim, type, at, encode_data(data)]
        seq = await self._script(keys=keys, args=args)
        return Event(stream, int(seq), type, at, data)

    async def publish_once(
        self, stream: str, source_seq: int, type: str, data: dict[str, Any], at: int
    ) -> Event | None:
        if self._closed:
            raise RuntimeError("event bus is closed")
        check_source_seq(source_seq)
        keys = [key(self.prefix, stream) for key in (source_key, counter_key, stream_key)]
        args: list[str | int] = [source_seq, self.maxlen, self.trim, type, at, encode_data(data)]
        seq = await self._once_script(keys=keys, args=args)
        return None if seq is None else Event(stream, int(seq), type, at, data)

    async def read_after(self, stream: str, after_seq: int, limit: int = 1000) -> list[Event] | Resync:
        if after_seq < 0:
            raise ValueError("after_seq must not be negative")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(counter_key(self.prefix, stream))
            pipe.xrange(stream_key(self.prefix, stream), f"({after_seq}-0", "+", count=limit)
            raw_last, entries = await pipe.execute()
        last = int(raw_last or 0)
        if after_seq == last:
            return []
        # Nothing retained after a point behind the newest, or a first entry past after_seq + 1:
        # events were trimmed. A point beyond the newest is not in this stream's history either.
        if not entries or _seq_of(entries[0][0]) != after_seq + 1:
            return Resync(stream, last, "trimmed")
        return [decode_entry(stream, entry_id, fields) for entry_id, fields in entries]

    async def last_seq(self, stream: str) -> int:
        return int(await self.client.get(counter_key(self.prefix, stream)) or 0)

    def subscribe(self, stream: str, after_seq: int | None = None, max_pending: int = 1000) -> Subscription:
        """Needs a running event loop (the reader is a task)."""
        if self._closed:
            raise RuntimeError("event bus is closed")
        if after_seq is not None and after_seq < 0:
            raise ValueError("after_seq must not be negative")
        sub = RedisSubscription(self, stream, after_seq, max_pending)
        self._subs.add(sub)
        return sub

    async def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            await sub.close()
        if self._owns_client:
            self._owns_client = False
            await self.client.aclose()

    def _forget(self, sub: RedisSubscription) -> None:
        self._subs.discard(sub)


class RedisSubscription(Subscription):
    """A reader task moves entries from the stream into a bounded ``Inbox``.

    It checks every batch is contiguous with what it delivered: a gap (trimmed) or a start point
    beyond the newest gives ``Resync("trimmed")`` and it continues from the newest; a full inbox gives
    ``Resync("overflow")`` and it continues after the batch in hand. Connection errors are retried
    with back-off from the same position (re-checked, in case Redis lost its data).
    """

    def __init__(self, bus: RedisEventBus, stream: str, after_seq: int | None, max_pending: int) -> None:
        self.stream = stream
        self._bus = bus
        self._inbox = Inbox(max_pending)
        self._key = stream_key(bus.prefix, stream)
        self._position = after_seq
        self._ready = asyncio.Event()
        self._finishing = False
        self.client_name = re.sub(r"[^A-Za-z0-9_.:-]", "_", f"{bus.prefix}:sub:{stream}")
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"bus-sub:{stream}")

    @property
    def position(self) -> int:
        """The newest seq taken from the stream: queued, delivered or covered by a Resync."""
        return self._position or 0

    @property
    def pending(self) -> int:
        return self._inbox.pending

    async def ready(self) -> None:
        """Wait until the starting point is fixed: events published afterwards will be delivered."""
        await self._ready.wait()

    def __aiter__(self) -> AsyncIterator[Event | Resync]:
        return self

    async def __anext__(self) -> Event | Resync:
        return await self._inbox.get()

    async def close(self) -> None:
        self._inbox.close()
        self._bus._forget(self)
        # On Python 3.11 a cancel can be swallowed inside redis-py (asyncio.wait_for returns a result
        # that was ready at the same moment); the reader also stops at its next turn, so insist.
        while not self._task.done():
            if not self._finishing:
                self._task.cancel()
            await asyncio.wait([self._task], timeout=0.05)

    async def _run(self) -> None:
        conn = self._bus.client.client()
        try:
            await self._read_loop(conn)
        except Exception as exc:  # a bug or a bad entry: hand it to the consumer rather than hang
            log.exception("event bus reader for %s failed", self.stream)
            self._inbox.close(exc)
        finally:
            self._finishing = True  # not to be cancelled again while it returns its connection
            self._ready.set()
            await conn.aclose()

    async def _read_loop(self, conn: aioredis.Redis) -> None:
        check, delay = True, 0.05
        task = asyncio.current_task()
        while not self._inbox.closed and not (task and task.cancelling()):
            try:
                if check:
                    await self._check_start(conn)
                    check = False
                assert self._position is not None
                response = await conn.xread(
                    {self._key: f"{self._position}-0"}, count=self._bus.read_count, block=self._bus.block_ms
                )
                entries = _xread_entries(response)
                if entries:
                    await self._take(conn, entries)
                delay = 0.05
            except _RETRY_ERRORS as exc:
                log.warning("event bus reader for %s: %s; retrying in %.2fs", self.stream, exc, delay)
                await asyncio.sleep(delay)
                check, delay = True, min(delay * 2, 2.0)

    async def _check_start(self, conn: aioredis.Redis) -> None:
        with contextlib.suppress(ResponseError):  # a name only helps operators (CLIENT LIST)
            await conn.client_setname(self.client_name)
        last = int(await conn.get(counter_key(self._bus.prefix, self.stream)) or 0)
        if self._position is None:
            self._position = last
        elif self._position > last:
            self._inbox.resync(Resync(self.stream, last, "trimmed"))
            self._position = last
        self._ready.set()

    async def _take(self, conn: aioredis.Redis, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        assert self._position is not None
        for entry_id, fields in entries:
            seq = _seq_of(entry_id)
            if seq != self._position + 1:
                last = int(await conn.get(counter_key(self._bus.prefix, self.stream)) or 0)
                self._inbox.resync(Resync(self.stream, last, "trimmed"))
                self._position = last
                return
            if not self._inbox.push(decode_entry(self.stream, entry_id, fields)):
                newest = _seq_of(entries[-1][0])
                self._inbox.resync(Resync(self.stream, newest, "overflow"))
                self._position = newest
                return
            self._position = seq
