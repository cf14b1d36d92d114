"""The telephony port.

Adapters turn provider events into calls on a ``CallHandler`` (the domain side) and carry out the
domain's commands on the provider. The router, not the provider, decides who gets a call: a PBX or
Twilio only parks the caller while Frontdoor routes.
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
        """The agent ended the call: release the caller's leg."""

    @abstractmethod
    async def transfer_out(self, call_id: str, number: str) -> None:
        """Send the caller elsewhere (111, 999, another number), e.g. out of hours."""
