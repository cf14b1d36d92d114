"""Synthetic centre events with explicit times, shaped as the state stores publish them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cti.domain.events import CENTRE_STREAM, Event
from cti.live.stats import QueueTargets

LONDON = ZoneInfo("Europe/London")
# 09:00 on a winter weekday, London time (= UTC).
T0 = int(datetime(2026, 1, 14, 9, 0, tzinfo=LONDON).timestamp() * 1000)
TARGETS = {"q1": QueueTargets(60, 0.8, 30), "q2": QueueTargets(20, 0.9, 10)}


def london_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=LONDON).timestamp() * 1000)  # type: ignore[misc]


class Centre:
    """Numbers events like the bus does; ``at`` is milliseconds after ``start``."""

    def __init__(self, start: int = T0) -> None:
        self.start = start
        self.seq = 0
        self.events: list[Event] = []

    def ev(self, type: str, at_ms: int, **data: Any) -> Event:
        self.seq += 1
        event = Event(CENTRE_STREAM, self.seq, type, self.start + at_ms, data)
        self.events.append(event)
        return event

    def queued(self, contact: str, queue: str, at_ms: int, enqueued_ms: int | None = None) -> Event:
        enqueued = self.start + (at_ms if enqueued_ms is None else enqueued_ms)
        return self.ev(
            "contact.queued",
            at_ms,
            contact=contact,
            queue=queue,
            priority=5,
            enqueued_at=enqueued,
            targets=[queue],
            attrs={},
        )

    def offered(self, contact: str, agent: str, queue: str, at_ms: int) -> Event:
        return self.ev(
            "offer.created", at_ms, offer=f"{contact}.o1", contact=contact, agent=agent, queue=queue
        )

    def answered(self, contact: str, agent: str, queue: str, at_ms: int, waited_ms: int) -> Event:
        return self.ev(
            "offer.accepted",
            at_ms,
            offer=f"{contact}.o1",
            contact=contact,
            agent=agent,
            queue=queue,
            waited_ms=waited_ms,
        )

    def abandoned(self, contact: str, queue: str, at_ms: int, waited_ms: int, was: str = "queued") -> Event:
        return self.ev("contact.abandoned", at_ms, contact=contact, queue=queue, waited_ms=waited_ms, was=was)

    def status(
        self, agent: str, status: str, at_ms: int, reason: str | None = None, engine: str = "idle"
    ) -> Event:
        return self.ev("agent.status", at_ms, agent=agent, status=status, reason=reason, engine=engine)
