"""Following the centre stream: the shared loop of everything that reacts to the router's events."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import structlog

from cti.bus.port import EventBus
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.tasks import stop_task

log = structlog.get_logger(__name__)


class StreamFollower(ABC):
    """Applies each event of the centre stream, from the moment ``start`` returns, in order.

    One event failing is logged and skipped: a follower must not stop following.
    """

    name = "follower"

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.last_seq = 0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self.last_seq = await self.bus.last_seq(CENTRE_STREAM)
            self._task = asyncio.create_task(self._follow(), name=self.name)
            await self._ready.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task)  # a follower may be inside a Redis call

    async def _follow(self) -> None:
        subscription = self.bus.subscribe(CENTRE_STREAM, after_seq=self.last_seq, max_pending=10_000)
        self._ready.set()
        try:
            async for item in subscription:
                if isinstance(item, Resync):
                    await self.on_resync(item)
                    continue
                try:
                    await self.apply(item)
                except Exception:
                    log.exception(f"{self.name}.failed", type=item.type, seq=item.seq)
                self.last_seq = item.seq
        finally:
            await subscription.close()

    async def on_resync(self, resync: Resync) -> None:
        log.warning(f"{self.name}.resync", reason=resync.reason, last_seq=resync.last_seq)

    @abstractmethod
    async def apply(self, event: Event) -> None: ...
