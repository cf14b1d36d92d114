"""One reader per Redis bus, woken by doorbells: the cost of a read follows the streams that moved.

A node with 2,000 connected agents follows about 2,000 streams. Blocking on all of them at once
(``XREAD BLOCK`` naming every stream) makes every wake re-send the whole list, and Redis re-parse it
and re-register the block on every key: at hundreds of wakes a second that, not the events, becomes
the node's main cost. ``StreamReader`` instead keeps two connections for all the node's
subscriptions:

* a Pub/Sub connection subscribed to the doorbell channel of every followed stream (``fd_publish``
  publishes the new seq on the channel named like the stream's key, in the same script as the
  append). A bell marks its stream *rung*. A small task of its own reads this connection; the
  SUBSCRIBE and UNSUBSCRIBE commands (many channels each) are written by the reader task, which
  never reads it, so the connection always has exactly one reader.
* an ordinary connection on which, once the bells at hand are taken, one non-blocking
  ``XREAD COUNT n STREAMS <rung streams> <their positions>`` fetches what is new. A stream that
  returned ``n`` entries stays rung and is read again.

Admission (nothing may be missed): the stream's channel is subscribed and Redis's confirmation
awaited first; then the starting point is fixed with one pipelined ``GET`` of the counters, ``ready()``
is set, and the stream is marked rung once (a subscription resuming from an older point gets its
backlog without a new publish). On any connection error both connections are made anew with
back-off, every channel is subscribed again and every subscription re-admitted (its position
re-checked against its counter: Redis may have lost data), so every stream is read again. Every
``sweep_s`` all followed streams are marked rung anyway, in case a bell was lost (Redis drops a
Pub/Sub client whose output buffer overflows).

Per stream the reader reads from the lowest position among its subscriptions; each subscription skips
what it already has and checks the rest is contiguous: a gap (trimmed) gives ``Resync("trimmed")`` up
to the stream's counter, a full inbox gives ``Resync("overflow")`` up to the batch's newest entry, as
the port says.

Local delivery: the events this node appends (``RedisEventBus.publish*``) are handed to its own
subscriptions as soon as the append returns, without waiting for the bell and an XREAD: at hundreds
of calls a second the read of a node's own messages was most of the reader's work, and a hop of
latency. Each bell carries the seq it announces; a stream is read only when a bell announced more
than its ``read_pos`` (which local delivery moves once every subscription has the events), when the
sweep comes, or when it is admitted.

The XREAD is packed by hand from cached pieces (the key of each stream, and its position, re-encoded
only when it moves): with redis-py's generic packer a read naming many streams (after a reconnect or
a sweep) costs milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cti.bus.memory import Inbox
from cti.bus.port import Subscription
from cti.domain.events import Event, Resync
from cti.tasks import stop_task

if TYPE_CHECKING:
    from cti.bus.redis import RedisEventBus

log = logging.getLogger(__name__)

_RETRY_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_CHANNELS_PER_COMMAND = 500  # per SUBSCRIBE / UNSUBSCRIBE command


def counter_key(prefix: str, stream: str) -> str:
    return f"{prefix}:seq:{stream}"


def stream_key(prefix: str, stream: str) -> str:
    return f"{prefix}:stream:{stream}"


# What a node appended to a stream, in seq order: (seq, type, at, data as stored), as
# ``RedisEventBus.deliver_appended`` takes it.
Appended = list[tuple[int, str, int, str]]


def text_of(value: bytes | str) -> str:
    """A reply's string, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else value


def seq_of(entry_id: bytes | str) -> int:
    """The seq of a stream entry id (``<seq>-0``)."""
    return int(text_of(entry_id).partition("-")[0])


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _pack(*parts: bytes) -> bytes:
    return b"*%d\r\n%s" % (len(parts), b"".join(_bulk(part) for part in parts))


def _announced(payload: Any) -> int:
    """The seq a bell announces (``fd_publish`` publishes it as decimal text)."""
    try:
        return int(payload)
    except (TypeError, ValueError):
        return _ANY  # not ours: read the stream to be sure


def _client_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", name)


_XREAD, _COUNT, _STREAMS = _bulk(b"XREAD"), _bulk(b"COUNT"), _bulk(b"STREAMS")


def _fields(raw: Any) -> dict[str, str]:
    """An entry's fields, from a flat ``[f, v, f, v]`` list (raw reply) or a mapping."""
    if isinstance(raw, dict):
        return {text_of(k): text_of(v) for k, v in raw.items()}
    return {text_of(raw[i]): text_of(raw[i + 1]) for i in range(0, len(raw) - 1, 2)}


def decode_raw_entry(stream: str, entry_id: bytes | str, raw_fields: Any) -> Event:
    text = _fields(raw_fields)
    return Event(stream, seq_of(entry_id), text["type"], int(text["at"]), json.loads(text["data"]))


def _streams_of(reply: Any) -> list[tuple[Any, list[Any]]]:
    """``(key, entries)`` pairs of a raw multi-stream XREAD reply (RESP2 list or RESP3 map)."""
    if not reply:
        return []
    pairs = list(reply.items()) if isinstance(reply, dict) else [(item[0], item[1]) for item in reply]
    out = []
    for key, entries in pairs:
        if entries and isinstance(entries[0], list) and entries[0] and isinstance(entries[0][0], list):
            entries = entries[0]  # a RESP3 reply in the legacy wrapping
        out.append((key, list(entries)))
    return out


_ANY = 1 << 62  # ``_Watched.wanted`` when the stream must be read whatever its bells said


class _Watched:
    """One stream the reader follows: its subscriptions, where the next read starts (every
    subscription has everything up to ``read_pos``) and the newest seq a bell announced (``wanted``;
    ``_ANY`` to read it regardless)."""

    __slots__ = ("id_piece", "key", "key_piece", "read_pos", "stream", "subs", "wanted")

    def __init__(self, stream: str, key: bytes, read_pos: int) -> None:
        self.stream = stream
        self.key = key
        self.key_piece = _bulk(key)
        self.subs: set[RedisSubscription] = set()
        self.read_pos = read_pos
        self.id_piece = _bulk(b"%d-0" % read_pos)
        self.wanted = _ANY

    def move(self, read_pos: int) -> None:
        if read_pos != self.read_pos:
            self.read_pos = read_pos
            self.id_piece = _bulk(b"%d-0" % read_pos)


class StreamReader:
    """The bus's reader: a task and two connections, started by the first subscription.

    ``reads`` counts the XREADs issued and ``last_read_streams`` is how many streams the last one
    named; ``connects`` counts the times the connections were made (1 + reconnections)."""

    def __init__(self, bus: RedisEventBus) -> None:
        self._bus = bus
        self.client_name = _client_name(f"{bus.prefix}:bus-reader")  # the XREAD connection
        self.bell_name = _client_name(f"{bus.prefix}:bus-bells")  # the Pub/Sub connection
        self._watched: dict[str, _Watched] = {}  # by stream name
        self._by_key: dict[Any, _Watched] = {}  # by key as a reply gives it (bytes or str)
        self._admitting: list[RedisSubscription] = []
        self._held: set[RedisSubscription] = set()  # left to the reader alone (see deliver_local)
        self._rung: set[_Watched] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # The Pub/Sub connection, its listening task and the channels as sent on it.
        self._bells: AbstractConnection | None = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed: set[bytes] = set()
        self._leaving: set[bytes] = set()  # channels of streams no longer followed
        self._requested = 0  # channels named in SUBSCRIBE commands on this connection
        self._confirmed = 0  # subscribe confirmations received on it
        self._progress = asyncio.Event()
        self.reads = 0
        self.last_read_streams = 0
        self.connects = 0
        self._encode = bus.client.connection_pool.get_encoder().encode  # type: ignore[no-untyped-call]

    @property
    def streams(self) -> int:
        """The number of streams followed."""
        return len(self._watched)

    def follows(self, stream: str) -> bool:
        """True if a subscription of this node follows ``stream``."""
        return stream in self._watched

    @property
    def rung(self) -> int:
        """The number of streams marked to be read and not read yet."""
        return len(self._rung)

    def add(self, sub: RedisSubscription) -> None:
        self._admitting.append(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="bus-reader")
        self._wake.set()

    def remove(self, sub: RedisSubscription) -> None:
        if sub in self._admitting:
            self._admitting = [s for s in self._admitting if s is not sub]
        watched = self._watched.get(sub.stream)
        if watched is not None:
            watched.subs.discard(sub)
            if not watched.subs:
                del self._watched[sub.stream]
                self._by_key.pop(watched.key, None)
                self._by_key.pop(text_of(watched.key), None)
                self._rung.discard(watched)
                self._leaving.add(watched.key)
                self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
        self._task = None

    # --- the loop ----------------------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        data: AbstractConnection | None = None
        try:
            delay, next_sweep = 0.05, loop.time() + self._bus.sweep_s
            while True:
                try:
                    if data is None:
                        data = await self._connect_all()
                    self._check_bells()
                    if self._leaving:
                        await self._unsubscribe()
                    if self._admitting:
                        await self._admit()
                    now = loop.time()
                    if now >= next_sweep:
                        for watched in self._watched.values():
                            watched.wanted = _ANY
                        self._rung.update(self._watched.values())
                        next_sweep = now + self._bus.sweep_s
                    if self._rung:
                        await self._read(data)
                        delay = 0.05
                        continue
                    self._wake.clear()
                    if self._admitting or self._leaving or self._listener_done():
                        continue  # arrived while this round was waiting on Redis
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(next_sweep - now if self._watched else None):
                            await self._wake.wait()
                except _RETRY_ERRORS as exc:
                    log.warning("event bus reader: %s; retrying in %.2fs", exc, delay)
                    await self._disconnect(data)
                    data = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
        except Exception as exc:  # a bug or a bad entry: hand it to the consumers rather than hang
            log.exception("event bus reader failed")
            self._fail(exc)
        finally:
            for sub in self._admitting:
                sub._ready.set()
            await self._disconnect(data)

    def _fail(self, exc: BaseException) -> None:
        subs = [*self._admitting, *(s for w in self._watched.values() for s in w.subs)]
        self._admitting.clear()
        self._watched.clear()
        self._by_key.clear()
        self._rung.clear()
        for sub in subs:
            sub._inbox.close(exc)
            sub._ready.set()

    # --- connections -------------------------------------------------------------------------------
    async def _connect(self, name: str) -> AbstractConnection:
        conn = cast(AbstractConnection, self._bus.client.connection_pool.make_connection())  # type: ignore[no-untyped-call]
        try:
            await conn.connect()  # type: ignore[no-untyped-call]
            with contextlib.suppress(ResponseError):  # a name only helps operators (CLIENT LIST)
                await conn.send_command("CLIENT", "SETNAME", name)
                await conn.read_response()
        except BaseException:
            await conn.disconnect()
            raise
        return conn

    async def _connect_all(self) -> AbstractConnection:
        """Both connections, the bells listened to; every subscription is then admitted again."""
        data = await self._connect(self.client_name)
        try:
            self._bells = await self._connect(self.bell_name)
        except BaseException:
            await data.disconnect()
            raise
        self._subscribed.clear()
        self._leaving.clear()
        self._requested = self._confirmed = 0
        self._listener = asyncio.get_running_loop().create_task(self._listen(self._bells), name="bus-bells")
        known = set(self._admitting)
        self._admitting += [s for w in self._watched.values() for s in w.subs if s not in known]
        self.connects += 1
        return data

    async def _disconnect(self, data: AbstractConnection | None) -> None:
        listener, bells = self._listener, self._bells
        self._listener = self._bells = None
        if listener is not None:
            await stop_task(listener)
        for conn in (bells, data):
            if conn is not None:
                await conn.disconnect()

    # --- the bells ---------------------------------------------------------------------------------
    async def _listen(self, conn: AbstractConnection) -> None:
        """The only reader of the Pub/Sub connection: bells mark streams rung, confirmations count."""
        try:
            while True:
                # math.inf: wait as long as it takes (the client's socket_timeout is for replies).
                message = await conn.read_response(timeout=math.inf, disable_decoding=True, push_request=True)
                if not isinstance(message, list) or len(message) < 2:
                    continue
                kind = text_of(message[0])
                if kind == "message" and len(message) > 2:
                    watched = self._by_key.get(message[1])
                    if watched is not None:
                        watched.wanted = max(watched.wanted, _announced(message[2]))
                        self._rung.add(watched)
                        self._wake.set()
                elif kind == "subscribe":
                    self._confirmed += 1
                    self._progress.set()
        finally:
            self._progress.set()
            self._wake.set()

    def _listener_done(self) -> bool:
        return self._listener is None or self._listener.done()

    def _check_bells(self) -> None:
        """Raise what ended the listening task, if it ended."""
        if self._listener is not None and self._listener.done() and not self._listener.cancelled():
            exc = self._listener.exception()
            raise exc if exc is not None else RedisConnectionError("bell connection closed")
        if self._listener is None or self._bells is None or not self._bells.is_connected:
            raise RedisConnectionError("bell connection lost")

    async def _send_bells(self, verb: bytes, channels: list[bytes]) -> None:
        self._check_bells()
        assert self._bells is not None
        chunks = [
            channels[i : i + _CHANNELS_PER_COMMAND] for i in range(0, len(channels), _CHANNELS_PER_COMMAND)
        ]
        # Written while the listener waits on the same connection: only it reads the replies.
        await self._bells.send_packed_command([_pack(verb, *chunk) for chunk in chunks], check_health=False)

    async def _subscribe(self, channels: list[bytes]) -> None:
        """Subscribe the channels not yet subscribed and wait until Redis confirms them all."""
        new = [c for c in dict.fromkeys(channels) if c not in self._subscribed]
        if not new:
            return
        self._subscribed.update(new)
        self._requested += len(new)
        target = self._requested
        await self._send_bells(b"SUBSCRIBE", new)
        while self._confirmed < target:
            self._check_bells()
            self._progress.clear()
            await self._progress.wait()

    async def _unsubscribe(self) -> None:
        gone = [c for c in self._leaving if c in self._subscribed and c not in self._by_key]
        self._leaving.clear()
        if gone:
            self._subscribed.difference_update(gone)
            await self._send_bells(b"UNSUBSCRIBE", gone)

    # --- admission and reads -----------------------------------------------------------------------
    async def _admit(self) -> None:
        """Subscribe the bells of the subscriptions waiting to join, then fix their starting points
        from the counters; each of their streams is then read once."""
        batch, self._admitting = list(dict.fromkeys(self._admitting)), []
        self._held.update(batch)  # their starting points are being fixed: no local delivery meanwhile
        try:
            names = sorted({sub.stream for sub in batch if not sub._inbox.closed})
            keys = [self._key_of(name) for name in names]
            await self._subscribe(keys)
            lasts: dict[str, int] = {}
            if names:
                async with self._bus.client.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.get(counter_key(self._bus.prefix, name))
                    lasts = dict(zip(names, [int(v or 0) for v in await pipe.execute()], strict=True))
        except BaseException:
            self._admitting[:0] = batch
            raise
        finally:
            self._held.difference_update(batch)
        for sub in batch:
            if sub._inbox.closed:
                sub._ready.set()
                continue
            last = lasts[sub.stream]
            if sub._position is None:
                sub._position = last
            elif sub._position > last:
                sub._inbox.resync(Resync(sub.stream, last, "trimmed"))
                sub._position = last
            watched = self._watched.get(sub.stream)
            if watched is None:
                key = self._key_of(sub.stream)
                watched = self._watched[sub.stream] = _Watched(sub.stream, key, sub._position)
                self._by_key[key] = self._by_key[text_of(key)] = watched
            elif sub._position < watched.read_pos:
                watched.move(sub._position)
            watched.subs.add(sub)
            watched.wanted = _ANY
            self._rung.add(watched)
            sub._ready.set()
        # Subscribed for a subscription closed meanwhile: let the channel go again.
        self._leaving.update(key for key in keys if key not in self._by_key)

    def _key_of(self, stream: str) -> bytes:
        watched = self._watched.get(stream)
        if watched is not None:
            return watched.key
        return cast(bytes, self._encode(stream_key(self._bus.prefix, stream)))

    def _command(self, rung: list[_Watched]) -> bytes:
        count = str(self._bus.read_count).encode()
        head = b"*%d\r\n%s%s%s%s" % (4 + 2 * len(rung), _XREAD, _COUNT, _bulk(count), _STREAMS)
        return b"".join([head, *(w.key_piece for w in rung), *(w.id_piece for w in rung)])

    async def _read(self, conn: AbstractConnection) -> None:
        """One XREAD (not blocking) of the rung streams whose bells announced something beyond what
        their subscriptions have (``deliver_local`` may have handed it over already); a stream that
        filled its count stays rung."""
        rung = [w for w in self._rung if self._watched.get(w.stream) is w and w.wanted > w.read_pos]
        self._rung.clear()
        if not rung:
            return
        for w in rung:
            w.wanted = 0
        self.reads += 1
        self.last_read_streams = len(rung)
        await conn.send_packed_command(self._command(rung))
        reply = await conn.read_response()
        for key, entries in _streams_of(reply):
            watched = self._by_key.get(key)
            if watched is not None and entries:
                await self._take(watched, entries)
                if len(entries) >= self._bus.read_count and self._watched.get(watched.stream) is watched:
                    watched.wanted = _ANY
                    self._rung.add(watched)

    async def _take(self, watched: _Watched, entries: list[Any]) -> None:
        events = [decode_raw_entry(watched.stream, entry_id, fields) for entry_id, fields in entries]
        newest = events[-1].seq
        for sub in list(watched.subs):
            if not _push_run(sub, events, newest):  # a gap: the entries after the position are gone
                self._held.add(sub)
                try:
                    last = int(await self._bus.client.get(counter_key(self._bus.prefix, sub.stream)) or 0)
                finally:
                    self._held.discard(sub)
                sub._inbox.resync(Resync(sub.stream, last, "trimmed"))
                sub._position = last
        # deliver_local may have moved it further meanwhile; every subscription is at ``newest`` or past.
        watched.move(max(newest, watched.read_pos))

    def deliver_local(self, stream: str, events: list[Event]) -> None:
        """Hand events this node has just appended (in seq order) to its subscriptions of ``stream``
        at once, rather than after their bell and an XREAD. Only a run that continues a subscription's
        position is taken, so nothing is delivered twice or out of order: what is not taken here
        (appended concurrently and returned out of order, or a subscription being admitted or
        resynced) is read from the stream as usual. When every subscription has the events, the
        stream's read position moves past them and their bells are not followed by a read."""
        watched = self._watched.get(stream)
        if watched is None or not events:
            return
        newest, lowest = events[-1].seq, None
        for sub in watched.subs:
            if sub._position is not None and sub not in self._held:
                _push_run(sub, events, newest)
            if lowest is None or sub.position < lowest:
                lowest = sub.position
        if lowest is not None and lowest > watched.read_pos:
            watched.move(lowest)


def _push_run(sub: RedisSubscription, events: list[Event], newest: int) -> bool:
    """Queue the events that continue ``sub``'s position (those at or before it are skipped); a full
    inbox gives ``Resync("overflow")`` up to ``newest``. False at a gap (nothing queued past it)."""
    position = sub._position
    assert position is not None
    for event in events:
        if event.seq <= position:
            continue
        if event.seq != position + 1:
            return False
        if not sub._inbox.push(event):
            sub._inbox.resync(Resync(sub.stream, newest, "overflow"))
            sub._position = newest
            return True
        position = sub._position = event.seq
    return True


class RedisSubscription(Subscription):
    """Fed by the bus's ``StreamReader``; owns only its bounded ``Inbox`` and its position."""

    def __init__(self, bus: RedisEventBus, stream: str, after_seq: int | None, max_pending: int) -> None:
        self.stream = stream
        self._bus = bus
        self._inbox = Inbox(max_pending)
        self._position = after_seq
        self._ready = asyncio.Event()
        self.client_name = bus.reader.client_name  # the reader's XREAD connection, shared by the node

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
        self._ready.set()
        self._bus._forget(self)
