"""Event bus on Redis Streams, with the key layout fixed in ``cti.bus.port``.

Publishing contract (what the Redis state store embeds in its own scripts): ``PUBLISH_LUA`` defines
the Lua function ``fd_publish(counter_key, stream_key, maxlen, trim, type, at, data)``, which runs
``INCR counter_key``, then ``XADD stream_key MAXLEN <trim> <maxlen> <seq>-0 type <type> at <at> data
<data>``, then ``PUBLISH stream_key <seq>`` (the doorbell readers listen to), and returns the new
seq. ``counter_key`` is ``counter_key(prefix, stream)``, ``stream_key`` is ``stream_key(prefix,
stream)`` (pass both in ``KEYS``), ``trim`` is ``"~"`` (normal) or ``"="`` (exact), ``at`` is epoch
ms and ``data`` is ``encode_data(payload)`` (a JSON object). Prepend ``PUBLISH_LUA`` to a script and
call ``fd_publish`` once per event: the events are numbered in the same atomic step as the state
change. The counter and the stream must only ever be written this way; ``decode_entry`` turns an
entry back into an ``Event``.

``publish_once`` runs ``PUBLISH_ONCE_SCRIPT``: only if the source seq is greater than the one at
``source_key(prefix, stream)`` does it record it and call ``fd_publish``, in the same script.
``publish_once_many`` does the same for a run of events in one script call (one round trip).

Every append also rings a doorbell: ``fd_publish`` ends with ``PUBLISH stream_key seq``, on the Pub/Sub
channel named like the stream's key (channels and keys are separate namespaces). No key is added
for it, and a PUBLISH nobody listens to costs Redis one lookup.

Subscriptions are served by one reader per bus (``cti.bus.redis_reader.StreamReader``): a Pub/Sub
connection subscribed to the channel of every followed stream tells it which streams have something
new, and a second connection fetches exactly those with one non-blocking ``XREAD`` (at most
``read_count`` entries per stream and read). The reader's work thus follows the streams that move,
not the number followed; every ``sweep_s`` it also re-reads every followed stream, in case a bell
was lost. ``block_ms`` is accepted for compatibility and ignored: nothing blocks on a stream any
more. Events a node appends itself are handed to its own subscriptions as soon as the append
returns (``deliver_appended``), and their bells then cause no read. Both connections are
made from the client's pool settings (a ``socket_timeout`` applies to the reads, never to the wait
for bells). The bus closes the client only if it created it (``from_url``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from cti.bus.memory import check_source_seq
from cti.bus.port import EventBus, Subscription
from cti.bus.redis_reader import (
    Appended,
    RedisSubscription,
    StreamReader,
    counter_key,
    seq_of,
    stream_key,
    text_of,
)
from cti.domain.events import Event, Resync

__all__ = [
    "PUBLISH_LUA",
    "PUBLISH_ONCE_MANY_SCRIPT",
    "PUBLISH_ONCE_SCRIPT",
    "PUBLISH_SCRIPT",
    "Appended",
    "RedisEventBus",
    "RedisSubscription",
    "counter_key",
    "decode_entry",
    "encode_data",
    "source_key",
    "stream_key",
]

PUBLISH_LUA = """
local function fd_publish(counter_key, stream_key, maxlen, trim, type, at, data)
  local seq = redis.call('INCR', counter_key)
  local text = string.format('%d', seq)
  redis.call('XADD', stream_key, 'MAXLEN', trim, maxlen, text .. '-0', 'type', type, 'at', at, 'data', data)
  redis.call('PUBLISH', stream_key, text)
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


# KEYS: source, counter and stream keys. ARGV: maxlen, trim, then (source seq, type, at, data) per
# event. Returns each event's seq, 0 where its source seq was not newer (skipped).
PUBLISH_ONCE_MANY_SCRIPT = PUBLISH_LUA + (
    "local first = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local last = first\n"
    "local seqs = {}\n"
    "for i = 3, #ARGV, 4 do\n"
    "  local src = tonumber(ARGV[i])\n"
    "  if src <= last then seqs[#seqs + 1] = 0 else\n"
    "    last = src\n"
    "    seqs[#seqs + 1] = fd_publish(KEYS[2], KEYS[3], ARGV[1], ARGV[2],\n"
    "                                 ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])\n"
    "  end\n"
    "end\n"
    "if last > first then redis.call('SET', KEYS[1], string.format('%d', last)) end\n"
    "return seqs\n"
)


def source_key(prefix: str, stream: str) -> str:
    return f"{prefix}:src:{stream}"


def encode_data(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_entry(stream: str, entry_id: bytes | str, fields: dict[Any, Any]) -> Event:
    """An ``Event`` from one stream entry (works with and without ``decode_responses``)."""
    text = {text_of(k): text_of(v) for k, v in fields.items()}
    return Event(stream, seq_of(entry_id), text["type"], int(text["at"]), json.loads(text["data"]))


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
        sweep_s: float = 5.0,
    ) -> None:
        """``read_count``: entries per stream and read; ``sweep_s``: how often every followed stream
        is re-read whether or not its bell rang; ``block_ms``: ignored (kept for callers)."""
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        if read_count < 1:
            raise ValueError("read_count must be at least 1")
        if sweep_s <= 0:
            raise ValueError("sweep_s must be positive")
        self.client = client
        self.prefix = prefix
        self.maxlen = maxlen
        self.trim = "=" if exact_trim else "~"
        self.block_ms = block_ms
        self.read_count = read_count
        self.sweep_s = sweep_s
        self._script = client.register_script(PUBLISH_SCRIPT)
        self._once_script = client.register_script(PUBLISH_ONCE_SCRIPT)
        self._once_many_script = client.register_script(PUBLISH_ONCE_MANY_SCRIPT)
        self._subs: set[RedisSubscription] = set()
        self.reader = StreamReader(self)
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
        text = encode_data(data)
        seq = await self._script(keys=keys, args=[self.maxlen, self.trim, type, at, text])
        self.deliver_appended(stream, [(int(seq), type, at, text)])
        return Event(stream, int(seq), type, at, data)

    async def publish_once(
        self, stream: str, source_seq: int, type: str, data: dict[str, Any], at: int
    ) -> Event | None:
        if self._closed:
            raise RuntimeError("event bus is closed")
        check_source_seq(source_seq)
        keys = [key(self.prefix, stream) for key in (source_key, counter_key, stream_key)]
        text = encode_data(data)
        seq = await self._once_script(keys=keys, args=[source_seq, self.maxlen, self.trim, type, at, text])
        if seq is None:
            return None
        self.deliver_appended(stream, [(int(seq), type, at, text)])
        return Event(stream, int(seq), type, at, data)

    async def publish_once_many(
        self, stream: str, items: Sequence[tuple[int, str, dict[str, Any], int]]
    ) -> list[Event | None]:
        if self._closed:
            raise RuntimeError("event bus is closed")
        if not items:
            return []
        args: list[str | int] = [self.maxlen, self.trim]
        texts = []
        for source_seq, type, data, at in items:
            check_source_seq(source_seq)
            texts.append(encode_data(data))
            args += [source_seq, type, at, texts[-1]]
        keys = [key(self.prefix, stream) for key in (source_key, counter_key, stream_key)]
        seqs = await self._once_many_script(keys=keys, args=args)
        appended = [
            (int(seq), type, at, text)
            for seq, (_, type, _, at), text in zip(seqs, items, texts, strict=True)
            if int(seq)
        ]
        self.deliver_appended(stream, appended)
        return [
            Event(stream, int(seq), type, at, data) if int(seq) else None
            for seq, (_, type, data, at) in zip(seqs, items, strict=True)
        ]

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
        if not entries or seq_of(entries[0][0]) != after_seq + 1:
            return Resync(stream, last, "trimmed")
        return [decode_entry(stream, entry_id, fields) for entry_id, fields in entries]

    async def last_seq(self, stream: str) -> int:
        return int(await self.client.get(counter_key(self.prefix, stream)) or 0)

    def subscribe(self, stream: str, after_seq: int | None = None, max_pending: int = 1000) -> Subscription:
        """Needs a running event loop (the bus's reader is a task, started by the first one)."""
        if self._closed:
            raise RuntimeError("event bus is closed")
        if after_seq is not None and after_seq < 0:
            raise ValueError("after_seq must not be negative")
        sub = RedisSubscription(self, stream, after_seq, max_pending)
        self._subs.add(sub)
        self.reader.add(sub)
        return sub

    async def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            await sub.close()
        await self.reader.close()
        if self._owns_client:
            self._owns_client = False
            await self.client.aclose()

    def deliver_appended(self, stream: str, appended: Appended) -> None:
        """This node's subscriptions get what it has just appended to ``stream``, given as ``(seq,
        type, at, data as stored)`` in seq order: the events an XREAD would give them, at once (see
        ``StreamReader.deliver_local``). The bus's own publishes call it; so does the Redis state
        store, whose scripts append with ``fd_publish``."""
        if appended and self.reader.follows(stream):
            events = [Event(stream, seq, type, at, json.loads(text)) for seq, type, at, text in appended]
            self.reader.deliver_local(stream, events)

    def _forget(self, sub: RedisSubscription) -> None:
        self._subs.discard(sub)
        self.reader.remove(sub)
