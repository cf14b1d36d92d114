"""Turns offers on the centre stream into ``Telephony.ring`` / ``stop_ringing`` commands.

Offers are made inside the state store (on enqueue, on an agent becoming available, by timers), so the
only place that sees them all is the event stream. The composition root starts one for every adapter.
"""

from __future__ import annotations

import structlog

from cti.bus.port import EventBus
from cti.calls.follower import StreamFollower
from cti.domain.events import Event
from cti.telephony.port import Telephony

log = structlog.get_logger(__name__)

# Offer events that end the ringing of the offered agent's phone.
OFFER_ENDED = frozenset({"offer.timed_out", "offer.rejected", "offer.cancelled", "offer.rescinded"})


class PhoneRinger(StreamFollower):
    """Missed offers are not replayed after a resync: a stale ring is worse than none, and offers time
    out on their own."""

    name = "ringer"

    def __init__(self, bus: EventBus, telephony: Telephony) -> None:
        super().__init__(bus)
        self.telephony = telephony

    async def apply(self, event: Event) -> None:
        contact, agent = event.data.get("contact"), event.data.get("agent")
        if not isinstance(contact, str) or not isinstance(agent, str):
            return
        if event.type == "offer.created":
            await self.telephony.ring(contact, agent)
        elif event.type in OFFER_ENDED:
            await self.telephony.stop_ringing(contact, agent)
