"""An agent's whole desktop state at once: for a client whose resume point has been trimmed away.

The stream's last seq is read FIRST: whatever changes after that read is also on the stream after
``last_seq``, so a client that applies the snapshot and then the messages after ``last_seq`` misses
nothing (it may see a change twice, which is harmless: messages carry states, not deltas).

Warm handovers come from the handover service (``services.extras["handover"]``, when it runs): the
active ones the agent is a party to, and the one the contact in hand belongs to (a specialist still
on the call after it completed). The specialist's copy carries the caller's context, as the
``handover.note`` did (and, like it, the view of the person is audited).
"""

from __future__ import annotations

from typing import Any

import structlog

from cti.auth.service import Principal
from cti.desktop.catalogue import agent_stream
from cti.desktop.screenpop import screen_pop
from cti.desktop.sources import DesktopSources
from cti.domain.errors import NotFound
from cti.domain.states import OfferState
from cti.handover.context import caller_context
from cti.handover.model import Handover
from cti.handover.service import HandoverService

log = structlog.get_logger(__name__)


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
        "handovers": await _handovers(services, agent_id, agent.contact_id),
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


async def _handovers(services: DesktopSources, agent_id: str, contact_id: str | None) -> list[dict[str, Any]]:
    extras = getattr(services, "extras", None)
    service = extras.get("handover") if isinstance(extras, dict) else None
    if not isinstance(service, HandoverService):
        return []  # the handover service is not running (e.g. a bare desktop test)
    found: dict[str, Handover] = {}
    try:
        for handover in await service.handovers.active():
            if agent_id in handover.parties():
                found[handover.id] = handover
        if contact_id is not None:
            which = await service.handovers.which(contact_id)
            if which is not None and which not in found:
                theirs = await service.handovers.find(which)
                if theirs is not None and agent_id in theirs.parties():
                    found[theirs.id] = theirs
    except Exception:
        # The rest of the desktop must still come back; the handover panel waits for the next message.
        log.exception("desktop.snapshot_handovers_failed", agent=agent_id)
        return []
    out = []
    for handover in sorted(found.values(), key=lambda h: h.created_at):
        context = None
        if handover.specialist == agent_id:
            user = services.centre.users.get(agent_id)
            role = user.role if user is not None else "agent"
            context = await caller_context(
                handover, agent_id, role, services.store, services.records, services.clock
            )
        out.append({**handover.to_json(detail=True), "context": context})
    return out
