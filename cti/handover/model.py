"""A handover and its note: first-class, size-limited, attached to the caller's contact (lesson 10)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from cti.domain.errors import InvalidInput
from cti.domain.model import RoutingPlan
from cti.handover.states import TERMINAL, HandoverState

REASON_MAX = 200
TRIAGE_OUTCOME_MAX = 100
RISK_FLAGS_MAX = 10
RISK_FLAG_MAX = 50
TOLD_CALLER_MAX = 500
FREE_TEXT_MAX = 2000
LIVE_NOTE_MAX = 1000

_RISK_FLAG = re.compile(r"^[a-z0-9_]+$")
# Control characters other than tab and newline have no place in a note (and break logs and screens).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# A consult contact's id: the caller's contact id, ".h" and the handover's number, then one "q" per
# time the caller was queued on a fresh consult. Made only by the two functions below.
_CONSULT_ID = re.compile(r"\.h[0-9]+q*\Z")


def consult_contact_id(parent_id: str, number: int) -> str:
    """The id of the ``number``-th consult contact of a caller's contact."""
    return f"{parent_id}.h{number}"


def requeued_contact_id(consult_id: str) -> str:
    """The id of the fresh consult contact the caller is queued on when the consult was over."""
    return f"{consult_id}q"


def is_consult_contact(contact_id: str) -> bool:
    """Whether ``contact_id`` is a consult contact's (made by one of the two functions above)."""
    return _CONSULT_ID.search(contact_id) is not None


# Where the caller is, as far as the handover knows.
CallerPlace = Literal["held", "with_first_agent", "with_specialist", "queued", "gone"]


def note_text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    """The cleaned text of one note field, or ``InvalidInput`` naming the field."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"'{name}' is required", error_id="invalid_note", field=name)
        return None
    if len(text) > limit:
        raise InvalidInput(f"'{name}' is longer than {limit} characters", error_id="invalid_note", field=name)
    if _CONTROL.search(text):
        raise InvalidInput(f"'{name}' contains control characters", error_id="invalid_note", field=name)
    return text


@dataclass(frozen=True, slots=True)
class Note:
    """What the first agent hands over, so the caller tells their story once (FR-18)."""

    reason: str
    triage_outcome: str | None = None
    risk_flags: tuple[str, ...] = ()
    told_caller: str | None = None  # what the caller has been told will happen
    free_text: str | None = None

    @classmethod
    def of(
        cls,
        reason: str,
        triage_outcome: str | None = None,
        risk_flags: tuple[str, ...] | list[str] = (),
        told_caller: str | None = None,
        free_text: str | None = None,
    ) -> Note:
        if len(risk_flags) > RISK_FLAGS_MAX:
            raise InvalidInput(
                f"at most {RISK_FLAGS_MAX} risk flags", error_id="invalid_note", field="risk_flags"
            )
        for flag in risk_flags:
            if not _RISK_FLAG.match(flag) or len(flag) > RISK_FLAG_MAX:
                raise InvalidInput(
                    f"risk flags are codes of up to {RISK_FLAG_MAX} characters a-z, 0-9, _",
                    error_id="invalid_note",
                    field="risk_flags",
                )
        text = note_text(reason, "reason", REASON_MAX, required=True)
        assert text is not None
        return cls(
            reason=text,
            triage_outcome=note_text(triage_outcome, "triage_outcome", TRIAGE_OUTCOME_MAX),
            risk_flags=tuple(dict.fromkeys(risk_flags)),
            told_caller=note_text(told_caller, "told_caller", TOLD_CALLER_MAX),
            free_text=note_text(free_text, "free_text", FREE_TEXT_MAX),
        )

    def summary(self) -> dict[str, Any]:
        """For the centre stream and supervisors: no free text (it may hold personal details)."""
        return {
            "reason": self.reason,
            "triage_outcome": self.triage_outcome,
            "risk_flags": list(self.risk_flags),
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "told_caller": self.told_caller, "free_text": self.free_text}


@dataclass(frozen=True, slots=True)
class LiveNote:
    """A note written during the handover; it reaches the other side at once."""

    at: int
    author: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "author": self.author, "text": self.text}


@dataclass(frozen=True, slots=True)
class Transition:
    at: int
    previous: HandoverState | None  # None for the request that created the handover
    event: str
    state: HandoverState
    by: str  # who or what caused it: a username, "caller" or "system"
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "previous": self.previous,
            "event": self.event,
            "state": self.state,
            "by": self.by,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Handover:
    id: str
    contact_id: str  # the caller's contact
    consult_contact_id: str  # the consult call; carries the caller once transferred or queued
    from_agent: str
    target: str  # the queue the consult contact entered
    worker: str | None  # the named (asked for or allocated) worker offered first, if any
    note: Note
    state: HandoverState
    created_at: int
    updated_at: int
    specialist: str | None = None
    reason: str | None = None
    caller: CallerPlace = "held"
    expires_at: int | None = None  # when it fails unless a specialist has accepted
    history: list[Transition] = field(default_factory=list)
    notes: list[LiveNote] = field(default_factory=list)
    consults: list[str] = field(default_factory=list)  # every consult contact it opened, oldest first
    plan: RoutingPlan | None = None  # how its consult contacts are routed
    owner: str = ""  # the node that follows its calls and runs its timeout (see cti.handover.store)

    @property
    def active(self) -> bool:
        return self.state not in TERMINAL

    @property
    def consult_carries_caller(self) -> bool:
        """The consult contact has become the caller's contact (transferred, or queued for them)."""
        return self.caller in ("with_specialist", "queued") or self.state is HandoverState.COMPLETED

    def parties(self) -> tuple[str, ...]:
        return (self.from_agent,) if self.specialist is None else (self.from_agent, self.specialist)

    def to_json(self, detail: bool = True) -> dict[str, Any]:
        """``detail`` False (supervisors): the note's summary only, no free text and no live notes."""
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "consult_contact_id": self.consult_contact_id,
            "from_agent": self.from_agent,
            "target": self.target,
            "worker": self.worker,
            "specialist": self.specialist,
            "state": self.state,
            "reason": self.reason,
            "caller": self.caller,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
            "note": self.note.to_json() if detail else self.note.summary(),
            "notes": [n.to_json() for n in self.notes] if detail else len(self.notes),
            "history": [t.to_json() for t in self.history],
        }
