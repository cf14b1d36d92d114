"""Walking a script: where a sequence of answers leads. Pure functions over a ``Script``.

The same walk serves the live session, the built-in test cases and the linter, so a test that
passes in ``frontdoor scripts lint`` is the path an agent sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scripts.model import Answer, BuiltInTest, Outcome, Question, Script


class PathError(ValueError):
    """An answer that does not fit the script at that point."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Position:
    """Where a path of answers stands: at a question, or at an outcome (the script has ended)."""

    question: Question | None
    outcome: Outcome | None
    red_flag: bool  # the path ended on a red-flag answer


def answer_of(question: Question, answer_id: str) -> Answer:
    answer = next((a for a in question.answers if a.id == answer_id), None)
    if answer is None:
        known = ", ".join(a.id for a in question.answers)
        raise PathError(
            f"question '{question.id}' has no answer '{answer_id}' (answers: {known})", "answer_id"
        )
    return answer


def step(script: Script, at: Position, question_id: str, answer_id: str) -> Position:
    """The position after answering ``question_id`` with ``answer_id`` at ``at``."""
    if at.question is None:
        raise PathError("the script has reached its outcome: no question is open", "question_id")
    if at.question.id != question_id:
        raise PathError(f"the open question is '{at.question.id}', not '{question_id}'", "question_id")
    answer = answer_of(at.question, answer_id)
    if answer.next is None:
        raise PathError(f"answer '{answer_id}' of '{question_id}' has no next step", "answer_id")
    question = script.question(answer.next)
    outcome = script.outcome(answer.next)
    if question is None and outcome is None:
        raise PathError(
            f"answer '{answer_id}' of '{question_id}' leads to unknown node '{answer.next}'", "answer_id"
        )
    return Position(question, outcome, answer.red_flag and outcome is not None)


def start(script: Script) -> Position:
    question = script.question(script.start)
    if question is None:
        raise PathError(f"start node '{script.start}' is not a question", "start")
    return Position(question, None, False)


def walk(script: Script, path: Iterable[tuple[str, str]]) -> Position:
    """Follow ``(question_id, answer_id)`` pairs from the start."""
    at = start(script)
    for question_id, answer_id in path:
        at = step(script, at, question_id, answer_id)
    return at


def run_test(script: Script, test: BuiltInTest) -> str | None:
    """Run one built-in test case: ``None`` if it passes, else why it fails."""
    try:
        at = start(script)
        used = 0
        while at.question is not None:
            qid = at.question.id
            if qid not in test.answers:
                return f"no answer given for question '{qid}'"
            at = step(script, at, qid, test.answers[qid])
            used += 1
    except PathError as exc:
        return str(exc)
    assert at.outcome is not None
    if used != len(test.answers):
        return f"the script ended at '{at.outcome.id}' before using every answer given"
    if at.outcome.id != test.expect:
        return f"expected outcome '{test.expect}', reached '{at.outcome.id}'"
    return None


def reached_outcome(script: Script, test: BuiltInTest) -> str | None:
    """The outcome a test case reaches (``None`` if it does not reach one)."""
    try:
        at = start(script)
        while at.question is not None:
            at = step(script, at, at.question.id, test.answers.get(at.question.id, ""))
    except PathError:
        return None
    return at.outcome.id if at.outcome is not None else None
