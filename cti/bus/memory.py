"""In-process event bus: a bounded ring buffer per stream and a bounded queue per subscriber.

``MemoryEventBus.append`` is synchronous so the in-memory state store can publish inside its atomic
(no-await) critical section; ``publish`` is ``append`` behind the async port.

``Inbox`` is the per-subscriber queue shared with the Redis adapter. Its producer never blocks and
never grows it past ``max_pending``: when it is full, everything pending is replaced by a single
``Resync(reason="overflow")`` and delivery continues after that Resync's ``last_seq``. A subscriber
that still has not read when the queue fills again keeps one (updated) Resync at the head, so it sees
exactly one Resync per episode of falling behind, never a silent gap.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from itertools import islice
from typing import Any

from cti.bus.port import EventBus, Subscription
from cti.domain.events import Event, Resync

_REPLAY_CHUNK = 256


class Inbox:
    """A subscriber's bounded queue of events; never blocks the producer, never drops silently."""

    def __init__(self, max_pending: int) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self.max_pending = max_pending
        self._queue: asyncio.Queue[Event | Resync | None] = asyncio.Queue(max_pending)
        self._closed = False
        self._error: BaseException | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def push(self, event: Event) -> bool:
        """Queue ``event``; False (and nothing queued) if the queue is full."""
        if self._closed:
            return True
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            return False
        return True

    def resync(self, resync: Resync) -> None:
        """Replace everything pending with ``resync``: a snapshot supersedes the events before it."""
        if not self._closed:
            self._replace(resync)

    def close(self, error: BaseException | None = None) -> None:
        """Stop delivery; a consumer waiting in ``get`` ends (or gets ``error``)."""
        if not self._closed:
            self._closed = True
            self._error = error
            self._replace(None)

    async def get(self) -> Event | Resync:
        """The next item; ``StopAsyncIteration`` once closed (after raising the error, if any)."""
        if self._closed and self._error is None:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            error, self._error = self._error, None
            if error is not None:
                raise error
            raise StopAsyncIteration
        return item

    def _replace(self, item: Event | Resync | None) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(item)


class _Stream:
    """A stream's retained events, kept as ``(seq, type, at, data as JSON)``: flat tuples of strings
    and numbers, which the garbage collector stops tracking, rather than thousands of live dicts
    it would scan at every collection (each retained screen-pop is a tree of dicts and lists).
    Replays decode them, like the Redis bus."""

    __slots__ = ("events", "last", "name", "source", "subs")

    def __init__(self, name: str, maxlen: int) -> None:
        self.name = name
        self.events: deque[tuple[int, str, int, str]] = deque(maxlen=maxlen)
        self.last = 0
        self.source = 0  # the last source seq accepted by publish_once
        self.subs: set[MemorySubscription] = set()

    def first(self) -> int:
        """The oldest retained sequence number (``last + 1`` when nothing is retained)."""
        return self.last - len(self.events) + 1

    def after(self, after_seq: int, limit: int) -> list[Event]:
        """Retained events with seq > ``after_seq`` (which must be retained or the newest)."""
        start = after_seq - self.first() + 1
        return [
            Event(self.name, seq, type, at, json.loads(data))
            for seq, type, at, data in islice(self.events, start, start + limit)
        ]


class MemoryEventBus(EventBus):
    """Events held in memory, ``maxlen_per_stream`` newest per stream.

    Payloads must be JSON (as on Redis): each is retained as its JSON text. ``json_roundtrip=True``
    also hands live subscribers ``json.loads`` of that text (use it in tests); otherwise they get a
    shallow copy, which must not be mutated afterwards.
    """

    def __init__(self, maxlen_per_stream: int = 10_000, *, json_roundtrip: bool = False) -> None:
        if maxlen_per_stream < 1:
            raise ValueError("maxlen_per_stream must be at least 1")
        self._maxlen = maxlen_per_stream
        self._json = json_roundtrip
        self._streams: dict[str, _Stream] = {}
        self._subs: set[MemorySubscription] = set()
        self._closed = False

    def append(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event:
        """Publish synchronously: numbered, retained and handed to every live subscriber at once."""
        if self._closed:
            raise RuntimeError("event bus is closed")
        st = self._streams.get(stream)
        if st is None:
            st = self._streams[stream] = _Stream(stream, self._maxlen)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        payload = json.loads(text) if self._json else dict(data)
        st.last += 1
        event = Event(stream, st.last, type, at, payload)
        st.events.append((st.last, type, at, text))
        for sub in st.subs:
            sub._deliver(event)
        return event

    async def publish(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event:
        return self.append(stream, type, data, at)

    async def publish_once(
        self, stream: str, source_seq: int, type: str, data: dict[str, Any], at: int
    ) -> Event | None:
        check_source_seq(source_seq)
        st = self._stream(stream)
        if source_seq <= st.source:
            return None
        # No await between the check and the append: atomic under asyncio.
        event = self.append(stream, type, data, at)
        st.source = source_seq
        return event

    async def read_after(self, stream: str, after_seq: int, limit: int = 1000) -> list[Event] | Resync:
        _check_read(after_seq, limit)
        st = self._streams.get(stream)
        last = st.last if st is not None else 0
        if after_seq == last:
            return []
        if st is None or after_seq > last or after_seq < st.first() - 1:
            return Resync(stream, last, "trimmed")
        return st.after(after_seq, limit)

    async def last_seq(self, stream: str) -> int:
        st = self._streams.get(stream)
        return st.last if st is not None else 0

    def subscribe(self, stream: str, after_seq: int | None = None, max_pending: int = 1000) -> Subscription:
        if self._closed:
            raise RuntimeError("event bus is closed")
        if after_seq is not None and after_seq < 0:
            raise ValueError("after_seq must not be negative")
        sub = MemorySubscription(self, stream, after_seq, max_pending)
        self._subs.add(sub)
        return sub

    async def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            await sub.close()

    # --- used by MemorySubscription ------------------------------------------------------------------
    def _stream(self, stream: str) -> _Stream:
        st = self._streams.get(stream)
        if st is None:
            st = self._streams[stream] = _Stream(stream, self._maxlen)
        return st

    def _forget(self, sub: MemorySubscription) -> None:
        self._subs.discard(sub)
        st = self._streams.get(sub.stream)
        if st is not None:
            st.subs.discard(sub)


class MemorySubscription(Subscription):
    """Replays lazily from the ring, then switches to live delivery with no await between the last
    replayed event and registering, so there is no gap and no duplicate.

    While replaying it holds no queue (the ring is the backlog), so it cannot overflow; if it is
    overtaken by trimming it gets ``Resync("trimmed")``. Once live it can overflow.
    """

    def __init__(self, bus: MemoryEventBus, stream: str, after_seq: int | None, max_pending: int) -> None:
        self.stream = stream
        self._bus = bus
        self._inbox = Inbox(max_pending)
        self._buffer: deque[Event] = deque()
        self._replaying = after_seq is not None
        self._position = 0
        if after_seq is None or after_seq == bus._stream(stream).last:
            self._go_live()
        else:
            self._position = after_seq

    @property
    def position(self) -> int:
        """The newest seq taken from the stream: queued, delivered or covered by a Resync."""
        return self._position

    @property
    def pending(self) -> int:
        return self._inbox.pending + len(self._buffer)

    async def ready(self) -> None:
        """The starting point is fixed as soon as ``subscribe`` returns."""

    def __aiter__(self) -> AsyncIterator[Event | Resync]:
        return self

    async def __anext__(self) -> Event | Resync:
        if self._inbox.closed:
            raise StopAsyncIteration
        if self._replaying:
            item = self._next_replayed()
            if item is not None:
                return item
        return await self._inbox.get()

    async def close(self) -> None:
        self._inbox.close()
        self._buffer.clear()
        self._replaying = False
        self._bus._forget(self)

    def _deliver(self, event: Event) -> None:
        self._position = event.seq
        if not self._inbox.push(event):
            self._inbox.resync(Resync(self.stream, event.seq, "overflow"))

    def _go_live(self) -> None:
        st = self._bus._stream(self.stream)
        self._replaying = False
        self._position = st.last
        st.subs.add(self)

    def _next_replayed(self) -> Event | Resync | None:
        if self._buffer:
            return self._buffer.popleft()
        st = self._bus._stream(self.stream)
        cursor = self._position
        if cursor < st.first() - 1 or cursor > st.last:
            self._go_live()
            return Resync(self.stream, st.last, "trimmed")
        if cursor == st.last:
            self._go_live()
            return None
        chunk = st.after(cursor, _REPLAY_CHUNK)
        self._position = chunk[-1].seq
        self._buffer.extend(chunk[1:])
        return chunk[0]


def check_source_seq(source_seq: int) -> None:
    if isinstance(source_seq, bool) or not isinstance(source_seq, int) or source_seq < 1:
        raise ValueError("source_seq must be a positive integer")


def _check_read(after_seq: int, limit: int) -> None:
    if after_seq < 0:
        raise ValueError("after_seq must not be negative")
    if limit < 1:
        raise ValueError("limit must be at least 1")
