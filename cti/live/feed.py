"""The supervisor feed: the projection plus the messages its changes produce, at deterministic instants.

Pure like the projection: no clock, no I/O. Two inputs move it: ``apply(event)`` and ``advance(to)``
(time passing). Time-based changes (an alert threshold crossed, a throttled ``queue.stats`` falling
due, midnight) happen at instants computed from the state, and ``advance`` visits them in order, so
advancing in one step or in many gives the same messages. Hence every node following the same
events emits the same messages with the same keys.

Message keys, for ``publish_once``: messages emitted after centre event ``S`` was applied (and before
``S + 1``) are in slot ``S``; the key is ``S * SLOT + index in slot + 1`` (positive, as ``publish_once``
wants). Keys increase strictly and are the same on every node; ``publish_once`` keeps a high-water
mark, so the first node to publish a key wins and the others (or a restarted node replaying) skip.

``queue.stats`` is sent when a queue's figures change, at most once per ``throttle_ms`` per queue;
while contacts wait the longest wait changes, so it is then sent every ``throttle_ms``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from cti.domain.events import Event
from cti.live.alerts import WARN_RATIO, Alert, current_alerts, next_crossing
from cti.live.stats import LiveStats, QueueTargets

SLOT = 2**20  # messages per slot; keys stay below 2**53 (exact in Lua) up to seq 2**33
THROTTLE_MS = 1000

# Why an alert ended, by the event that ended it.
_CLEARED_BY = {
    "offer.accepted": "answered",
    "contact.abandoned": "abandoned",
    "contact.moved": "moved to another queue",
    "agent.status": "agent status changed",
    "agent.engine": "agent status changed",
}


class Message(NamedTuple):
    key: int
    type: str
    data: dict[str, Any]
    at: int


class SupervisorFeed:
    def __init__(
        self, stats: LiveStats, *, throttle_ms: int = THROTTLE_MS, warn_ratio: float = WARN_RATIO
    ) -> None:
        self.stats = stats
        self.throttle_ms = throttle_ms
        self.warn_ratio = warn_ratio
        self.sent: dict[str, dict[str, Any]] = {}  # last queue.stats sent, per queue
        self.sent_at: dict[str, int] = {}
        self.due: dict[str, int] = {}  # when each queue's figures must be looked at again
        self.alerts: dict[str, Alert] = {}
        self.slot = stats.seq
        self.index = 0
        self._out: list[Message] = []

    @classmethod
    def for_queues(cls, targets: Mapping[str, QueueTargets], **kwargs: Any) -> SupervisorFeed:
        return cls(LiveStats.for_queues(targets), **kwargs)

    # --- inputs ----------------------------------------------------------------------------------
    def apply(self, event: Event) -> list[Message]:
        """Fold ``event`` in: first the time-based messages due before it, then its own."""
        if event.seq and event.seq <= self.stats.seq:
            return []
        before = self.advance(event.at)
        touched = self.stats.apply(event)
        self.slot, self.index = self.stats.seq, 0
        at = self.stats.time
        for agent in sorted(touched.agents):
            self._emit("agent.state", self.stats.agents[agent].figures(), at)
        for queue in sorted(touched.queues):
            self._look_at(queue, at)
        self._diff_alerts(at, _CLEARED_BY.get(event.type, "resolved"))
        return before + self._take()

    def advance(self, to: int) -> list[Message]:
        """Let time pass up to ``to``: visit every instant at which something falls due."""
        if not self.stats.day:
            self.stats.move_to(to)
            return self._take()
        while (instant := self._next_instant()) is not None and instant <= to:
            if self.stats.move_to(instant):
                for queue in self.sent:
                    self.due[queue] = min(self.due.get(queue, instant), instant)
            for queue in sorted(q for q, due in self.due.items() if due <= instant):
                self._look_at(queue, instant)
            self._diff_alerts(instant, "escalated to breach")
        self.stats.move_to(to)
        return self._take()

    # --- internals -------------------------------------------------------------------------------
    def _next_instant(self) -> int | None:
        candidates = [self.stats.day_end, *self.due.values()]
        crossing = next_crossing(self.stats, self.stats.time, self.warn_ratio)
        if crossing is not None:
            candidates.append(crossing)
        return min(candidates)

    def _look_at(self, queue: str, at: int) -> None:
        """Send the queue's figures if they changed and the throttle allows; else look again later."""
        last = self.sent_at.get(queue)
        if last is not None and at < last + self.throttle_ms:
            self.due[queue] = last + self.throttle_ms
            return
        figures = self.stats.queue_figures(queue, at)
        if figures != self.sent.get(queue):
            self._emit("queue.stats", figures, at)
            self.sent[queue], self.sent_at[queue] = figures, at
        if figures["waiting"]:
            self.due[queue] = at + self.throttle_ms
        else:
            self.due.pop(queue, None)

    def _diff_alerts(self, at: int, cause: str) -> None:
        now = current_alerts(self.stats, at, self.warn_ratio)
        for alert_id in sorted(self.alerts.keys() - now.keys()):
            ended = self.alerts[alert_id].to_json()
            self._emit("alert.cleared", {**ended, "at": at, "detail": cause}, at)
        for alert_id in sorted(now):
            if self.alerts.get(alert_id) != now[alert_id]:  # new, or changed (moved queue): raise again
                self._emit("alert.raised", now[alert_id].to_json(), at)
        self.alerts = now

    def _emit(self, type: str, data: dict[str, Any], at: int) -> None:
        if self.index >= SLOT - 1:
            return  # a slot this full means days without a centre event; the snapshot still has it all
        self._out.append(Message(self.slot * SLOT + self.index + 1, type, data, at))
        self.index += 1

    def _take(self) -> list[Message]:
        out, self._out = self._out, []
        return out

    # --- checkpoints -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "stats": self.stats.to_json(),
            "sent": self.sent,
            "sent_at": self.sent_at,
            "due": self.due,
            "alerts": [a.to_json() for a in self.alerts.values()],
            "slot": self.slot,
            "index": self.index,
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], targets: Mapping[str, QueueTargets], **kwargs: Any
    ) -> SupervisorFeed:
        feed = cls(LiveStats.from_json(data["stats"], targets), **kwargs)
        feed.sent = {q: dict(f) for q, f in data["sent"].items()}
        feed.sent_at = {q: int(v) for q, v in data["sent_at"].items()}
        feed.due = {q: int(v) for q, v in data["due"].items()}
        feed.alerts = {a["id"]: Alert(**a) for a in data["alerts"]}
        feed.slot, feed.index = int(data["slot"]), int(data["index"])
        return feed
