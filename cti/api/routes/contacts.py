"""Offers and calls in hand: accept, reject, hold, resume, hang up, wrap up; supervisor actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cti.api.deps import AgentLike, ServicesDep, Staff, Supervisor
from cti.api.schemas import ContactOut, MoveIn, PriorityIn, WrapUpIn
from cti.calls.service import WrapUp
from cti.domain.codes import OUTCOME_CODES, REASON_CODES
from cti.domain.errors import NotFound

router = APIRouter(prefix="/api", tags=["calls"])


@router.post("/offers/{offer_id}/accept", response_model=ContactOut)
async def accept(offer_id: str, user: AgentLike, svc: ServicesDep) -> ContactOut:
    return ContactOut.of(await svc.calls.accept(user.username, offer_id))


@router.post("/offers/{offer_id}/reject", response_model=ContactOut)
async def reject(offer_id: str, user: AgentLike, svc: ServicesDep) -> ContactOut:
    return ContactOut.of(await svc.calls.reject(user.username, offer_id))


@router.post("/contacts/{contact_id}/hold", response_model=ContactOut)
async def hold(contact_id: str, user: AgentLike, svc: ServicesDep) -> ContactOut:
    return ContactOut.of(await svc.calls.hold(user.username, contact_id))


@router.post("/contacts/{contact_id}/resume", response_model=ContactOut)
async def resume(contact_id: str, user: AgentLike, svc: ServicesDep) -> ContactOut:
    return ContactOut.of(await svc.calls.resume(user.username, contact_id))


@router.post("/contacts/{contact_id}/hangup", response_model=ContactOut)
async def hangup(contact_id: str, user: AgentLike, svc: ServicesDep) -> ContactOut:
    return ContactOut.of(await svc.calls.hangup(user.username, contact_id))


@router.post("/contacts/{contact_id}/wrap-up", response_model=ContactOut)
async def wrap_up(contact_id: str, body: WrapUpIn, user: AgentLike, svc: ServicesDep) -> ContactOut:
    wrap = WrapUp(body.outcome_code, body.first_contact_resolution, tuple(body.reason_codes))
    return ContactOut.of(await svc.calls.wrap_up(user.username, contact_id, wrap))


@router.get("/contacts/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: str, user: Staff, svc: ServicesDep) -> ContactOut:
    contact = await svc.store.get_contact(contact_id)
    if user.role in ("agent", "specialist") and contact.agent_id != user.username:
        raise NotFound(f"no contact {contact_id}", error_id="contact_not_found")  # don't confirm it exists
    return ContactOut.of(contact)


@router.get("/contacts/{contact_id}/decisions")
async def decisions(contact_id: str, user: Supervisor, svc: ServicesDep) -> list[dict[str, Any]]:
    """The routing-decision log: for each offer, the rule, the candidates and the winner."""
    return await svc.store.decisions(contact_id)


@router.post("/contacts/{contact_id}/move", response_model=ContactOut)
async def move(contact_id: str, body: MoveIn, user: Supervisor, svc: ServicesDep) -> ContactOut:
    contact = await svc.router.move(contact_id, body.queue)
    await svc.records.audit_view(
        actor=user.username,
        role=user.role,
        action="move_contact",
        subject_type="contact",
        subject_id=contact_id,
        reason=f"to {body.queue}",
    )
    return ContactOut.of(contact)


@router.post("/contacts/{contact_id}/priority", response_model=ContactOut)
async def priority(contact_id: str, body: PriorityIn, user: Supervisor, svc: ServicesDep) -> ContactOut:
    contact = await svc.router.set_priority(contact_id, body.priority)
    await svc.records.audit_view(
        actor=user.username,
        role=user.role,
        action="set_priority",
        subject_type="contact",
        subject_id=contact_id,
        reason=f"priority {body.priority}",
    )
    return ContactOut.of(contact)


@router.get("/codes")
async def codes(user: Staff) -> dict[str, dict[str, str]]:
    return {"outcomes": OUTCOME_CODES, "reasons": REASON_CODES}
