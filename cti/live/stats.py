"""Today's live figures per queue and per agent, folded from the centre stream: a pure projection.

No clock is read here. Time comes from the events (``Event.at``) and from the ``now`` a reader
passes, so the same events in the same order give the same figures on every node. ``time`` only moves
forward: an event stamped earlier than one already applied (clock skew between nodes) counts at
``time``.

Definitions (domain.md, "Service levels people expect"):

- offered: contacts that entered the queue today (``contact.queued``; a move counts for the queue
  moved to);
- answered within threshold: waited ``<= threshold_s``; abandoned after threshold: waited
  ``> abandon_threshold_s`` (NHS 111 counts calls abandoned after 30 s);
- service level = answered within threshold / (answered + abandoned after threshold);
- abandon rate = abandoned / offered; ASA = mean wait of answered contacts.

A contact counts as waiting until it is answered or abandoned, including while an agent's phone
rings (the caller is still waiting). "Today" is the Europe/London day: counters reset at midnight;
waiting contacts and agents carry over.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cti.domain.events import Event
from cti.domain.states import UNREACHABLE_REASON

LONDON = ZoneInfo("Europe/London")
WAITING_STATES = ("queued", "offered")
UNREACHABLE = UNREACHABLE_REASON


@dataclass(frozen=True, slots=True)
class QueueTargets:
    """A queue's thresholds, from its configuration."""

    threshold_s: int = 60
    target: float = 0.8
    abandon_threshold_s: int = 30


_DEFAULT_TARGETS = QueueTargets()  # frozen: one shared instance for queues without targets


@dataclass(slots=True)
class Waiting:
    contact: str
    queue: str
    priority: int
    enqueued_at: int
    agent: str | None = None  # whose phone is ringing, if any

    def to_json(self) -> dict[str, Any]:
        # ``asdict`` without its deep copies: a checkpoint holds every waiting contact.
        return {
            "contact": self.contact,
            "queue": self.queue,
            "priority": self.priority,
            "enqueued_at": self.enqueued_at,
            "agent": self.agent,
        }


@dataclass(slots=True)
class Daily:
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_after: int = 0
    answered_wait_ms: int = 0


@dataclass(slots=True)
class AgentView:
    agent: str
    status: str = "logged_out"
    reason: str | None = None
    engine: str = "idle"
    since: int = 0  # when status, reason, engine or contact last changed
    contact: str | None = None

    def figures(self) -> dict[str, Any]:
        # What ``asdict`` gives (every field is a plain value), without its per-field deep copies:
        # this runs for each agent change at every event.
        return {
            "agent": self.agent,
            "status": self.status,
            "reason": self.reason,
            "engine": self.engine,
            "since": self.since,
            "contact": self.contact,
        }


@dataclass(frozen=True, slots=True)
class Touched:
    """What an event changed: queues whose figures may differ, agents whose view did."""

    queues: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()


def day_bounds(at_ms: int) -> tuple[str, int]:
    """The Europe/London day containing ``at_ms``: its ISO date and the epoch ms it ends."""
    day = datetime.fromtimestamp(at_ms / 1000, tz=LONDON).date()
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    return day.isoformat(), int(end.timestamp() * 1000)


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


@dataclass
class LiveStats:
    targets: dict[str, QueueTargets] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)  # shown even with nothing today, in this order
    waiting: dict[str, Waiting] = field(default_factory=dict)
    daily: dict[str, Daily] = field(default_factory=dict)
    agents: dict[str, AgentView] = field(default_factory=dict)
    time: int = 0  # the projection's now: the latest event time or instant it was moved to
    day: str = ""
    day_end: int = 0
    seq: int = 0  # the centre seq the projection reflects
    partial: bool = False  # today's counters miss events (rebuilt from a trimmed stream)
    # Indexes kept beside ``waiting`` and ``agents`` so that alerts cost what they find, not what
    # waits: each queue's waiting contacts as sorted (enqueued_at, contact), and unreachable agents.
    # Change ``waiting`` only through ``add_waiting`` / ``drop_waiting`` (or call ``reindex``).
    _order: dict[str, list[tuple[int, str]]] = field(default_factory=dict, compare=False, repr=False)
    _unreachable: set[str] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def for_queues(cls, targets: Mapping[str, QueueTargets]) -> LiveStats:
        return cls(targets=dict(targets), queues=list(targets))

    def targets_of(self, queue: str) -> QueueTargets:
        return self.targets.get(queue) or _DEFAULT_TARGETS

    # --- time ------------------------------------------------------------------------------------
    def move_to(self, at: int) -> bool:
        """Move time forward to ``at``; True if that started a new day (counters reset)."""
        if not self.day:
            self.time = at
            self.day, self.day_end = day_bounds(at)
            return False
        self.time = max(self.time, at)
        if self.time < self.day_end:
            return False
        self.day, self.day_end = day_bounds(self.time)
        self.daily.clear()
        self.partial = False  # the new day's counters are complete from its first event
        return True

    # --- the fold ------------------------------------------------------------------------------
    def apply(self, event: Event) -> Touched:
        """Fold one centre event in. Events already reflected (seq <= ``seq``) are ignored."""
        if event.seq and event.seq <= self.seq:
            return Touched()
        self.move_to(event.at)
        self.seq = max(self.seq, event.seq)
        data = event.data
        agent_id = str(data["agent"]) if data.get("agent") is not None else None
        before = self._agent_key(agent_id)
        queues = self._fold(event.type, data, str(data.get("contact", "")), agent_id)
        changed = agent_id is not None and self._agent_key(agent_id) != before
        if changed:
            self.agents[str(agent_id)].since = self.time
        return Touched(frozenset(queues), frozenset([agent_id] if changed and agent_id else []))

    def _fold(self, type: str, data: Mapping[str, Any], contact: str, agent_id: str | None) -> set[str]:
        """Apply one event; returns the queues whose counters or waiting contacts changed."""
        agent = self._agent(agent_id) if agent_id is not None else None
        waiting = self.waiting.get(contact)
        match type:
            case "contact.queued":
                queue = str(data["queue"])
                enqueued_at = int(data.get("enqueued_at") or self.time)
                self.add_waiting(Waiting(contact, queue, int(data.get("priority", 0)), enqueued_at))
                self._count(queue).offered += 1
                return {queue}
            case "offer.created" if agent is not None:
                agent.engine, agent.contact = "offered", contact
                if waiting is not None:
                    waiting.agent = agent.agent
            case "contact.requeued" if waiting is not None:
                waiting.agent = None
            case "offer.accepted":
                if agent is not None:
                    agent.engine, agent.contact = "busy", contact
                self.drop_waiting(contact)
                queue = str(data.get("queue") or (waiting.queue if waiting else ""))
                counters, waited_ms = self._count(queue), int(data["waited_ms"])
                counters.answered += 1
                counters.answered_wait_ms += waited_ms
                counters.answered_within += waited_ms <= self.targets_of(queue).threshold_s * 1000
                return {queue}
            case "contact.abandoned":
                self.drop_waiting(contact)
                if waiting is None and str(data.get("was", "queued")) not in WAITING_STATES:
                    return set()  # hung up in the IVR: it never reached a queue
                queue = str(data["queue"])
                counters = self._count(queue)
                counters.abandoned += 1
                counters.abandoned_after += (
                    int(data["waited_ms"]) > self.targets_of(queue).abandon_threshold_s * 1000
                )
                return {queue}
            case "contact.wrap_up" if agent is not None:
                agent.engine, agent.contact = "wrap_up", contact
            case "contact.moved":
                queue = str(data["queue"])
                self._count(queue).offered += 1
                if waiting is None:
                    return {queue}
                old = waiting.queue
                self.drop_waiting(contact)
                waiting.queue = queue
                self.add_waiting(waiting)
                return {old, queue}
            case "contact.priority" if waiting is not None:
                waiting.priority = int(data["priority"])
            case "agent.status" | "agent.engine" if agent is not None:
                if data.get("status") is not None:
                    agent.status = str(data["status"])
                if type == "agent.status":
                    agent.reason = None if data.get("reason") is None else str(data["reason"])
                    if agent.reason == UNREACHABLE:
                        self._unreachable.add(agent.agent)
                    else:
                        self._unreachable.discard(agent.agent)
                if data.get("engine") is not None:
                    agent.engine = str(data["engine"])
                if agent.engine == "idle":
                    agent.contact = None
        return set()

    def _agent_key(self, agent: str | None) -> tuple[Any, ...] | None:
        view = self.agents.get(agent) if agent is not None else None
        return None if view is None else (view.status, view.reason, view.engine, view.contact)

    def _agent(self, agent: str) -> AgentView:
        view = self.agents.get(agent)
        if view is None:
            view = self.agents[agent] = AgentView(agent, since=self.time)
        return view

    def _count(self, queue: str) -> Daily:
        counters = self.daily.get(queue)
        if counters is None:
            counters = self.daily[queue] = Daily()
        return counters

    # --- the indexes ---------------------------------------------------------------------------
    def add_waiting(self, waiting: Waiting) -> None:
        self.drop_waiting(waiting.contact)
        self.waiting[waiting.contact] = waiting
        bisect.insort(self._order.setdefault(waiting.queue, []), (waiting.enqueued_at, waiting.contact))

    def drop_waiting(self, contact: str) -> None:
        waiting = self.waiting.pop(contact, None)
        if waiting is None:
            return
        order = self._order.get(waiting.queue, [])
        key = (waiting.enqueued_at, waiting.contact)
        at = bisect.bisect_left(order, key)
        if at < len(order) and order[at] == key:
            del order[at]
        if not order:
            self._order.pop(waiting.queue, None)

    def reindex(self) -> None:
        """Rebuild the indexes from ``waiting`` and ``agents`` (after changing them directly)."""
        self._order = {}
        for w in self.waiting.values():
            self._order.setdefault(w.queue, []).append((w.enqueued_at, w.contact))
        for order in self._order.values():
            order.sort()
        self._unreachable = {a.agent for a in self.agents.values() if a.reason == UNREACHABLE}

    def waiting_order(self) -> Iterator[tuple[str, list[tuple[int, str]]]]:
        """Each queue with waiting contacts, and its (enqueued_at, contact), longest waiting first."""
        return iter(self._order.items())

    def unreachable_agents(self) -> list[AgentView]:
        return [self.agents[a] for a in sorted(self._unreachable) if a in self.agents]

    # --- reads ---------------------------------------------------------------------------------
    def waiting_in(self, queue: str) -> list[Waiting]:
        return [self.waiting[c] for _, c in self._order.get(queue, ())]

    def known_queues(self) -> list[str]:
        extra = set(self._order) | set(self.daily)
        return self.queues + sorted(extra - set(self.queues))

    def queue_figures(self, queue: str, now: int) -> dict[str, Any]:
        """The figures of ``queue`` at ``now`` (which sets the longest current wait)."""
        order = self._order.get(queue, ())
        longest = max(0, now - order[0][0]) if order else 0
        c = self.daily.get(queue) or Daily()
        t = self.targets_of(queue)
        return {
            "queue": queue,
            "waiting": len(order),
            "longest_wait_s": longest // 1000,
            "offered": c.offered,
            "answered": c.answered,
            "answered_within": c.answered_within,
            "abandoned": c.abandoned,
            "abandoned_after": c.abandoned_after,
            "service_level": _ratio(c.answered_within, c.answered + c.abandoned_after),
            "abandon_rate": _ratio(c.abandoned, c.offered),
            "asa_s": round(c.answered_wait_ms / c.answered / 1000, 1) if c.answered else None,
            "threshold_s": t.threshold_s,
            "target": t.target,
            "day": self.day,
            "partial": self.partial,
        }

    # --- checkpoints ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "waiting": [w.to_json() for w in self.waiting.values()],
            "daily": {q: asdict(c) for q, c in self.daily.items()},
            "agents": [a.figures() for a in self.agents.values()],
            "time": self.time,
            "day": self.day,
            "day_end": self.day_end,
            "seq": self.seq,
            "partial": self.partial,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], targets: Mapping[str, QueueTargets]) -> LiveStats:
        stats = cls.for_queues(targets)
        stats.waiting = {w["contact"]: Waiting(**w) for w in data["waiting"]}
        stats.daily = {q: Daily(**c) for q, c in data["daily"].items()}
        stats.agents = {a["agent"]: AgentView(**a) for a in data["agents"]}
        stats.time, stats.day, stats.day_end = int(data["time"]), str(data["day"]), int(data["day_end"])
        stats.seq, stats.partial = int(data["seq"]), bool(data["partial"])
        stats.reindex()
        return stats


__all__ = [
    "LONDON",
    "UNREACHABLE",
    "AgentView",
    "Daily",
    "LiveStats",
    "QueueTargets",
    "Touched",
    "Waiting",
    "day_bounds",
]
