"""A script session: the fold of its append-only events, and the transitions it allows.

States: ``in_progress`` (a question is open, or the outcome is reached and awaits the agent's
decision) -> ``finished`` (the outcome was accepted or overridden). Event kinds: ``started``,
``answered``, ``back`` (undoes the latest answer by appending, never by rewriting), ``accepted``,
``overridden``. An illegal transition raises ``IllegalTransition``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cti.domain.errors import Conflict, IllegalTransition, InvalidInput
from scripts.engine import PathError, Position, walk
from scripts.engine import step as take_step
from scripts.model import Script
from scripts.render import PromptContext, PromptError, render
from scripts.store import EventRow, SessionRow

SessionState = Literal["in_progress", "finished"]


@dataclass(frozen=True, slots=True)
class PathStep:
    question_id: str
    answer_id: str
    at: datetime
    agent_id: str
    red_flag: bool
    question_shown: str
    answer_text: str


@dataclass
class ScriptSession:
    row: SessionRow
    script: Script
    events: list[EventRow]
    path: list[PathStep] = field(default_factory=list)
    decision: EventRow | None = None
    actioned: EventRow | None = None  # what accepting did (e.g. the service request it opened)
    position: Position | None = None

    @classmethod
    def fold(cls, row: SessionRow, script: Script, events: list[EventRow]) -> ScriptSession:
        session = cls(row, script, events)
        for e in events:
            if e.kind == "answered":
                assert e.node is not None and e.answer_id is not None
                session.path.append(
                    PathStep(
                        e.node,
                        e.answer_id,
                        e.at,
                        e.agent_id,
                        e.red_flag,
                        e.question_shown or "",
                        e.answer_text or "",
                    )
                )
            elif e.kind == "back":
                session.path.pop()
            elif e.kind in ("accepted", "overridden"):
                session.decision = e
            elif e.kind == "actioned":
                session.actioned = e
        session.position = walk(script, [(s.question_id, s.answer_id) for s in session.path])
        return session

    # --- reading ---------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.row.id

    @property
    def ref(self) -> str:
        return self.script.ref

    @property
    def state(self) -> SessionState:
        return "finished" if self.decision is not None else "in_progress"

    @property
    def at(self) -> Position:
        assert self.position is not None
        return self.position

    @property
    def context(self) -> PromptContext:
        started = self.events[0].details.get("context", {}) if self.events else {}
        return PromptContext(
            **{k: str(v) for k, v in started.items() if k in PromptContext.__dataclass_fields__}
        )

    @property
    def next_seq(self) -> int:
        return self.events[-1].seq + 1 if self.events else 1

    @property
    def outcome_reached_at(self) -> datetime | None:
        if self.at.outcome is None or not self.path:
            return None
        return self.path[-1].at

    def text(self, template: str) -> str:
        try:
            return render(template, self.context)
        except PromptError:
            # The linter renders every template before approval; if one still fails, show the
            # author's text rather than nothing, so the call handler can carry on.
            return template

    # --- transitions (each returns the event to append) ------------------------------------------
    def _event(self, kind: str, agent: str, at: datetime, **values: Any) -> EventRow:
        return EventRow(
            seq=self.next_seq,
            at=at,
            contact_id=self.row.contact_id,
            script=self.ref,
            kind=kind,
            node=values.pop("node", None),
            question_shown=values.pop("question_shown", None),
            answer_id=values.pop("answer_id", None),
            answer_text=values.pop("answer_text", None),
            red_flag=values.pop("red_flag", False),
            agent_id=agent,
            details=values.pop("details", {}),
        )

    def _require(self, event: str, *, outcome: bool) -> None:
        current = (
            self.state if self.state == "finished" else ("outcome_reached" if self.at.outcome else "asking")
        )
        wanted = "outcome_reached" if outcome else "asking"
        if current != wanted:
            raise IllegalTransition("script_session", current, event, (wanted,))

    def answer(self, question_id: str, answer_id: str, agent: str, at: datetime) -> EventRow:
        self._require("answer", outcome=False)
        try:
            after = take_step(self.script, self.at, question_id, answer_id)
        except PathError as exc:
            raise InvalidInput(str(exc), error_id="invalid_answer", field=exc.field) from None
        question = self.at.question
        assert question is not None
        answer = next(a for a in question.answers if a.id == answer_id)
        return self._event(
            "answered",
            agent,
            at,
            node=question_id,
            question_shown=self.text(question.text),
            answer_id=answer_id,
            answer_text=self.text(answer.text),
            red_flag=answer.red_flag,
            details={"next": answer.next, "ends": after.outcome.id if after.outcome else None},
        )

    def back(self, agent: str, at: datetime) -> EventRow:
        if self.state == "finished":
            raise IllegalTransition("script_session", "finished", "back", ("asking", "outcome_reached"))
        if not self.path:
            raise Conflict("nothing to go back to: no question has been answered", error_id="nothing_to_undo")
        last = self.path[-1]
        if last.red_flag:
            # A red flag cannot be skipped: to act otherwise the agent overrides, with a reason.
            raise Conflict(
                "a red-flag answer cannot be undone; override the outcome with a reason instead",
                error_id="red_flag_cannot_be_undone",
            )
        return self._event(
            "back", agent, at, node=last.question_id, answer_id=last.answer_id, details={"undoes": "answer"}
        )

    def decide(self, agent: str, at: datetime, override_action: str | None, reason: str | None) -> EventRow:
        self._require("outcome", outcome=True)
        outcome = self.at.outcome
        assert outcome is not None
        if override_action is None:
            return self._event("accepted", agent, at, node=outcome.id, red_flag=self.at.red_flag)
        return self._event(
            "overridden",
            agent,
            at,
            node=outcome.id,
            red_flag=self.at.red_flag,
            details={"scripted_action": outcome.action, "override_action": override_action, "reason": reason},
        )
