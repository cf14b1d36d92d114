"""The handovers this process owns: by id, by the caller's contact and by the consult contact.

Held in memory by the node that took the request (see ``cti.handover`` for what that means with
several nodes). Finished handovers stay readable until ``keep_finished`` newer ones have finished.
"""

from __future__ import annotations

import asyncio
from collections import deque

from cti.domain.errors import Conflict, NotFound
from cti.handover.model import Handover


class Handovers:
    def __init__(self, keep_finished: int = 1000) -> None:
        self.keep_finished = keep_finished
        self._by_id: dict[str, Handover] = {}
        self._active: dict[str, str] = {}  # caller's contact -> its active handover
        self._by_consult: dict[str, str] = {}  # consult contact -> handover
        self._consults: dict[str, list[str]] = {}  # handover -> its consult contacts
        self._locks: dict[str, asyncio.Lock] = {}
        self._claimed: set[str] = set()  # contacts with a request being set up
        self._counts: dict[str, int] = {}  # handovers asked per caller's contact: numbers consult ids
        self._finished: deque[str] = deque()

    def claim(self, contact_id: str) -> int:
        """Reserve the contact for a new handover; returns its number (1, 2, ...). No await between the
        check and the claim, so two requests for one contact cannot both pass."""
        if contact_id in self._claimed or contact_id in self._active:
            raise Conflict("this caller already has a handover in progress", error_id="handover_in_progress")
        self._claimed.add(contact_id)
        self._counts[contact_id] = self._counts.get(contact_id, 0) + 1
        return self._counts[contact_id]

    def release(self, contact_id: str) -> None:
        self._claimed.discard(contact_id)

    def add(self, handover: Handover) -> asyncio.Lock:
        self._by_id[handover.id] = handover
        self._active[handover.contact_id] = handover.id
        self._by_consult[handover.consult_contact_id] = handover.id
        self._consults[handover.id] = [handover.consult_contact_id]
        lock = self._locks[handover.id] = asyncio.Lock()
        return lock

    def link_consult(self, handover: Handover, consult_contact_id: str) -> None:
        """A further consult contact (the caller queued again) belongs to the same handover."""
        self._by_consult[consult_contact_id] = handover.id
        self._consults[handover.id].append(consult_contact_id)

    def get(self, handover_id: str) -> Handover:
        try:
            return self._by_id[handover_id]
        except KeyError:
            raise NotFound(f"no handover {handover_id}", error_id="handover_not_found") from None

    def lock(self, handover: Handover) -> asyncio.Lock:
        return self._locks[handover.id]

    def active_for(self, contact_id: str) -> Handover | None:
        handover_id = self._active.get(contact_id)
        return None if handover_id is None else self._by_id[handover_id]

    def by_consult(self, consult_contact_id: str) -> Handover | None:
        handover_id = self._by_consult.get(consult_contact_id)
        return None if handover_id is None else self._by_id.get(handover_id)

    def concerns(self, contact_id: str) -> bool:
        return contact_id in self._active or contact_id in self._by_consult

    def active(self) -> list[Handover]:
        return [self._by_id[i] for i in self._active.values()]

    def finished(self, handover: Handover) -> None:
        """The handover reached a terminal state: free its contact; forget the oldest finished."""
        if self._active.get(handover.contact_id) == handover.id:
            del self._active[handover.contact_id]
        self._finished.append(handover.id)
        while len(self._finished) > self.keep_finished:
            old = self._by_id.pop(self._finished.popleft(), None)
            if old is None:
                continue
            self._locks.pop(old.id, None)
            for consult in self._consults.pop(old.id, ()):
                self._by_consult.pop(consult, None)
            if old.contact_id not in self._active and old.contact_id not in self._claimed:
                self._counts.pop(old.contact_id, None)
