"""The desktop's REST side: the agent's snapshot and the screen-pop of a call offered to them.

Live messages go over the websocket (``cti.ws``), which serves the ``agent:{id}`` streams. These
endpoints are what a desktop fetches when it (re)starts. A screen-pop is shown only to the agent the
contact is (or was last) with: deny by default, no access by changing an id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cti.api.deps import AgentLike, ServicesDep
from cti.desktop.screenpop import screen_pop
from cti.desktop.snapshot import agent_snapshot
from cti.domain.errors import Forbidden

router = APIRouter(prefix="/api/desktop", tags=["desktop"])


@router.get("/me")
async def my_desktop(user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    """Agent state, the pending offer with its screen-pop, the contact in hand, and the stream's
    ``last_seq``: apply the ``agent:{id}`` messages after it on top."""
    return await agent_snapshot(svc, user.username)


@router.get("/screen-pop/{contact_id}")
async def my_screen_pop(contact_id: str, user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    """The summary for a contact offered to or handled by the signed-in agent (not audited: summary)."""
    contact = await svc.store.get_contact(contact_id)
    if contact.agent_id != user.username:
        raise Forbidden("this contact is not with you", error_id="not_your_contact")
    return await screen_pop(svc, contact_id)
