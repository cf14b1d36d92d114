"""The transport's own messages (see EVENTS.md) and the envelope every server message shares.

Every message the server sends is one JSON object ``{"stream", "seq", "type", "at", "data"}``. Bus
events (``offer.created``, ``agent.status``...) are sent exactly as published; their ``data`` is
described by the catalogues of the parts that publish them. The transport adds five types of its own,
modelled here: ``snapshot``, ``resync``, ``heartbeat``, ``pong`` and ``error``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

TRANSPORT_TYPES = frozenset({"snapshot", "resync", "heartbeat", "pong", "error"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Envelope(_Strict):
    stream: str = Field(min_length=1)
    seq: int = Field(ge=0)  # a bus event: its seq; a transport message: the newest seq it covers
    at: int = Field(ge=0)  # epoch milliseconds (UTC)


class EventMessage(_Envelope):
    """A bus event, forwarded as published."""

    type: str = Field(min_length=1)
    data: dict[str, Any]


class SnapshotMessage(_Envelope):
    """The state of the stream as of ``seq`` (events after ``seq`` follow; they may already be
    reflected, so apply them idempotently). ``data`` comes from the stream's snapshot provider."""

    type: Literal["snapshot"]
    data: dict[str, Any]


class ResyncData(_Strict):
    reason: Literal["overflow", "trimmed"]


class ResyncMessage(_Envelope):
    """Events up to ``seq`` were dropped for this client: reload (send ``{"type": "snapshot"}`` or
    reconnect without ``last_seq``). Delivery continues with ``seq + 1``."""

    type: Literal["resync"]
    data: ResyncData


class HeartbeatData(_Strict):
    interval_s: float = Field(gt=0)  # the server sends a heartbeat this often
    timeout_s: float = Field(gt=0)  # a client silent this long is disconnected (and made unreachable)


class HeartbeatMessage(_Envelope):
    type: Literal["heartbeat"]
    data: HeartbeatData


class PongData(_Strict):
    id: str | int | None = None  # echoed from the ping, if it had one


class PongMessage(_Envelope):
    type: Literal["pong"]
    data: PongData


class ErrorData(_Strict):
    error_id: str
    message: str


class ErrorMessage(_Envelope):
    """A client message was not understood; the connection stays open."""

    type: Literal["error"]
    data: ErrorData


TransportMessage = Annotated[
    SnapshotMessage | ResyncMessage | HeartbeatMessage | PongMessage | ErrorMessage,
    Field(discriminator="type"),
]
_TRANSPORT: TypeAdapter[SnapshotMessage | ResyncMessage | HeartbeatMessage | PongMessage | ErrorMessage] = (
    TypeAdapter(TransportMessage)
)


def validate_transport_message(msg: Mapping[str, Any]) -> _Envelope:
    """Validate any server message: transport types against their model, anything else against the
    envelope. Raises ``pydantic.ValidationError``."""
    if msg.get("type") in TRANSPORT_TYPES:
        return _TRANSPORT.validate_python(dict(msg))
    return EventMessage.model_validate(dict(msg))


def envelope(stream: str, seq: int, type: str, at: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"stream": stream, "seq": seq, "type": type, "at": at, "data": data}


def encode(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
