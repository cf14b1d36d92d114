"""The agent desktop feed: the centre stream turned into each agent's own stream, and the phone rung.

Every node follows the centre stream and derives the same messages from each event; ``publish_once``
lets the first node to publish a message append it and makes the others skip it, so each message is
on ``agent:{id}`` exactly once with a dense per-agent seq (what a reconnecting desktop resumes from).
The source seq of a message is ``centre seq * FANOUT + its index`` among the messages the event gives
that agent: which messages an event gives is decided from the event alone, never from a read, so every
node numbers them alike.

Ringing lives here (not in a separate follower) so that the screen-pop is on the agent's stream
before the phone rings: the node that published ``offer.created`` rings (exactly one per offer), the
node that published ``offer.ended`` stops the ringing. The ringing node remembers the offers it rang
and stops the ringing too when it handles the offer's end, whoever published it: another node may
have published the end, and stopped the ringing, before this node's ring went out (lesson 6). Each
agent's events are handled in order, so that stop always comes after the ring; a stop may come twice
and adapters treat it as idempotent. If the ringing node dies before ringing, the offer times out and
the call is offered again (lesson 5).

The messages one event gives an agent are built first, then published in one step
(``publish_once_many``: one Redis round trip), then the phone is rung.

Without pop sources (a composition without records, ``sources=None``) it only rings and stops
ringing, on every node, as the phone ringer it replaces did.

Agents are served concurrently, each in order: an event's messages are built and published in a task
chained after the previous one for the same agent (``publish_once`` orders per agent stream only), so
one slow screen-pop does not hold up the offers to other agents. At most ``MAX_IN_FLIGHT`` events are
in hand at once (following waits beyond that); ``stop`` lets those in hand finish.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from cti.bus.port import EventBus
from cti.calls.follower import StreamFollower
from cti.desktop.catalogue import agent_stream
from cti.desktop.screenpop import fallback_pop, screen_pop
from cti.desktop.snapshot import agent_snapshot
from cti.desktop.sources import PopSources
from cti.domain.errors import NotFound
from cti.domain.events import Event
from cti.tasks import stop_task
from cti.telephony.port import Telephony

__all__ = ["FANOUT", "OFFER_ENDED", "DesktopFeed", "agent_snapshot", "plan"]

log = structlog.get_logger(__name__)

FANOUT = 4  # more than the most messages one centre event gives one agent
POP_TIMEOUT_S = 0.8  # the target is a pop within 1 s; past this the offer goes out without one
MAX_IN_FLIGHT = 8  # events turned into messages at once, each agent's in order (below the DB pool)
DRAIN_S = 5.0  # how long ``stop`` waits for the events in hand
RANG_MAX = 10_000  # offers rung and not yet ended that a node remembers (the oldest is forgotten)

OFFER_ENDED = {
    "offer.timed_out": "timed_out",
    "offer.rejected": "rejected",
    "offer.cancelled": "cancelled",
    "offer.rescinded": "rescinded",
}
# centre event -> (the contact's state now, what happened)
CONTACT_CHANGES = {
    "offer.accepted": ("connected", "connected"),
    "contact.held": ("held", "held"),
    "contact.resumed": ("connected", "resumed"),
    "contact.wrap_up": ("wrap_up", "wrap_up"),
    "contact.closed": ("closed", "closed"),
}
# Engine changes the store makes without an ``agent.engine`` event of their own.
IMPLIED_ENGINE = {"offer.created": "offered", "offer.accepted": "busy", "contact.wrap_up": "wrap_up"}
CONTACT_FIELDS = ("offer", "queue", "waited_ms", "wrap_up_until", "by")


def plan(event: Event) -> list[str]:
    """The desktop message types ``event`` gives its agent, in order: a function of the event only."""
    if not isinstance(event.data.get("agent"), str):
        return []
    kind = event.type
    if kind in ("agent.status", "agent.engine"):
        return ["agent.state"]
    if kind == "offer.created":
        return ["offer.created", "agent.state"]
    if kind in OFFER_ENDED:
        return ["offer.ended"]
    if kind in CONTACT_CHANGES:
        return ["contact.updated", "agent.state"] if kind in IMPLIED_ENGINE else ["contact.updated"]
    return ["event"]


class DesktopFeed(StreamFollower):
    name = "desktop"

    def __init__(
        self,
        bus: EventBus,
        telephony: Telephony,
        sources: PopSources | None = None,
        *,
        pop_timeout_s: float = POP_TIMEOUT_S,
    ) -> None:
        super().__init__(bus)
        self.telephony = telephony
        self.sources = sources
        self.pop_timeout_s = pop_timeout_s
        self._chains: dict[str, asyncio.Task[None]] = {}  # each agent's newest task
        self._in_flight: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._rang: dict[str, bool] = {}  # offers this node rang whose end it has not handled

    async def stop(self) -> None:
        await super().stop()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=DRAIN_S)
        for task in list(self._in_flight):
            await stop_task(task)

    def attach(self, sources: PopSources) -> None:
        """Start publishing desktop messages (with screen-pops) from the next event on."""
        self.sources = sources

    async def apply(self, event: Event) -> None:
        kinds = plan(event)
        if not kinds:
            return
        agent: str = event.data["agent"]
        if self.sources is None:
            await self._ring_only(event, agent)
            return
        await self._gate.acquire()
        task = asyncio.create_task(self._after(self._chains.get(agent), self.sources, event, agent, kinds))
        self._chains[agent] = task
        self._in_flight.add(task)
        task.add_done_callback(lambda done: self._finished(agent, done))

    def _finished(self, agent: str, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._gate.release()
        if self._chains.get(agent) is task:
            del self._chains[agent]

    async def _after(
        self,
        previous: asyncio.Task[None] | None,
        sources: PopSources,
        event: Event,
        agent: str,
        kinds: list[str],
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # this agent's earlier messages first
        try:
            await self._publish(sources, event, agent, kinds)
        except Exception:
            log.exception("desktop.failed", type=event.type, seq=event.seq)

    async def _publish(self, sources: PopSources, event: Event, agent: str, kinds: list[str]) -> None:
        stream = agent_stream(agent)
        items = [
            (event.seq * FANOUT + index, kind, await self._message(sources, kind, event, agent), event.at)
            for index, kind in enumerate(kinds)
        ]
        results = await self.bus.publish_once_many(stream, items)  # one round trip
        if event.type == "offer.accepted":
            self._rang.pop(event.data.get("offer", ""), False)  # answered: nothing to stop
        for (_, kind, data, _), published in zip(items, results, strict=True):
            if kind == "offer.created" and published is not None:
                self._remember_ring(data["offer"])
                await self._phone(kind, data["contact"], agent)
            elif kind == "offer.ended":
                rang_here = self._rang.pop(data["offer"], False)
                if published is not None or rang_here:
                    await self._phone(kind, data["contact"], agent)

    def _remember_ring(self, offer_id: str) -> None:
        if len(self._rang) >= RANG_MAX:
            del self._rang[next(iter(self._rang))]
        self._rang[offer_id] = True

    async def _ring_only(self, event: Event, agent: str) -> None:
        contact = event.data.get("contact")
        if isinstance(contact, str) and event.type == "offer.created":
            await self._phone("offer.created", contact, agent)
        elif isinstance(contact, str) and event.type in OFFER_ENDED:
            await self._phone("offer.ended", contact, agent)

    async def _phone(self, kind: str, contact: str, agent: str) -> None:
        # A telephony failure must not stop the messages that follow (the agent's state).
        try:
            if kind == "offer.created":
                await self.telephony.ring(contact, agent)
            else:
                await self.telephony.stop_ringing(contact, agent)
        except Exception:
            log.exception("desktop.telephony_failed", command=kind, contact=contact, agent=agent)

    async def _message(self, sources: PopSources, kind: str, event: Event, agent: str) -> dict[str, Any]:
        data = event.data
        if kind == "offer.created":
            return {
                "offer": data["offer"],
                "contact": data["contact"],
                "expires_at": data["expires_at"],
                "screen_pop": await self._pop(sources, event),
            }
        if kind == "agent.state":
            return await self._agent_state(sources, event, agent)
        if kind == "offer.ended":
            return {"offer": data["offer"], "contact": data["contact"], "why": OFFER_ENDED[event.type]}
        if kind == "contact.updated":
            state, change = CONTACT_CHANGES[event.type]
            extra = {k: data[k] for k in CONTACT_FIELDS if data.get(k) is not None}
            return {"contact": data["contact"], "state": state, "change": change, **extra}
        return {"type": event.type, "data": data}

    async def _pop(self, sources: PopSources, event: Event) -> dict[str, Any]:
        contact, decision = event.data["contact"], event.data.get("decision")
        try:
            async with asyncio.timeout(self.pop_timeout_s):  # no task of its own, unlike wait_for
                return await screen_pop(sources, contact, decision=decision)
        except TimeoutError:
            log.warning("desktop.screen_pop_late", contact=contact, timeout_s=self.pop_timeout_s)
        except Exception:
            log.exception("desktop.screen_pop_failed", contact=contact)
        # The call must still be offered (and ring), with a pop that says the records are unavailable.
        return fallback_pop(contact, event.data.get("queue"), sources.clock.now_ms())

    async def _agent_state(self, sources: PopSources, event: Event, agent: str) -> dict[str, Any]:
        data = event.data
        status, reason = data.get("status"), data.get("reason")
        if event.type == "offer.created":
            status, reason = "available", None  # only an available agent is offered a call
        elif status is None or (status == "not_ready" and "reason" not in data):
            # The event does not say (an offer, a call, wrap-up, an engine change): ask the store.
            try:
                known = await sources.store.get_agent(agent)
                status, reason = known.status, known.reason
            except NotFound:
                status = status or "available"  # only an available agent is offered a call
        engine = IMPLIED_ENGINE.get(event.type, data.get("engine"))
        return {
            "status": str(status),
            "reason": None if reason is None else str(reason),
            "engine": str(engine),
            "since": event.at,
        }
