"""One bus subscription per stream per node, fanned out in-process to that stream's connections.

A feed starts when the first local connection of its stream joins and stops when the last leaves. Its
reader only encodes each event once and appends it to every member's outbox (never blocking), so a
slow client cannot delay the others. A ``Resync`` from the bus (the node's reader fell behind, or the
stream was trimmed under it) is passed to every member. If the reader fails or the bus ends the
stream, every member is closed with 1011 so that clients reconnect and resume with ``last_seq``.
"""

from __future__ import annotations

import asyncio

import structlog

from cti.bus.port import EventBus, Subscription
from cti.domain.events import Resync
from cti.tasks import stop_task
from cti.ws.messages import encode
from cti.ws.options import CLOSE_INTERNAL
from cti.ws.outbox import Encoded, Outbox

log = structlog.get_logger(__name__)


class StreamFeed:
    def __init__(self, bus: EventBus, stream: str, max_pending: int) -> None:
        self.stream = stream
        self.members: set[Outbox] = set()
        self.ready = asyncio.Event()  # set once the subscription's starting point is fixed
        self.position = 0  # newest seq handed to the members
        self._bus = bus
        self._max_pending = max_pending
        self._stopping = False
        self._failed = False
        self._task = asyncio.create_task(self._run(), name=f"ws-feed:{stream}")

    @property
    def usable(self) -> bool:
        """False once it has failed or is stopping: a new connection needs a new feed."""
        return not (self._stopping or self._failed or self._task.done())

    async def stop(self) -> None:
        self._stopping = True
        await stop_task(self._task)

    async def _run(self) -> None:
        sub: Subscription | None = None
        try:
            self.position = await self._bus.last_seq(self.stream)
            sub = self._bus.subscribe(self.stream, after_seq=self.position, max_pending=self._max_pending)
            self.ready.set()
            async for item in sub:
                if isinstance(item, Resync):
                    self.position = item.last_seq
                    for member in list(self.members):
                        member.resync(item)
                    continue
                encoded = Encoded(item.seq, encode(item.to_json()))
                self.position = item.seq
                for member in list(self.members):
                    member.put(encoded)
            if not self._stopping:
                self._fail("the event stream ended")
        except asyncio.CancelledError:
            if not self._stopping:
                self._fail("the event stream ended")
            raise
        except Exception:
            log.exception("ws.feed_failed", stream=self.stream)
            self._fail("the event stream failed")
        finally:
            self.ready.set()
            if sub is not None:
                await sub.close()

    def _fail(self, reason: str) -> None:
        self._failed = True
        for member in list(self.members):
            member.close(CLOSE_INTERNAL, reason)


class Feeds:
    """The node's feeds by stream, shared by its connections."""

    def __init__(self, bus: EventBus, max_pending: int) -> None:
        self._bus = bus
        self._max_pending = max_pending
        self._feeds: dict[str, StreamFeed] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._feeds)

    def get(self, stream: str) -> StreamFeed | None:
        return self._feeds.get(stream)

    def join(self, stream: str, outbox: Outbox) -> StreamFeed:
        if self._closed:
            raise RuntimeError("the feeds are closed")
        feed = self._feeds.get(stream)
        if feed is None or not feed.usable:
            feed = self._feeds[stream] = StreamFeed(self._bus, stream, self._max_pending)
        feed.members.add(outbox)
        return feed

    async def leave(self, feed: StreamFeed, outbox: Outbox) -> None:
        feed.members.discard(outbox)
        if not feed.members:
            if self._feeds.get(feed.stream) is feed:
                del self._feeds[feed.stream]
            await feed.stop()

    async def close(self) -> None:
        self._closed = True
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            await feed.stop()
