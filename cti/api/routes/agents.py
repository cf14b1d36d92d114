"""Agent status: an agent sets their own; a supervisor may set anyone's (audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cti.api.deps import AgentLike, ServicesDep, Supervisor
from cti.api.schemas import AgentOut, ContactOut, StatusIn
from cti.domain.errors import NotFound
from cti.domain.states import AgentStatus

router = APIRouter(prefix="/api/agents", tags=["agents"])


@router.get("", response_model=list[AgentOut])
async def list_agents(user: Supervisor, svc: ServicesDep) -> list[AgentOut]:
    return [AgentOut.of(a) for a in await svc.store.agents()]


@router.get("/me")
async def my_state(user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    """The agent's own state, with the pending offer and the contact in hand (if any)."""
    agent = await svc.store.get_agent(user.username)
    out: dict[str, Any] = {"agent": AgentOut.of(agent).model_dump(), "offer": None, "contact": None}
    if agent.offer_id:
        offer = await svc.store.get_offer(agent.offer_id)
        out["offer"] = {
            "id": offer.id,
            "contact_id": offer.contact_id,
            "expires_at": offer.expires_at,
            "state": offer.state,
        }
    if agent.contact_id:
        try:
            out["contact"] = ContactOut.of(await svc.store.get_contact(agent.contact_id)).model_dump()
        except NotFound:
            out["contact"] = None
    return out


@router.put("/me/status", response_model=AgentOut)
async def set_my_status(body: StatusIn, user: AgentLike, svc: ServicesDep) -> AgentOut:
    agent = await svc.router.set_status(user.username, AgentStatus(body.status), body.reason)
    return AgentOut.of(agent)


@router.put("/{agent_id}/status", response_model=AgentOut)
async def set_status(agent_id: str, body: StatusIn, user: Supervisor, svc: ServicesDep) -> AgentOut:
    agent = await svc.router.set_status(agent_id, AgentStatus(body.status), body.reason)
    await svc.records.audit_view(
        actor=user.username,
        role=user.role,
        action="set_agent_status",
        subject_type="agent",
        subject_id=agent_id,
        reason=body.reason or body.status,
    )
    return AgentOut.of(agent)
