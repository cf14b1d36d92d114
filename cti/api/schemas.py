"""Request and response bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cti.domain.model import Agent, Contact


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    username: str


class StatusIn(Strict):
    status: Literal["available", "not_ready", "logged_out"]
    reason: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]+$")


class WrapUpIn(Strict):
    outcome_code: str = Field(min_length=1, max_length=64)
    first_contact_resolution: bool
    reason_codes: list[str] = Field(default_factory=list, max_length=10)


class MoveIn(Strict):
    queue: str = Field(min_length=1, max_length=64)


class PriorityIn(Strict):
    priority: int = Field(ge=0, le=9)


class SimCallIn(Strict):
    queue: str = Field(min_length=1, max_length=64)
    cli: str | None = Field(default=None, max_length=32)
    caller_type: Literal["professional", "public", "carer"] = "public"
    dialled: str = Field(default="+441164960000", max_length=32)
    nhs_number: str | None = Field(default=None, max_length=16)


class AgentOut(BaseModel):
    id: str
    status: str
    reason: str | None
    engine: str
    offer_id: str | None
    contact_id: str | None
    idle_since: int
    status_since: int
    targets: list[str]

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        return cls(
            id=agent.id,
            status=agent.status,
            reason=agent.reason,
            engine=agent.engine,
            offer_id=agent.offer_id,
            contact_id=agent.contact_id,
            idle_since=agent.idle_since,
            status_since=agent.status_since,
            targets=list(agent.targets),
        )


class ContactOut(BaseModel):
    id: str
    queue: str
    state: str
    priority: int
    enqueued_at: int
    agent_id: str | None
    offer_id: str | None
    targets: list[str]
    attrs: dict[str, Any]

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls(
            id=contact.id,
            queue=contact.queue,
            state=contact.state,
            priority=contact.priority,
            enqueued_at=contact.enqueued_at,
            agent_id=contact.agent_id,
            offer_id=contact.offer_id,
            targets=list(contact.targets),
            attrs=dict(contact.attrs),
        )
