"""The supervisor stream's message types, as models: the machine-readable side of ``EVENTS.md``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cti.domain.events import Event

SUPERVISOR_STREAM = "supervisor"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueStats(_Message):
    """``queue.stats``: today's figures of one queue (Europe/London day)."""

    queue: str
    waiting: int = Field(ge=0)
    longest_wait_s: int = Field(ge=0)
    offered: int = Field(ge=0)
    answered: int = Field(ge=0)
    answered_within: int = Field(ge=0)
    abandoned: int = Field(ge=0)
    abandoned_after: int = Field(ge=0)
    service_level: float | None = Field(ge=0, le=1)
    abandon_rate: float | None = Field(ge=0, le=1)
    asa_s: float | None = Field(ge=0)
    threshold_s: int = Field(gt=0)
    target: float = Field(gt=0, le=1)
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    partial: bool


class AgentState(_Message):
    """``agent.state``: what an agent chose (status, reason) and what the engine does with them."""

    agent: str
    status: Literal["logged_out", "available", "not_ready"]
    reason: str | None
    engine: Literal["idle", "offered", "busy", "wrap_up", "reserved"]
    since: int = Field(ge=0)
    contact: str | None


class AlertData(_Message):
    """``alert.raised`` / ``alert.cleared``: ``queue`` for contact alerts, ``agent`` for agent ones."""

    id: str
    kind: Literal["potential_breach", "breach", "agent_unreachable"]
    queue: str | None = None
    agent: str | None = None
    contact: str | None = None
    at: int = Field(ge=0)
    detail: str

    @model_validator(mode="after")
    def _subject(self) -> AlertData:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("an alert names exactly one of 'queue' or 'agent'")
        if (self.kind == "agent_unreachable") != (self.agent is not None):
            raise ValueError(f"a {self.kind} alert is about {'an agent' if self.agent else 'a queue'}")
        return self


class ScriptOverride(_Message):
    """``script.override``: an agent overrode a triage script's outcome (published by ``scripts``)."""

    id: str
    session: str
    contact: str
    agent: str
    script: str  # script@version#hash
    outcome: str
    scripted_action: str
    override_action: str
    reason: str = Field(min_length=1, max_length=500)
    red_flag: bool
    at: int = Field(ge=0)


MESSAGE_TYPES: dict[str, type[_Message]] = {
    "queue.stats": QueueStats,
    "agent.state": AgentState,
    "alert.raised": AlertData,
    "alert.cleared": AlertData,
    "script.override": ScriptOverride,
}


class UnknownMessageType(ValueError):
    pass


def validate_supervisor_message(msg: Event | Mapping[str, Any]) -> BaseModel:
    """Check one supervisor message (an ``Event`` or its JSON ``{type, data, ...}``); returns its data
    as a model. Raises ``UnknownMessageType`` or pydantic's ``ValidationError``."""
    if isinstance(msg, Event):
        type_, data = msg.type, msg.data
    else:
        type_, data = msg["type"], msg["data"]
    model = MESSAGE_TYPES.get(type_)
    if model is None:
        raise UnknownMessageType(f"not a supervisor message type: {type_!r}")
    return model.model_validate(data)
