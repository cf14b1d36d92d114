"""The telephony port.

Adapters turn provider events into calls on a ``CallHandler`` (the domain side) and carry out the
domain's commands on the provider. The router, not the provider, decides who gets a call: a PBX or
Twilio only parks the caller while Frontdoor routes.

A warm handover (``cti.handover``) is told to the provider in four steps, each naming the caller's
call and the consult call (a call of its own, with its own id, rung and answered like any other):
``open_consult`` -> (``ring`` / ``connect``) -> ``consult`` -> ``complete_transfer`` | ``cancel_consult``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class InboundCall:
    call_id: str
    cli: str | None  # the caller's number as the provider gave it; None when withheld
    dialled: str  # the number dialled
    queue: str  # where the IVR sent the caller
    caller_type: str = "public"  # "professional" | "public" | "carer"
    ivr: dict[str, str] = field(default_factory=dict)  # choices made in the IVR
    nhs_number: str | None = None  # captured and validated by the IVR, if any
    priority: int | None = None  # set by the IVR (e.g. crisis); the queue's own when higher


class CallHandler(Protocol):
    """What an adapter reports to the domain."""

    async def call_arrived(self, call: InboundCall) -> Any: ...

    async def caller_hung_up(self, call_id: str) -> None: ...


class Telephony(ABC):
    name: str = "telephony"

    @abstractmethod
    async def start(self, handler: CallHandler) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def ring(self, call_id: str, agent_id: str) -> None:
        """An offer was made: alert the agent's phone while the caller keeps waiting."""

    @abstractmethod
    async def stop_ringing(self, call_id: str, agent_id: str) -> None:
        """The offer ended without an answer (timed out, rejected, cancelled)."""

    @abstractmethod
    async def connect(self, call_id: str, agent_id: str) -> None:
        """The agent accepted: join caller and agent."""

    @abstractmethod
    async def hold(self, call_id: str) -> None: ...

    @abstractmethod
    async def resume(self, call_id: str) -> None: ...

    @abstractmethod
    async def hangup(self, call_id: str) -> None:
        """The agent ended the call: release the caller's leg (not while a consult is open for it,
        see ``open_consult``)."""

    @abstractmethod
    async def transfer_out(self, call_id: str, number: str) -> None:
        """Send the caller elsewhere (111, 999, another number), e.g. out of hours."""

    # --- consults (warm handover) --------------------------------------------------------------
    @abstractmethod
    async def open_consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, queue: str
    ) -> None:
        """The first agent asks for a specialist while the caller is on hold: set up the consult call.

        The router then rings and connects it like any call (``ring``, ``stop_ringing``, ``connect``),
        but ``connect`` only answers it: the specialist hears nobody until ``consult``, so the handover
        note can reach them first. Until ``complete_transfer`` or ``cancel_consult`` the caller's leg
        survives ``hangup``: the first agent leaving must not drop a held caller (the domain then moves
        the caller on).
        """

    @abstractmethod
    async def consult(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str
    ) -> None:
        """Join the first agent and the specialist on the consult call; the caller stays on hold."""

    @abstractmethod
    async def complete_transfer(
        self, parent_call_id: str, consult_call_id: str, from_agent: str, specialist: str | None
    ) -> None:
        """Move the caller onto the consult call and let the first agent go: to the specialist if one
        answered it, else (``specialist`` None) waiting on it in its queue. From now on the caller's
        leg is ``consult_call_id``: commands use that id and its hang-up is reported under it. Asked
        again once the caller is there (or gone), it does nothing."""

    @abstractmethod
    async def cancel_consult(self, parent_call_id: str, consult_call_id: str) -> None:
        """Drop the consult call if it is still up. The caller stays on hold until ``resume``."""
