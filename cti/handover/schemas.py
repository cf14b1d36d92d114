"""Request bodies of the handover API (limits mirror ``cti.handover.model``; the model checks again)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cti.handover.model import (
    FREE_TEXT_MAX,
    LIVE_NOTE_MAX,
    REASON_MAX,
    RISK_FLAG_MAX,
    RISK_FLAGS_MAX,
    TOLD_CALLER_MAX,
    TRIAGE_OUTCOME_MAX,
    Note,
)

NAME = r"^[A-Za-z0-9_.-]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(Strict):
    reason: str = Field(min_length=1, max_length=REASON_MAX)
    triage_outcome: str | None = Field(default=None, max_length=TRIAGE_OUTCOME_MAX)
    risk_flags: list[str] = Field(
        default_factory=list,
        max_length=RISK_FLAGS_MAX,
        json_schema_extra={"items": {"pattern": "^[a-z0-9_]+$", "maxLength": RISK_FLAG_MAX}},
    )
    told_caller: str | None = Field(default=None, max_length=TOLD_CALLER_MAX)
    free_text: str | None = Field(default=None, max_length=FREE_TEXT_MAX)

    def to_note(self) -> Note:
        return Note.of(self.reason, self.triage_outcome, self.risk_flags, self.told_caller, self.free_text)


class HandoverIn(Strict):
    """To a skill queue (``target``; the person's allocated worker there is offered first), to a
    worker by name (``worker``), or to a worker first and then a queue (both)."""

    target: str | None = Field(default=None, min_length=1, max_length=64, pattern=NAME)
    worker: str | None = Field(default=None, min_length=1, max_length=64, pattern=NAME)
    note: NoteIn

    @model_validator(mode="after")
    def _someone(self) -> HandoverIn:
        if self.target is None and self.worker is None:
            raise ValueError("give a target queue or a worker")
        return self


class LiveNoteIn(Strict):
    text: str = Field(min_length=1, max_length=LIVE_NOTE_MAX)
