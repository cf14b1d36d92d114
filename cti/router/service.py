"""Router service: applies configuration (hours, priorities, plans) and drives the state store.

The store does the matching atomically; the router decides *what* to ask of it: which queue a contact
really enters (opening hours), its priority (professional and repeat-caller boosts), its routing plan
(named worker first, overflow), and which targets an agent serves (skills). It also runs the timer loop
that fires offer, wrap-up and overflow timers held in the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.domain.errors import InvalidInput, NotFound
from cti.domain.model import MAX_PRIORITY, Agent, Contact, personal_target
from cti.domain.states import AgentStatus
from cti.state.port import NewContact, StateStore
from cti.tasks import stop_task

log = structlog.get_logger(__name__)

TIMER_POLL_S = 0.05  # other nodes may add timers: never sleep longer than this between checks


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a contact went: a queue (``contact`` set) or, out of hours, a number to transfer to."""

    queue: str | None
    contact: Contact | None
    transfer_to: str | None = None
    out_of_hours: bool = False


class Router:
    def __init__(self, store: StateStore, centre: CentreConfig, clock: Clock) -> None:
        self.store = store
        self.centre = centre
        self.clock = clock
        self._timer_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        now = self.clock.now_ms()
        for user in self.centre.users.values():
            if user.role in ("agent", "specialist"):
                await self.store.register_agent(user.username, self.targets_for(user.username), now)
        self._timer_task = asyncio.create_task(self._run_timers(), name="router-timers")

    async def stop(self) -> None:
        if self._timer_task is not None:
            await stop_task(self._timer_task)  # the loop may be inside a Redis call
            self._timer_task = None

    async def _run_timers(self) -> None:
        while True:
            try:
                now = self.clock.now_ms()
                while await self.store.fire_due(now) > 0:
                    now = self.clock.now_ms()
                due = await self.store.next_due()
                wait = TIMER_POLL_S if due is None else min(TIMER_POLL_S, max(0.0, (due - now) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:
                # A store hiccup (e.g. Redis restarting) must not end the timer loop.
                log.exception("router.timers_failed")
                wait = 0.5
            await asyncio.sleep(wait)

    # --- agents -------------------------------------------------------------------------------
    def targets_for(self, username: str) -> list[str]:
        user = self.centre.users.get(username)
        if user is None:
            raise NotFound(f"no user {username}", error_id="user_not_found")
        return [*self.centre.targets_for(dict(user.skills)), personal_target(username)]

    async def set_status(
        self,
        agent_id: str,
        status: AgentStatus,
        reason: str | None = None,
        only_if: AgentStatus | None = None,
    ) -> Agent:
        if status is AgentStatus.NOT_READY and not reason:
            reason = "not_ready"
        return await self.store.set_status(agent_id, status, reason, self.clock.now_ms(), only_if)

    # --- contacts -----------------------------------------------------------------------------
    def priority_for(self, queue: str, caller_type: str, repeat_caller: bool) -> int:
        policy = self.centre.routing
        priority = self.centre.queues[queue].base_priority
        if caller_type == "professional":
            priority += policy.professional_boost
        if repeat_caller:
            priority += policy.repeat_caller_boost
        return max(0, min(MAX_PRIORITY, priority))

    async def enqueue(
        self,
        contact_id: str,
        queue: str,
        *,
        caller_type: str = "public",
        attrs: dict[str, Any] | None = None,
        named_worker: str | None = None,
        repeat_caller: bool = False,
        enqueued_at: int | None = None,
        priority: int | None = None,
    ) -> Placement:
        """``priority`` (from the IVR) raises the contact above what its queue and boosts give."""
        if queue not in self.centre.queues:
            raise InvalidInput(f"unknown queue '{queue}'", error_id="unknown_queue", field="queue")
        now = self.clock.now_ms()
        when = datetime.fromtimestamp(now / 1000, tz=UTC)
        out_of_hours = False
        for _ in range(len(self.centre.queues)):  # follow out-of-hours destinations, never forever
            if self.centre.is_open(queue, when):
                break
            out_of_hours = True
            destination = self.centre.out_of_hours(queue)
            if destination.queue is None:
                log.info("router.out_of_hours_transfer", queue=queue, transfer_to=destination.transfer)
                return Placement(
                    queue=None, contact=None, transfer_to=destination.transfer, out_of_hours=True
                )
            queue = destination.queue
        if named_worker is not None:
            worker = await self._agent_or_none(named_worker)
            if worker is None or worker.status is AgentStatus.LOGGED_OUT:
                named_worker = None  # not on shift: go straight to the queue
        plan = self.centre.plan_for(queue, named_worker, self.centre.routing.named_worker_first_s * 1000)
        merged = dict(attrs or {})
        merged.update(caller_type=caller_type, repeat_caller=repeat_caller)
        if named_worker:
            merged["named_worker"] = named_worker
        contact = await self.store.enqueue(
            NewContact(
                id=contact_id,
                queue=queue,
                priority=min(
                    MAX_PRIORITY, max(self.priority_for(queue, caller_type, repeat_caller), priority or 0)
                ),
                plan=plan,
                attrs=merged,
                enqueued_at=enqueued_at,
            ),
            now,
        )
        return Placement(queue=queue, contact=contact, out_of_hours=out_of_hours)

    async def _agent_or_none(self, agent_id: str) -> Agent | None:
        try:
            return await self.store.get_agent(agent_id)
        except NotFound:
            return None

    async def accept(self, offer_id: str, agent_id: str) -> Contact:
        return await self.store.accept(offer_id, agent_id, self.clock.now_ms())

    async def reject(self, offer_id: str, agent_id: str) -> Contact:
        return await self.store.reject(offer_id, agent_id, self.clock.now_ms())

    async def hangup(self, contact_id: str) -> Contact:
        return await self.store.hangup(contact_id, self.clock.now_ms())

    async def hold(self, contact_id: str, agent_id: str) -> Contact:
        return await self.store.hold(contact_id, agent_id, self.clock.now_ms())

    async def resume(self, contact_id: str, agent_id: str) -> Contact:
        return await self.store.resume(contact_id, agent_id, self.clock.now_ms())

    async def end_call(self, contact_id: str, agent_id: str) -> Contact:
        return await self.store.end_call(contact_id, agent_id, self.clock.now_ms())

    async def finish_wrap_up(self, contact_id: str, agent_id: str) -> Contact:
        return await self.store.finish_wrap_up(contact_id, agent_id, self.clock.now_ms())

    async def move(self, contact_id: str, queue: str) -> Contact:
        if queue not in self.centre.queues:
            raise InvalidInput(f"unknown queue '{queue}'", error_id="unknown_queue", field="queue")
        plan = self.centre.plan_for(queue, None, 0)
        return await self.store.move(contact_id, queue, plan, self.clock.now_ms())

    async def set_priority(self, contact_id: str, priority: int) -> Contact:
        if not 0 <= priority <= MAX_PRIORITY:
            raise InvalidInput(
                f"priority must be 0..{MAX_PRIORITY}", error_id="invalid_priority", field="priority"
            )
        return await self.store.set_priority(contact_id, priority, self.clock.now_ms())
