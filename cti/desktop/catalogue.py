"""The catalogue of agent desktop messages: one pydantic model per type, an example of each, and the
markdown page generated from them (``EVENTS.md`` beside this file).

A message is a bus event on the agent's stream ``agent:{agent_id}``, served as ``Event.to_json()``:
``{stream, seq, type, at, data}``; ``seq`` is dense per agent (resume from the last one seen) and
``at`` is the epoch ms of the centre event it came from. Other parts of the desktop channel (the
websocket transport) describe their messages with the same ``MessageSpec`` and page format.

Regenerate the page with ``python -m cti.desktop.catalogue`` (a test checks it is current).
"""

from __future__ import annotations

import builtins
import json
import sys
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from cti.desktop import examples
from cti.desktop.schemas import ScreenPop, Strict

AGENT_STREAM_PREFIX = "agent:"
PAGE = Path(__file__).with_name("EVENTS.md")


def agent_stream(agent_id: str) -> str:
    return AGENT_STREAM_PREFIX + agent_id


class AgentState(Strict):
    status: Literal["logged_out", "available", "not_ready"] = Field(description="what the agent chose")
    reason: str | None = Field(description="the not-ready reason, e.g. 'break', 'missed', 'rejected'")
    engine: Literal["idle", "offered", "busy", "wrap_up", "reserved"] = Field(
        description="what the engine is doing with the agent"
    )
    since: int = Field(description="epoch ms of the change that led to this state")


class OfferCreated(Strict):
    offer: str
    contact: str
    expires_at: int = Field(description="epoch ms; the offer times out then")
    screen_pop: ScreenPop


class OfferEnded(Strict):
    offer: str
    contact: str
    why: Literal["timed_out", "rejected", "cancelled", "rescinded"] = Field(
        description="cancelled: the caller hung up while ringing"
    )


class ContactUpdated(Strict):
    contact: str
    state: Literal["connected", "held", "wrap_up", "closed"] = Field(description="the contact's state now")
    change: Literal["connected", "held", "resumed", "wrap_up", "closed"] = Field(description="what happened")
    offer: str | None = Field(default=None, description="connected: the offer accepted")
    queue: str | None = None
    waited_ms: int | None = Field(default=None, description="connected: the caller's wait in the queue")
    wrap_up_until: int | None = Field(default=None, description="wrap_up: epoch ms when wrap-up times out")
    by: str | None = Field(default=None, description="wrap_up and closed: agent, caller or timeout")


class PassedThrough(Strict):
    type: str = Field(description="the centre event's type, e.g. handover.requested")
    data: dict[str, Any] = Field(description="the centre event's data, as published")


class HandoverNoteText(Strict):
    reason: str
    triage_outcome: str | None
    risk_flags: list[str]
    told_caller: str | None = Field(description="what the caller has been told so far")
    free_text: str | None


class LiveNote(Strict):
    at: int
    author: str
    text: str


class HandoverNote(Strict):
    handover: str
    contact: str = Field(description="the caller's contact")
    consult_contact: str | None = Field(description="the consult leg's contact, answered by the specialist")
    from_agent: str
    note: HandoverNoteText = Field(description="in full: only the parties see the free text")
    notes: list[LiveNote] = Field(description="notes written during the handover so far")
    caller: dict[str, Any] = Field(description="the caller's context summary (as the screen-pop's caller)")


class HandoverNoteAdded(Strict):
    handover: str
    note: LiveNote


class HandoverEnded(Strict):
    handover: str
    state: Literal["completed", "cancelled", "failed"]
    reason: str | None
    caller: str | None = Field(description="where the caller is now: with_first_agent, with_specialist, ...")


HandoverStateName = Literal[
    "requested", "specialist_reserved", "consulting", "completed", "cancelled", "failed"
]
CallerPlace = Literal["held", "with_first_agent", "with_specialist", "queued", "gone"]


class HandoverStateChanged(Strict):
    handover: str
    contact: str = Field(description="the caller's contact")
    consult_contact: str | None = Field(description="the consult leg's contact")
    from_agent: str = Field(description="the agent who asked")
    specialist: str | None = Field(description="the specialist reserved, once there is one")
    target: str = Field(description="the queue the consult contact entered")
    worker: str | None = Field(description="the named worker asked for, if any")
    previous: HandoverStateName | None = Field(description="null for the request that created it")
    event: str = Field(description="request, reserve, connect, complete, cancel or fail")
    state: HandoverStateName
    reason: str | None = Field(description="why it ended other than as asked, e.g. cancelled_by_agent")
    caller: CallerPlace = Field(description="where the caller is now")
    expires_at: int | None = Field(description="epoch ms; it fails then unless a specialist has accepted")


class HandoverStep(Strict):
    at: int
    previous: HandoverStateName | None
    event: str
    state: HandoverStateName
    by: str = Field(description="a username, caller or system")
    reason: str | None


class HandoverInHand(Strict):
    """A handover the agent takes part in, as in ``GET /api/handovers/{id}`` (the parties' view: the
    note in full and the live notes), plus ``context`` for the specialist."""

    id: str
    contact_id: str = Field(description="the caller's contact")
    consult_contact_id: str
    from_agent: str
    target: str
    worker: str | None
    specialist: str | None
    state: HandoverStateName
    reason: str | None
    caller: CallerPlace
    created_at: int
    updated_at: int
    expires_at: int | None
    note: HandoverNoteText
    notes: list[LiveNote]
    history: list[HandoverStep]
    context: dict[str, Any] | None = Field(
        description="to the specialist only: the caller's context summary, as in handover.note's caller"
    )


class ContactInHand(Strict):
    contact: str
    state: str
    queue: str | None
    screen_pop: ScreenPop | None


class AgentSnapshot(Strict):
    """Not a stream message: the whole desktop state, for a client whose resume point was trimmed.
    Apply the stream's messages after ``last_seq`` on top of it."""

    agent: str
    stream: str
    last_seq: int = Field(description="the newest seq on the stream when the snapshot was taken")
    state: AgentState
    offer: OfferCreated | None = Field(description="the pending offer, with its screen-pop")
    contact: ContactInHand | None = Field(description="the contact in hand (connected, held, wrap-up)")
    handovers: list[HandoverInHand] = Field(
        description="the active warm handovers the agent asked for or is the specialist of, and the one "
        "the contact in hand came from (also once over), oldest first"
    )


class Envelope(BaseModel):
    stream: str = Field(pattern=r"^agent:.+")
    seq: int = Field(ge=1)
    type: str
    at: int
    data: dict[str, Any]


@dataclass(frozen=True)
class MessageSpec:
    type: str
    model: builtins.type[BaseModel]  # the field above shadows ``type`` in this class body
    summary: str
    example: dict[str, Any]


AGENT_MESSAGES: tuple[MessageSpec, ...] = (
    MessageSpec(
        "agent.state",
        AgentState,
        "The agent's state changed: their own choice (status), or the engine's (offer, call, wrap-up).",
        examples.AGENT_STATE,
    ),
    MessageSpec(
        "offer.created",
        OfferCreated,
        "A call is offered to the agent, with its screen-pop. Published before the agent's phone rings.",
        examples.OFFER_CREATED,
    ),
    MessageSpec(
        "offer.ended",
        OfferEnded,
        "The offer ended without being accepted; the phone stops ringing.",
        examples.OFFER_ENDED,
    ),
    MessageSpec(
        "contact.updated",
        ContactUpdated,
        "The contact in hand changed: connected, held, resumed, wrap-up, closed.",
        examples.CONTACT_UPDATED,
    ),
    MessageSpec(
        "handover.note",
        HandoverNote,
        "Warm handover: the note and the caller's context, to the specialist before the consult connects.",
        examples.HANDOVER_NOTE,
    ),
    MessageSpec(
        "handover.note_added",
        HandoverNoteAdded,
        "Warm handover: a note written during the consult, live to both parties.",
        examples.HANDOVER_NOTE_ADDED,
    ),
    MessageSpec(
        "handover.ended",
        HandoverEnded,
        "Warm handover: it is over (completed, cancelled or failed), why, and where the caller is.",
        examples.HANDOVER_ENDED,
    ),
    MessageSpec(
        "handover.state",
        HandoverStateChanged,
        "Warm handover: each transition (requested, specialist reserved, consulting, and the end), to both "
        "parties, so each desktop follows the other side live.",
        examples.HANDOVER_STATE,
    ),
    MessageSpec(
        "event",
        PassedThrough,
        'Any other centre event about this agent (its data has "agent": this agent), as it was published.',
        examples.PASSED_THROUGH,
    ),
)
_BY_TYPE = {spec.type: spec for spec in AGENT_MESSAGES}


class MessageMismatch(ValueError):
    """A message does not match the catalogue."""


def validate_agent_message(msg: dict[str, Any]) -> None:
    """Check a message as served (``Event.to_json()``) against the catalogue; raise ``MessageMismatch``."""
    try:
        envelope = Envelope.model_validate(msg)
    except ValidationError as exc:
        raise MessageMismatch(f"not an agent message: {exc}") from exc
    spec = _BY_TYPE.get(envelope.type)
    if spec is None:
        raise MessageMismatch(f"unknown agent message type '{envelope.type}'")
    try:
        spec.model.model_validate(envelope.data)
    except ValidationError as exc:
        raise MessageMismatch(f"'{envelope.type}' does not match its model: {exc}") from exc


# --- the markdown page ---------------------------------------------------------------------------


def type_name(annotation: Any) -> str:
    """A field's type as readers of the page know it: ``str | null``, ``"a" | "b"``, ``list[X]``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin in (list, Sequence):
        return f"list[{type_name(args[0])}]"
    if origin is dict:
        return f"object[{type_name(args[0])}, {type_name(args[1])}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return _JSON_NAMES.get(annotation) or str(getattr(annotation, "__name__", annotation))


_JSON_NAMES: dict[Any, str] = {str: "string", int: "integer", bool: "boolean", float: "number", Any: "any"}


def _nested(model: type[BaseModel]) -> Iterable[type[BaseModel]]:
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield annotation
            stack.extend(typing.get_args(annotation))


def _fields_table(model: type[BaseModel]) -> list[str]:
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        kind = type_name(field.annotation).replace("|", "\\|")
        notes = (field.description or "").replace("|", "\\|")
        required = "yes" if field.is_required() else "no"
        lines.append(f"| `{name}` | {kind} | {required} | {notes} |")
    return lines


def render_markdown(
    title: str, intro: str, specs: Sequence[MessageSpec], extra: Sequence[type[BaseModel]] = ()
) -> str:
    """A catalogue page: each message (fields and a JSON example), then the structures they use."""
    out = [f"# {title}", "", intro.strip(), ""]
    structures: dict[str, type[BaseModel]] = {}
    for spec in specs:
        out += [f"## `{spec.type}`", "", spec.summary, "", *_fields_table(spec.model), ""]
        out += ["```json", json.dumps(spec.example, indent=2, ensure_ascii=False), "```", ""]
    documented = {spec.model.__name__ for spec in specs}
    queue = [*extra, *(n for spec in specs for n in _nested(spec.model))]
    while queue:
        model = queue.pop(0)
        if model.__name__ not in structures and model.__name__ not in documented:
            structures[model.__name__] = model
            queue.extend(_nested(model))
    if structures:
        out += ["## Structures", ""]
        for name, model in structures.items():
            doc = " ".join((model.__doc__ or "").split())
            out += [f"### {name}", "", *([doc, ""] if doc else []), *_fields_table(model), ""]
    return "\n".join(out).rstrip() + "\n"


INTRO = __doc__.split("\n\n")[1] if __doc__ else ""


def agent_page() -> str:
    return render_markdown("Agent desktop messages", INTRO, AGENT_MESSAGES, extra=(AgentSnapshot,))


def main() -> None:  # pragma: no cover - a developer's command
    PAGE.write_text(agent_page(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
