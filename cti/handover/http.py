"""The handover API: thin resources over ``HandoverService`` (found in ``services.extras``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from cti.api.deps import AgentLike, ServicesDep, Staff
from cti.domain.errors import Conflict
from cti.handover.schemas import HandoverIn, LiveNoteIn
from cti.handover.service import HandoverService

router = APIRouter(prefix="/api", tags=["handover"])


def handover_service(svc: ServicesDep) -> HandoverService:
    service = svc.extras.get("handover")
    if not isinstance(service, HandoverService):
        raise Conflict("warm handover is not running", error_id="handover_not_installed")
    return service


Handovers = Annotated[HandoverService, Depends(handover_service)]


@router.post("/contacts/{contact_id}/handover", status_code=201)
async def ask(contact_id: str, body: HandoverIn, user: AgentLike, handovers: Handovers) -> dict[str, Any]:
    """Hold the caller and find a specialist; the note reaches them before the consult connects."""
    handover = await handovers.request(
        user.username, contact_id, body.note.to_note(), target=body.target, worker=body.worker
    )
    return handover.to_json()


@router.get("/handovers/{handover_id}")
async def read(handover_id: str, user: Staff, handovers: Handovers) -> dict[str, Any]:
    """In full to its two parties; to supervisors without the note's free text (summary first)."""
    handover = await handovers.visible(user.username, user.role, handover_id)
    return handover.to_json(detail=user.username in handover.parties())


@router.post("/handovers/{handover_id}/complete")
async def complete(handover_id: str, user: AgentLike, handovers: Handovers) -> dict[str, Any]:
    """Put the caller through to the specialist; the asking agent goes to wrap-up."""
    return (await handovers.complete(user.username, user.role, handover_id)).to_json()


@router.post("/handovers/{handover_id}/cancel")
async def cancel(handover_id: str, user: AgentLike, handovers: Handovers) -> dict[str, Any]:
    """Drop the consult and take the caller back."""
    return (await handovers.cancel(user.username, user.role, handover_id)).to_json()


@router.post("/handovers/{handover_id}/notes", status_code=201)
async def write_note(
    handover_id: str, body: LiveNoteIn, user: AgentLike, handovers: Handovers
) -> dict[str, Any]:
    """A note to the other side, live."""
    return (await handovers.add_note(user.username, user.role, handover_id, body.text)).to_json()
