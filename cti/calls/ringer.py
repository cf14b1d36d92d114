"""Turns offers on the centre stream into ``Telephony.ring`` / ``stop_ringing`` commands.

Offers are made inside the state store (on enqueue, on an agent becoming available, by timers), so the
only place that sees them all is the event stream. The composition root starts one for every adapter.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from cti.bus.port import EventBus
from cti.domain.events import CENTRE_STREAM, Event, Resync
from cti.telephony.port import Telephony

log = structlog.get_logger(__name__)

# Offer events that end the ringing of the offered agent's phone.
OFFER_ENDED = frozenset({"offer.timed_out", "offer.rejected", "offer.cancelled", "offer.rescinded"})


class PhoneRinger:
    def __init__(self, bus: EventBus, telephony: Telephony) -> None:
        self.bus = bus
        self.telephony = telephony
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            after = await self.bus.last_seq(CENTRE_STREAM)
            self._task = asyncio.create_task(self._follow(after), name="phone-ringer")
            await self._ready.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, after: int) -> None:
        subscription = self.bus.subscribe(CENTRE_STREAM, after_seq=after, max_pending=10_000)
        self._ready.set()
        try:
            async for item in subscription:
                if isinstance(item, Resync):
                    # Missed offers are not replayed: a stale ring is worse than none, and offers
                    # time out on their own.
                    log.warning("ringer.resync", reason=item.reason, last_seq=item.last_seq)
                    continue
                try:
                    await self.apply(item)
                except Exception:
                    log.exception("ringer.failed", type=item.type, seq=item.seq)
        finally:
            await subscription.close()

    async def apply(self, event: Event) -> None:
        contact, agent = event.data.get("contact"), event.data.get("agent")
        if not isinstance(contact, str) or not isinstance(agent, str):
            return
        if event.type == "offer.created":
            await self.telephony.ring(contact, agent)
        elif event.type in OFFER_ENDED:
            await self.telephony.stop_ringing(contact, agent)
