"""The state store port.

The store is the one writer of contacts, offers and agents' engine state. Every operation is atomic:
it runs the state change, the matching that follows from it (offer a contact to the longest-idle
eligible agent, or an agent the first waiting contact it can serve) and the publication of the events
describing it, all or nothing. Under any interleaving no contact is offered to two agents and no agent
holds two offers.

Matching works on *targets*: a target is a routing queue (from configuration, including synthetic
overflow queues) or ``@agent`` (named-worker routing). A contact lists the targets it may be served
from; an agent lists the targets it serves. The order of waiting contacts is global:
``order_score(priority, enqueued_at)``; among idle available agents serving a target the longest idle
wins.

Timers (offer timeout, wrap-up timeout, routing stages) live in the store, so in Redis they survive a
process restart; any router process may fire them (``fire_due``), each exactly once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from cti.domain.model import Agent, Contact, Offer, RoutingPlan
from cti.domain.states import AgentStatus


@dataclass(frozen=True, slots=True)
class NewContact:
    id: str
    queue: str
    priority: int
    plan: RoutingPlan
    attrs: dict[str, Any]
    enqueued_at: int | None = None  # keep an earlier place (callback, transfer); None: now


class StateStore(ABC):
    # --- agents -----------------------------------------------------------------------------------
    @abstractmethod
    async def register_agent(self, agent_id: str, targets: list[str], now: int) -> Agent:
        """Create the agent (logged out) or update the targets it serves; keeps its state."""

    @abstractmethod
    async def set_status(
        self,
        agent_id: str,
        status: AgentStatus,
        reason: str | None,
        now: int,
        only_if: AgentStatus | None = None,
    ) -> Agent:
        """The agent's own choice. Logging out with a contact in hand is refused (Conflict).
        Becoming available while idle makes the agent routable and may create an offer.
        ``only_if``: change nothing (and return the agent as it is) unless its status is that one, in
        the same atomic step (e.g. presence making an *available* agent unreachable)."""

    # --- contacts ---------------------------------------------------------------------------------
    @abstractmethod
    async def enqueue(self, contact: NewContact, now: int) -> Contact:
        """A new contact joins the waiting order (and may be offered at once)."""

    @abstractmethod
    async def accept(self, offer_id: str, agent_id: str, now: int) -> Contact:
        """The offered agent answers: offer accepted, contact connected, agent busy."""

    @abstractmethod
    async def reject(self, offer_id: str, agent_id: str, now: int) -> Contact:
        """The offered agent declines: offer rejected, agent not ready ("rejected"), the contact keeps
        its place and is routed again."""

    @abstractmethod
    async def hangup(self, contact_id: str, now: int) -> Contact:
        """The caller hung up. Queued or offered: abandoned, any pending offer cancelled in the same
        step (the agent is released). Talking: the agent goes to wrap-up (with its timeout)."""

    @abstractmethod
    async def hold(self, contact_id: str, agent_id: str, now: int) -> Contact: ...

    @abstractmethod
    async def resume(self, contact_id: str, agent_id: str, now: int) -> Contact: ...

    @abstractmethod
    async def end_call(self, contact_id: str, agent_id: str, now: int) -> Contact:
        """The agent hung up: contact and agent go to wrap-up (with its timeout)."""

    @abstractmethod
    async def finish_wrap_up(self, contact_id: str, agent_id: str, now: int) -> Contact:
        """The agent completed wrap-up: contact closed, agent idle (and routable if available)."""

    @abstractmethod
    async def move(self, contact_id: str, queue: str, plan: RoutingPlan, now: int) -> Contact:
        """Supervisor: send a waiting contact to another queue, keeping its original enqueue time."""

    @abstractmethod
    async def set_priority(self, contact_id: str, priority: int, now: int) -> Contact:
        """Supervisor: change a waiting contact's priority (its enqueue time is kept)."""

    # --- timers -----------------------------------------------------------------------------------
    @abstractmethod
    async def fire_due(self, now: int, limit: int = 100) -> int:
        """Fire timers due at ``now``; returns how many fired. Safe to call from several processes."""

    @abstractmethod
    async def next_due(self) -> int | None:
        """When the next timer is due (epoch ms), or None."""

    # --- reads ------------------------------------------------------------------------------------
    @abstractmethod
    async def get_contact(self, contact_id: str) -> Contact: ...

    @abstractmethod
    async def get_agent(self, agent_id: str) -> Agent: ...

    @abstractmethod
    async def get_offer(self, offer_id: str) -> Offer: ...

    @abstractmethod
    async def agents(self) -> list[Agent]: ...

    @abstractmethod
    async def waiting(self, target: str | None = None) -> list[Contact]:
        """Contacts waiting (queued), in the global order; only those routable to ``target`` if given."""

    @abstractmethod
    async def decisions(self, contact_id: str) -> list[dict[str, Any]]:
        """Routing decisions made for the contact, oldest first: rule, candidates, winner, at."""

    @abstractmethod
    async def close(self) -> None: ...
