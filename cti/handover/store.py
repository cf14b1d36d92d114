"""Where handovers live: the port, and the in-memory adapter (one node).

Every node can read and act on every handover: the HTTP use cases (complete, cancel, notes) run on
whichever node the agent's request reaches, under the handover's lock, on a fresh copy that is saved
when the lock is released (``HandoverBase._locked``).

Reactions to the centre stream and the timeout have one writer, the handover's *owner*: the node
that took the request. Every node follows the centre stream in order, so the owner sees one
handover's events in order; the other nodes skip them. Each node renews a short lease
(``heartbeat``); when an owner's lease lapses (the node died), the next node to notice adopts its
handovers (``adopt``, compare-and-set on the owner), reconciles each from the state store and runs
its timeout from then on. A lock whose holder died is released by its own expiry (Redis).

In memory there is one node: it owns everything and its lease never lapses.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from collections import deque
from contextlib import AbstractAsyncContextManager

from cti.domain.errors import Conflict, NotFound
from cti.handover.model import Handover


class HandoverStore(ABC):
    def __init__(self, node_id: str | None = None) -> None:
        self.node_id = node_id or uuid.uuid4().hex[:12]

    # --- asking: one handover in progress per caller ----------------------------------------------
    @abstractmethod
    async def claim(self, contact_id: str) -> int:
        """Reserve the contact for a new handover and number it (1, 2, ...); ``Conflict`` if one is
        in progress or being set up."""

    @abstractmethod
    async def release(self, contact_id: str) -> None:
        """End the claim (the handover was added, or setting it up failed)."""

    # --- the records ---------------------------------------------------------------------------------
    @abstractmethod
    async def save(self, handover: Handover) -> None:
        """Write the handover and its indexes (its caller while active, each consult contact)."""

    @abstractmethod
    async def find(self, handover_id: str) -> Handover | None: ...

    async def get(self, handover_id: str) -> Handover:
        handover = await self.find(handover_id)
        if handover is None:
            raise NotFound(f"no handover {handover_id}", error_id="handover_not_found")
        return handover

    @abstractmethod
    async def active_for(self, contact_id: str) -> Handover | None:
        """The active handover of a caller's contact."""

    @abstractmethod
    async def by_consult(self, consult_contact_id: str) -> Handover | None:
        """The handover a consult contact belongs to (also once the handover is over: a caller queued
        on it still needs their story to travel)."""

    @abstractmethod
    async def which(self, contact_id: str) -> str | None:
        """The handover a contact takes part in, as the caller's (active) or as a consult contact."""

    @abstractmethod
    async def active(self) -> list[Handover]: ...

    @abstractmethod
    def lock(self, handover_id: str) -> AbstractAsyncContextManager[object]:
        """Held around every read-modify-write of one handover, across nodes."""

    # --- ownership ------------------------------------------------------------------------------------
    @abstractmethod
    async def heartbeat(self) -> None:
        """Renew this node's lease."""

    @abstractmethod
    async def alive(self, node_id: str) -> bool:
        """Whether the node's lease is current."""

    async def mine(self, handover: Handover) -> bool:
        """Whether this node should react for the handover: it owns it, or its owner is gone (then
        the caller adopts it, see ``adopt``)."""
        return handover.owner == self.node_id or not await self.alive(handover.owner)

    async def close(self) -> None:
        return None


class MemoryHandoverStore(HandoverStore):
    """One node's handovers. Finished ones stay readable until ``keep_finished`` newer ones finished."""

    def __init__(self, keep_finished: int = 1000, node_id: str | None = None) -> None:
        super().__init__(node_id)
        self.keep_finished = keep_finished
        self._by_id: dict[str, Handover] = {}
        self._active: dict[str, str] = {}  # caller's contact -> its active handover
        self._by_consult: dict[str, str] = {}  # consult contact -> handover
        self._locks: dict[str, asyncio.Lock] = {}
        self._claimed: set[str] = set()
        self._counts: dict[str, int] = {}
        self._finished: deque[str] = deque()

    async def claim(self, contact_id: str) -> int:
        # No await between the check and the claim: two requests for one contact cannot both pass.
        if contact_id in self._claimed or contact_id in self._active:
            raise Conflict("this caller already has a handover in progress", error_id="handover_in_progress")
        self._claimed.add(contact_id)
        self._counts[contact_id] = self._counts.get(contact_id, 0) + 1
        return self._counts[contact_id]

    async def release(self, contact_id: str) -> None:
        self._claimed.discard(contact_id)

    async def save(self, handover: Handover) -> None:
        known = handover.id in self._by_id
        self._by_id[handover.id] = handover
        for consult in handover.consults:
            self._by_consult[consult] = handover.id
        if handover.active:
            self._active[handover.contact_id] = handover.id
        elif self._active.get(handover.contact_id) == handover.id:
            del self._active[handover.contact_id]
            self._finished.append(handover.id)
            self._forget_oldest()
        elif not known:
            self._finished.append(handover.id)

    def _forget_oldest(self) -> None:
        while len(self._finished) > self.keep_finished:
            old = self._by_id.pop(self._finished.popleft(), None)
            if old is None:
                continue
            self._locks.pop(old.id, None)
            for consult in old.consults:
                self._by_consult.pop(consult, None)
            if old.contact_id not in self._active and old.contact_id not in self._claimed:
                self._counts.pop(old.contact_id, None)

    async def find(self, handover_id: str) -> Handover | None:
        return self._by_id.get(handover_id)

    async def active_for(self, contact_id: str) -> Handover | None:
        handover_id = self._active.get(contact_id)
        return None if handover_id is None else self._by_id.get(handover_id)

    async def by_consult(self, consult_contact_id: str) -> Handover | None:
        handover_id = self._by_consult.get(consult_contact_id)
        return None if handover_id is None else self._by_id.get(handover_id)

    async def which(self, contact_id: str) -> str | None:
        return self._active.get(contact_id) or self._by_consult.get(contact_id)

    async def active(self) -> list[Handover]:
        return [self._by_id[i] for i in self._active.values()]

    def lock(self, handover_id: str) -> asyncio.Lock:
        lock = self._locks.get(handover_id)
        if lock is None:
            lock = self._locks[handover_id] = asyncio.Lock()
        return lock

    async def heartbeat(self) -> None:
        return None

    async def alive(self, node_id: str) -> bool:
        return True
