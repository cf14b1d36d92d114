"""An agent's whole desktop state at once: for a client whose resume point has been trimmed away.

The stream's last seq is read FIRST: whatever changes after that read is also on the stream after
``last_seq``, so a client that applies the snapshot and then the messages after ``last_seq`` misses
nothing (it may see a change twice, which is harmless: messages carry states, not deltas).
"""

from __future__ import annotations

from typing import Any

from cti.auth.service import Principal
from cti.desktop.catalogue import agent_stream
from cti.desktop.screenpop import screen_pop
from cti.desktop.sources import DesktopSources
from cti.domain.errors import NotFound
from cti.domain.states import OfferState


async def agent_snapshot(services: DesktopSources, agent_id: str) -> dict[str, Any]:
    """Raises ``NotFound`` for an unknown agent."""
    stream = agent_stream(agent_id)
    last_seq = await services.bus.last_seq(stream)
    agent = await services.store.get_agent(agent_id)
    offer: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    if agent.offer_id is not None:
        offer = await _offer(services, agent.offer_id)
    elif agent.contact_id is not None:
        contact = await _contact(services, agent.contact_id)
    return {
        "agent": agent_id,
        "stream": stream,
        "last_seq": last_seq,
        "state": {
            "status": str(agent.status),
            "reason": agent.reason,
            "engine": str(agent.engine),
            "since": agent.status_since,
        },
        "offer": offer,
        "contact": contact,
    }


async def agent_snapshot_provider(services: DesktopSources, principal: Principal) -> dict[str, Any]:
    """``agent_snapshot`` in the shape of the websocket hub's snapshot providers (kind ``"agent"``)."""
    return await agent_snapshot(services, principal.username)


async def _offer(services: DesktopSources, offer_id: str) -> dict[str, Any] | None:
    try:
        offer = await services.store.get_offer(offer_id)
    except NotFound:
        return None
    if offer.state is not OfferState.PENDING:
        return None
    decisions = await services.store.decisions(offer.contact_id)
    decision = next((d for d in reversed(decisions) if d.get("offer") == offer.id), None)
    return {
        "offer": offer.id,
        "contact": offer.contact_id,
        "expires_at": offer.expires_at,
        "screen_pop": await screen_pop(services, offer.contact_id, decision=decision),
    }


async def _contact(services: DesktopSources, contact_id: str) -> dict[str, Any] | None:
    try:
        contact = await services.store.get_contact(contact_id)
        pop = await screen_pop(services, contact_id)
    except NotFound:
        return None
    return {"contact": contact.id, "state": str(contact.state), "queue": contact.queue, "screen_pop": pop}
