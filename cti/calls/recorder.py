"""Writes each contact's segments (queue, ring, talk, hold, wrap-up) to the records from the event stream.

It follows the centre stream, so transitions made by timers (offer time-outs, wrap-up time-outs) are
recorded exactly like those made through the API. Updates are idempotent: several nodes may record
the same event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from cti.bus.port import EventBus
from cti.calls.follower import StreamFollower
from cti.domain.events import Event
from cti.records.repository import Records

log = structlog.get_logger(__name__)


def _at(event: Event) -> datetime:
    return datetime.fromtimestamp(event.at / 1000, tz=UTC)


class ContactRecorder(StreamFollower):
    name = "recorder"

    def __init__(self, bus: EventBus, records: Records) -> None:
        super().__init__(bus)
        self.records = records
        self._held_since: dict[str, int] = {}
        self._hold_ms: dict[str, int] = {}

    async def apply(self, event: Event) -> None:
        data: dict[str, Any] = event.data
        contact = data.get("contact")
        if not isinstance(contact, str):
            return
        at = _at(event)
        match event.type:
            case "offer.created":
                await self.records.set_contact(contact, offered_at=at, agent_id=data["agent"])
            case "offer.accepted":
                await self.records.set_contact(contact, answered_at=at, agent_id=data["agent"])
            case "contact.held":
                self._held_since[contact] = event.at
            case "contact.resumed":
                started = self._held_since.pop(contact, None)
                if started is not None:
                    self._hold_ms[contact] = self._hold_ms.get(contact, 0) + event.at - started
                    await self.records.set_contact(contact, hold_ms=self._hold_ms[contact])
            case "contact.wrap_up":
                started = self._held_since.pop(contact, None)
                if started is not None:
                    self._hold_ms[contact] = self._hold_ms.get(contact, 0) + event.at - started
                fields: dict[str, Any] = {"talk_ended_at": at}
                if contact in self._hold_ms:
                    fields["hold_ms"] = self._hold_ms[contact]
                await self.records.set_contact(contact, **fields)
            case "contact.closed":
                self._hold_ms.pop(contact, None)
                await self.records.set_contact(contact, wrap_up_ended_at=at, ended_at=at)
            case "contact.abandoned":
                await self.records.set_contact(contact, ended_at=at, outcome_code="abandoned")
            case "contact.moved":
                await self.records.set_contact(contact, queue=data["queue"])
            case _:
                return
