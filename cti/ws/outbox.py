"""Per-connection send queue and the client-message rate limit.

The outbox never blocks its producer (the stream's fan-out) and never drops silently: when more than
``limit`` events are waiting, everything waiting is replaced by one ``Resync(reason="overflow")`` whose
``last_seq`` covers the dropped events, and queueing continues after it. A client that still has not
caught up when the queue fills again keeps one (updated) Resync at the head: one per episode.

Control items (heartbeat, pong, error, snapshot request) have their own small queue that is served
first; they carry no stream data, so dropping the oldest when it is full loses nothing a client needs.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cti.domain.events import Resync

CONTROL_LIMIT = 32


class Encoded(NamedTuple):
    """A bus event, JSON-encoded once per node and shared by every connection of its stream."""

    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class Control:
    kind: str  # "heartbeat" | "pong" | "error" | "snapshot" (a request to send one)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CloseRequest:
    code: int
    reason: str


class Outbox:
    def __init__(self, stream: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.stream = stream
        self.limit = limit
        self.overflows = 0
        self.close_request: CloseRequest | None = None
        self._events: deque[Encoded | Resync] = deque()
        self._control: deque[Control] = deque(maxlen=CONTROL_LIMIT)
        self._wake = asyncio.Event()
        self._want = 1  # events waiting that wake the writer (more only while it gathers a run)

    @property
    def closed(self) -> bool:
        return self.close_request is not None

    @property
    def pending(self) -> int:
        return len(self._events)

    def put(self, item: Encoded) -> None:
        if self.closed:
            return
        if len(self._events) >= self.limit:
            self.overflows += 1
            self._events.clear()
            self._events.append(Resync(self.stream, item.seq, "overflow"))
            self._wake.set()
        else:
            self._events.append(item)
            if len(self._events) >= self._want:
                self._wake.set()

    def resync(self, resync: Resync) -> None:
        """The stream itself could not deliver (trimmed, or the node's reader fell behind)."""
        if not self.closed:
            self._events.clear()
            self._events.append(resync)
            self._wake.set()

    def control(self, item: Control) -> None:
        if not self.closed:
            self._control.append(item)
            self._wake.set()

    def close(self, code: int, reason: str) -> None:
        """Stop delivery; the writer ends and the connection is closed with ``code``."""
        if not self.closed:
            self.close_request = CloseRequest(code, reason)
            self._events.clear()
            self._control.clear()
            self._wake.set()

    def take_events(self, most: int) -> list[Encoded]:
        """Up to ``most`` events waiting at the head, stopping at a resync or a waiting control item
        (those keep their turn): what a writer can send in one go after ``get``."""
        out: list[Encoded] = []
        while len(out) < most and self._events and not self._control and not self.closed:
            head = self._events[0]
            if isinstance(head, Resync):
                break
            self._events.popleft()
            out.append(head)
        return out

    async def gather(self, most: int, window_s: float) -> None:
        """Wait up to ``window_s`` until ``most`` events are waiting, a control item arrives or the
        outbox closes; the events put meanwhile do not wake the writer one by one."""
        if len(self._events) >= most or self._control or self.closed:
            return
        self._want = most
        self._wake.clear()
        try:
            async with asyncio.timeout(window_s):
                await self._wake.wait()
        except TimeoutError:
            pass
        finally:
            self._want = 1

    async def get(self) -> Encoded | Resync | Control | None:
        """The next item, control first; None once closed."""
        while True:
            if self.closed:
                return None
            if self._control:
                return self._control.popleft()
            if self._events:
                return self._events.popleft()
            self._wake.clear()
            await self._wake.wait()


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; each message takes one."""

    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._now = now
        self._last = now()

    def take(self) -> bool:
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
