"""Supervisor alerts, computed from the projection at a given instant.

The set of active alerts is a pure function of the projection and ``now``; the feed turns changes of
that set into ``alert.raised`` / ``alert.cleared`` messages. A time-based alert carries the instant
its threshold was crossed (not the instant someone looked), so every node, and every replay, gives it
the same ``at``.

- ``potential_breach``: a waiting contact has waited ``warn_ratio`` (80%) of its queue's threshold;
- ``breach``: it has waited longer than the threshold (it can no longer be answered within it); it
  replaces the potential breach;
- ``agent_unreachable``: the agent's last status has reason ``unreachable`` (lost heartbeat).

Contact alerts end when the contact is answered or abandoned; an agent alert when the status changes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal

from cti.live.stats import LiveStats, Waiting

AlertKind = Literal["potential_breach", "breach", "agent_unreachable"]
WARN_RATIO = 0.8
_ENQUEUED_AT = itemgetter(0)


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    kind: AlertKind
    at: int
    detail: str
    queue: str | None = None
    agent: str | None = None
    contact: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        for name in ("queue", "agent", "contact"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["at"] = self.at
        out["detail"] = self.detail
        return out


def offsets(stats: LiveStats, queue: str, warn_ratio: float) -> tuple[int, int]:
    """How long after joining ``queue`` a contact becomes a potential breach and a breach (ms)."""
    threshold_ms = stats.targets_of(queue).threshold_s * 1000
    # "within the threshold" includes waiting exactly the threshold: the breach is the next ms.
    return math.ceil(threshold_ms * warn_ratio), threshold_ms + 1


def crossings(stats: LiveStats, waiting: Waiting, warn_ratio: float) -> tuple[int, int]:
    """The instants ``waiting`` becomes a potential breach and a breach (epoch ms)."""
    warn, breach = offsets(stats, waiting.queue, warn_ratio)
    return waiting.enqueued_at + warn, waiting.enqueued_at + breach


def contact_alert(stats: LiveStats, waiting: Waiting, now: int, warn_ratio: float) -> Alert | None:
    warn, breach = crossings(stats, waiting, warn_ratio)
    threshold_s = stats.targets_of(waiting.queue).threshold_s
    if now >= breach:
        kind: AlertKind = "breach"
        at, detail = breach, f"waited longer than the {threshold_s} s threshold"
    elif now >= warn:
        kind, at = "potential_breach", warn
        detail = f"waited {round(warn_ratio * 100)}% of the {threshold_s} s threshold"
    else:
        return None
    return Alert(f"{kind}:{waiting.contact}", kind, at, detail, queue=waiting.queue, contact=waiting.contact)


def current_alerts(stats: LiveStats, now: int, warn_ratio: float = WARN_RATIO) -> dict[str, Alert]:
    """Every alert active at ``now``, by id (in id order).

    Each queue's contacts are visited longest waiting first, up to the first not yet at its warning:
    the cost is the alerts found, not the contacts waiting."""
    out: dict[str, Alert] = {}
    for queue, order in stats.waiting_order():
        warn_ms, _ = offsets(stats, queue, warn_ratio)
        for enqueued_at, contact in order:
            if enqueued_at + warn_ms > now:
                break
            alert = contact_alert(stats, stats.waiting[contact], now, warn_ratio)
            if alert is not None:
                out[alert.id] = alert
    for agent in stats.unreachable_agents():
        alert_id = f"agent_unreachable:{agent.agent}"
        out[alert_id] = Alert(
            alert_id, "agent_unreachable", agent.since, "no heartbeat from the desktop", agent=agent.agent
        )
    return dict(sorted(out.items()))


def next_crossing(stats: LiveStats, after: int, warn_ratio: float = WARN_RATIO) -> int | None:
    """The first instant after ``after`` at which a contact alert starts or escalates.

    Per queue, the first contact (in joining order) whose warning, and the first whose breach, is
    still ahead: two binary searches a queue."""
    best: int | None = None
    for queue, order in stats.waiting_order():
        for offset in offsets(stats, queue, warn_ratio):
            at = bisect.bisect_right(order, after - offset, key=_ENQUEUED_AT)
            if at < len(order):
                instant = order[at][0] + offset
                if best is None or instant < best:
                    best = instant
    return best
