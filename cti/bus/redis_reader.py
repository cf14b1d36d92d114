"""One reader per Redis bus: every subscription of the node is served by a single ``XREAD BLOCK``.

A node with 2,000 connected agents follows about 2,000 streams. Instead of one connection and one task
per subscription, ``StreamReader`` keeps one dedicated connection that blocks on all the watched
streams at once (``XREAD COUNT n BLOCK ms STREAMS k1 .. kN id1 .. idN``) and hands each entry to the
subscriptions of its stream, in order, through their bounded ``Inbox``.

Per stream the reader reads from the lowest position among its subscriptions; each subscription skips
what it already has and checks the rest is contiguous: a gap (trimmed) gives ``Resync("trimmed")`` up
to the stream's counter, a full inbox gives ``Resync("overflow")`` up to the batch's newest entry, as
the port says. A new subscription is admitted between two reads (its starting point is fixed with one
pipelined ``GET`` of the counters, then ``ready()`` is set); if the reader is blocked at that moment,
it is woken with ``CLIENT UNBLOCK`` from another connection, so nobody waits for a block to expire.
Connection errors are retried with back-off; every subscription's position is then re-checked
against its counter (Redis may have lost data) before reading again.

The command is packed by hand from cached pieces (the key of each stream, and its position, re-encoded
only when it moves): packing 4,000 arguments with redis-py's generic packer costs about 2 ms, which
at hundreds of reads a second would be the node's main cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cti.bus.memory import Inbox
from cti.bus.port import Subscription
from cti.domain.events import Event, Resync
from cti.tasks import stop_task

if TYPE_CHECKING:
    from cti.bus.redis import RedisEventBus

log = logging.getLogger(__name__)

_RETRY_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
_UNBLOCK_RETRY_S = 0.002


def counter_key(prefix: str, stream: str) -> str:
    return f"{prefix}:seq:{stream}"


def stream_key(prefix: str, stream: str) -> str:
    return f"{prefix}:stream:{stream}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _seq_of(entry_id: bytes | str) -> int:
    return int(_text(entry_id).partition("-")[0])


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _fields(raw: Any) -> dict[str, str]:
    """An entry's fields, from a flat ``[f, v, f, v]`` list (raw reply) or a mapping."""
    if isinstance(raw, dict):
        return {_text(k): _text(v) for k, v in raw.items()}
    return {_text(raw[i]): _text(raw[i + 1]) for i in range(0, len(raw) - 1, 2)}


def decode_raw_entry(stream: str, entry_id: bytes | str, raw_fields: Any) -> Event:
    text = _fields(raw_fields)
    return Event(stream, _seq_of(entry_id), text["type"], int(text["at"]), json.loads(text["data"]))


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


class _Watched:
    """One stream the reader follows: its subscriptions and where the next read starts."""

    __slots__ = ("id_piece", "key", "key_piece", "read_pos", "stream", "subs")

    def __init__(self, stream: str, key: bytes, read_pos: int) -> None:
        self.stream = stream
        self.key = key
        self.key_piece = _bulk(key)
        self.subs: set[RedisSubscription] = set()
        self.read_pos = read_pos
        self.id_piece = _bulk(b"%d-0" % read_pos)

    def move(self, read_pos: int) -> None:
        if read_pos != self.read_pos:
            self.read_pos = read_pos
            self.id_piece = _bulk(b"%d-0" % read_pos)


class StreamReader:
    """The bus's single reader task and connection, started by the first subscription."""

    def __init__(self, bus: RedisEventBus) -> None:
        self._bus = bus
        self.client_name = re.sub(r"[^A-Za-z0-9_.:-]", "_", f"{bus.prefix}:bus-reader")
        self._watched: dict[str, _Watched] = {}  # by stream name
        self._by_key: dict[Any, _Watched] = {}  # by key as the reply gives it (bytes or str)
        self._admitting: list[RedisSubscription] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn_id: int | None = None
        self._reading = 0  # the number of the XREAD in flight (0: none)
        self._reads = 0
        self._unblocker: asyncio.Task[None] | None = None
        self._can_unblock = True
        self._encode = bus.client.connection_pool.get_encoder().encode  # type: ignore[no-untyped-call]

    @property
    def streams(self) -> int:
        return len(self._watched)

    def add(self, sub: RedisSubscription) -> None:
        self._admitting.append(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="bus-reader")
        self._wake_up()

    def remove(self, sub: RedisSubscription) -> None:
        with contextlib.suppress(ValueError):
            self._admitting.remove(sub)
        watched = self._watched.get(sub.stream)
        if watched is not None:
            watched.subs.discard(sub)
            if not watched.subs:
                del self._watched[sub.stream]
                self._by_key.pop(watched.key, None)
                self._by_key.pop(_text(watched.key), None)

    async def close(self) -> None:
        for task in (self._unblocker, self._task):
            if task is not None:
                await stop_task(task)
        self._unblocker = self._task = None

    # --- waking a blocked read ---------------------------------------------------------------------
    def _wake_up(self) -> None:
        self._wake.set()
        if self._reading and self._can_unblock and (self._unblocker is None or self._unblocker.done()):
            self._unblocker = asyncio.get_running_loop().create_task(self._unblock(), name="bus-unblock")

    async def _unblock(self) -> None:
        """``CLIENT UNBLOCK`` the read in flight; until Redis has it, it cannot be unblocked: retry."""
        read, conn_id = self._reading, self._conn_id
        while read and self._reading == read and conn_id is not None:
            try:
                if await self._bus.client.client_unblock(conn_id):
                    return
            except ResponseError as exc:  # not allowed (ACL): reads then end when their block does
                log.warning("event bus reader: CLIENT UNBLOCK refused (%s); relying on block_ms", exc)
                self._can_unblock = False
                return
            except (RedisError, OSError):
                return  # the reader retries on its own connection errors
            await asyncio.sleep(_UNBLOCK_RETRY_S)

    # --- the loop ----------------------------------------------------------------------------------
    async def _run(self) -> None:
        conn: AbstractConnection | None = None
        try:
            delay, check_all = 0.05, False
            while True:
                try:
                    if conn is None:
                        conn = await self._connect()
                    if check_all:
                        self._admitting.extend(s for w in self._watched.values() for s in w.subs)
                        check_all = False
                    if self._admitting:
                        await self._admit()
                    if not self._watched:
                        self._wake.clear()
                        if not self._admitting:
                            await self._wake.wait()
                        continue
                    await self._read(conn)
                    delay = 0.05
                except _RETRY_ERRORS as exc:
                    log.warning("event bus reader: %s; retrying in %.2fs", exc, delay)
                    if conn is not None:
                        await conn.disconnect()
                        conn = None
                    await asyncio.sleep(delay)
                    check_all, delay = True, min(delay * 2, 2.0)
        except Exception as exc:  # a bug or a bad entry: hand it to the consumers rather than hang
            log.exception("event bus reader failed")
            self._fail(exc)
        finally:
            self._reading = 0
            for sub in self._admitting:
                sub._ready.set()
            if conn is not None:
                await conn.disconnect()

    def _fail(self, exc: BaseException) -> None:
        subs = [*self._admitting, *(s for w in self._watched.values() for s in w.subs)]
        self._admitting.clear()
        self._watched.clear()
        self._by_key.clear()
        for sub in subs:
            sub._inbox.close(exc)
            sub._ready.set()

    async def _connect(self) -> AbstractConnection:
        conn = cast(AbstractConnection, self._bus.client.connection_pool.make_connection())  # type: ignore[no-untyped-call]
        try:
            await conn.connect()  # type: ignore[no-untyped-call]
            with contextlib.suppress(ResponseError):  # a name only helps operators (CLIENT LIST)
                await conn.send_command("CLIENT", "SETNAME", self.client_name)
                await conn.read_response()
            await conn.send_command("CLIENT", "ID")
            self._conn_id = int(await conn.read_response())
        except BaseException:
            await conn.disconnect()
            raise
        return conn

    async def _admit(self) -> None:
        """Fix the starting point of the subscriptions waiting to join, from their counters."""
        batch, self._admitting = self._admitting, []
        try:
            names = sorted({sub.stream for sub in batch})
            async with self._bus.client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.get(counter_key(self._bus.prefix, name))
                lasts = dict(zip(names, [int(v or 0) for v in await pipe.execute()], strict=True))
        except BaseException:
            self._admitting[:0] = batch
            raise
        for sub in batch:
            if sub._inbox.closed:
                continue
            last = lasts[sub.stream]
            if sub._position is None:
                sub._position = last
            elif sub._position > last:
                sub._inbox.resync(Resync(sub.stream, last, "trimmed"))
                sub._position = last
            watched = self._watched.get(sub.stream)
            if watched is None:
                key = self._encode(stream_key(self._bus.prefix, sub.stream))
                watched = self._watched[sub.stream] = _Watched(sub.stream, key, sub._position)
                self._by_key[key] = self._by_key[_text(key)] = watched
            elif sub._position < watched.read_pos:
                watched.move(sub._position)
            watched.subs.add(sub)
            sub._ready.set()

    def _command(self) -> bytes:
        watched = list(self._watched.values())
        count, block = str(self._bus.read_count).encode(), str(self._bus.block_ms).encode()
        head = [b"*%d\r\n" % (6 + 2 * len(watched)), _bulk(b"XREAD"), _bulk(b"COUNT"), _bulk(count)]
        head += [_bulk(b"BLOCK"), _bulk(block), _bulk(b"STREAMS")]
        return b"".join([*head, *(w.key_piece for w in watched), *(w.id_piece for w in watched)])

    async def _read(self, conn: AbstractConnection) -> None:
        self._wake.clear()
        self._reads += 1
        self._reading = self._reads
        try:
            await conn.send_packed_command(self._command())
            # The socket timeout, if any, must exceed block_ms (as for any blocking command).
            reply = await conn.read_response()
        finally:
            self._reading = 0
        for key, entries in _streams_of(reply):
            watched = self._by_key.get(key)
            if watched is not None and entries:
                await self._take(watched, entries)

    async def _take(self, watched: _Watched, entries: list[Any]) -> None:
        events = [decode_raw_entry(watched.stream, entry_id, fields) for entry_id, fields in entries]
        newest = events[-1].seq
        for sub in list(watched.subs):
            await self._deliver(sub, events, newest)
        watched.move(newest)

    async def _deliver(self, sub: RedisSubscription, events: list[Event], newest: int) -> None:
        position = sub._position
        assert position is not None
        for event in events:
            if event.seq <= position:
                continue
            if event.seq != position + 1:
                last = int(await self._bus.client.get(counter_key(self._bus.prefix, sub.stream)) or 0)
                sub._inbox.resync(Resync(sub.stream, last, "trimmed"))
                sub._position = last
                return
            if not sub._inbox.push(event):
                sub._inbox.resync(Resync(sub.stream, newest, "overflow"))
                sub._position = newest
                return
            position = sub._position = event.seq


class RedisSubscription(Subscription):
    """Fed by the bus's ``StreamReader``; owns only its bounded ``Inbox`` and its position."""

    def __init__(self, bus: RedisEventBus, stream: str, after_seq: int | None, max_pending: int) -> None:
        self.stream = stream
        self._bus = bus
        self._inbox = Inbox(max_pending)
        self._position = after_seq
        self._ready = asyncio.Event()
        self.client_name = bus.reader.client_name  # the reader's connection, shared by the node

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
