"""Numbered events: every state transition is published as one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

# The stream every state transition of the centre is published on. Per-agent and per-supervisor
# streams (desktop channel) are derived from it.
CENTRE_STREAM = "centre"


class Event(NamedTuple):
    """Immutable. A named tuple rather than a frozen dataclass: two are built per routing decision,
    and a frozen dataclass costs three times as much to build."""

    stream: str
    seq: int  # per-stream, dense, starting at 1; assigned by the bus
    type: str  # e.g. "offer.created"
    at: int  # epoch milliseconds (UTC)
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"stream": self.stream, "seq": self.seq, "type": self.type, "at": self.at, "data": self.data}


@dataclass(frozen=True, slots=True)
class Resync:
    """Told to a subscriber that fell behind (or asked for a trimmed point): fetch a snapshot."""

    stream: str
    last_seq: int  # the newest sequence number on the stream when the gap was found
    reason: str  # "overflow" | "trimmed"
