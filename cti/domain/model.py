"""Entities held by the state store. Plain data: the store is their one writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cti.domain.states import AgentStatus, ContactState, EngineState, OfferState

# Priorities run 0 (lowest) .. MAX_PRIORITY (most urgent).
MAX_PRIORITY = 9
_PRIORITY_SPAN = 10**13  # wider than any epoch-millisecond value until the year 2286


def order_score(priority: int, enqueued_at_ms: int) -> int:
    """The one global order of waiting contacts: higher priority first, then earlier enqueue.

    Lower score is served first. Fits a double exactly (< 2**53), so Redis sorted sets give the
    same order as the in-memory heaps.
    """
    return (MAX_PRIORITY - priority) * _PRIORITY_SPAN + enqueued_at_ms


def personal_target(agent_id: str) -> str:
    """The routing target that only one agent serves (named-worker routing)."""
    return "@" + agent_id


@dataclass(frozen=True, slots=True)
class Stage:
    """Targets a contact becomes routable to ``after_ms`` after it was enqueued."""

    after_ms: int
    targets: tuple[str, ...]
    rule: str  # why, for the decision log: "queue", "named_worker", "overflow"


@dataclass(frozen=True, slots=True)
class RoutingPlan:
    """Stage 0 applies at once; later stages widen the targets (overflow, named-worker fallback)."""

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        if not self.stages or self.stages[0].after_ms != 0:
            raise ValueError("a routing plan starts with a stage at 0 ms")


@dataclass(slots=True)
class Contact:
    id: str
    queue: str  # the queue it entered
    priority: int
    enqueued_at: int  # original enqueue time in ms, kept across requeue, overflow and callback
    state: ContactState
    targets: list[str]
    plan: RoutingPlan
    next_stage: int = 1
    attrs: dict[str, Any] = field(default_factory=dict)
    offer_id: str | None = None
    agent_id: str | None = None
    ended_at: int | None = None

    @property
    def score(self) -> int:
        return order_score(self.priority, self.enqueued_at)


@dataclass(slots=True)
class Agent:
    id: str
    targets: list[str]  # routing targets it serves, from its skills; always includes its personal one
    status: AgentStatus = AgentStatus.LOGGED_OUT
    reason: str | None = None
    engine: EngineState = EngineState.IDLE
    idle_since: int = 0
    offer_id: str | None = None
    contact_id: str | None = None
    status_since: int = 0


@dataclass(slots=True)
class Offer:
    id: str
    contact_id: str
    agent_id: str
    state: OfferState
    created_at: int
    expires_at: int
    rule: str


@dataclass(frozen=True, slots=True)
class Policy:
    """Timings the store enforces."""

    offer_timeout_ms: int = 20_000
    wrap_up_timeout_ms: int = 120_000
    decision_log_per_contact: int = 20
    retention_ms: int = 3_600_000  # how long a finished contact stays readable in the store
