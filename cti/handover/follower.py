"""Follows the centre stream for what happens to handed-over calls (the router's own events)."""

from __future__ import annotations

from cti.bus.port import EventBus
from cti.calls.follower import StreamFollower
from cti.domain.events import Event, Resync
from cti.handover.model import is_consult_contact
from cti.handover.reactions import HandoverReactions

REACTS_TO = frozenset({"offer.created", "offer.accepted", "contact.wrap_up", "contact.abandoned"})
# Events that matter only on a consult contact: told from its id, no lookup for every other call.
CONSULT_ONLY = frozenset({"offer.created", "offer.accepted", "contact.abandoned"})


class HandoverFollower(StreamFollower):
    name = "handover"

    def __init__(self, bus: EventBus, handovers: HandoverReactions) -> None:
        super().__init__(bus)
        self.handovers = handovers

    async def apply(self, event: Event) -> None:
        contact = event.data.get("contact")
        if (
            event.type not in REACTS_TO
            or not isinstance(contact, str)
            or (event.type in CONSULT_ONLY and not is_consult_contact(contact))
            or not await self.handovers.ours(contact)
        ):
            return
        agent = event.data.get("agent")
        match event.type:
            case "offer.created" if isinstance(agent, str):
                await self.handovers.consult_offered(contact, agent)
            case "offer.accepted" if isinstance(agent, str):
                await self.handovers.specialist_answered(contact, agent)
            case "contact.wrap_up":
                await self.handovers.contact_wrapped_up(contact, str(event.data.get("by", "")))
            case "contact.abandoned":
                await self.handovers.consult_abandoned(contact)
            case _:
                return

    async def on_resync(self, resync: Resync) -> None:
        await super().on_resync(resync)
        await self.handovers.reconcile()
