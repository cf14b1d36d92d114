"""The triage script format: YAML validated into these models, errors naming the script and the node.

A script is a graph: questions (each answer names the next node) ending in outcomes. The content
hash covers everything a caller's path depends on and nothing about the script's lifecycle
(``status``, ``approval``), so approving or retiring a version never changes its hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Action = Literal["signpost", "refer", "warm_handover", "book", "transfer_999", "transfer_111"]
ACTIONS: tuple[Action, ...] = ("signpost", "refer", "warm_handover", "book", "transfer_999", "transfer_111")
Status = Literal["draft", "in_review", "approved", "retired"]
ID = r"^[a-z][a-z0-9_]{0,63}$"
TIMEFRAME = re.compile(r"^(immediate|[1-9][0-9]{0,2}(h|d))$")
URGENT_WITHIN = timedelta(hours=4)  # a red flag must lead to an outcome due within this


def timeframe_delta(timeframe: str) -> timedelta:
    """``immediate`` -> 0; ``4h`` -> 4 hours; ``14d`` -> 14 days."""
    if not TIMEFRAME.match(timeframe):
        raise ValueError(f"timeframe {timeframe!r} is not 'immediate', '<n>h' or '<n>d'")
    if timeframe == "immediate":
        return timedelta(0)
    n = int(timeframe[:-1])
    return timedelta(hours=n) if timeframe.endswith("h") else timedelta(days=n)


def is_urgent(timeframe: str | None) -> bool:
    return timeframe is not None and timeframe_delta(timeframe) <= URGENT_WITHIN


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Strict):
    id: str = Field(pattern=ID)
    text: str = Field(min_length=1, max_length=2000)
    # Optional here so that the linter, not the parser, reports "answer without a next step".
    next: str | None = None
    red_flag: bool = False


class Question(_Strict):
    id: str = Field(pattern=ID)
    text: str = Field(min_length=1, max_length=2000)
    rationale: str = Field(min_length=1, max_length=2000)
    help: str = Field(default="", max_length=4000)
    red_flag: bool = False  # a red-flag screening question (asked first, cannot be skipped)
    hazards: tuple[str, ...] = ()
    answers: tuple[Answer, ...] = ()


class Outcome(_Strict):
    id: str = Field(pattern=ID)
    action: Action
    text: str = Field(min_length=1, max_length=2000)
    # Optional here so that the linter reports an outcome without a skill or a timeframe.
    skill: str | None = None
    timeframe: str | None = None
    service_type: str | None = Field(default=None, max_length=100)
    service: str | None = Field(default=None, max_length=50)  # the centre service a request goes to
    queue: str | None = Field(default=None, max_length=64)  # the handover target queue
    allocated_worker: bool = False  # offer the person's allocated worker first (open case, T2)
    hazards: tuple[str, ...] = ()

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str | None) -> str | None:
        if value is not None:
            timeframe_delta(value)
        return value


class Hazard(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")
    description: str = Field(min_length=1, max_length=1000)
    mitigation: str = Field(default="", max_length=1000)


class BuiltInTest(_Strict):
    name: str = Field(min_length=1, max_length=200)
    answers: dict[str, str]  # question id -> answer id, in the order they are asked
    expect: str


class Approval(_Strict):
    by: str = Field(min_length=1, max_length=100)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


class Script(_Strict):
    id: str = Field(pattern=ID)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    status: Status
    notice: str = Field(min_length=1, max_length=500)
    services: tuple[str, ...] = Field(min_length=1)
    start: str
    hazards: tuple[Hazard, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    tests: tuple[BuiltInTest, ...] = ()
    approval: Approval | None = None

    def content(self) -> dict[str, Any]:
        """What the hash covers: the script without its lifecycle fields."""
        return self.model_dump(mode="json", exclude={"status", "approval"})

    @property
    def hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def ref(self) -> str:
        """``script@version#hash`` (the hash shortened to 12 hex digits), as audit events name it."""
        return f"{self.id}@{self.version}#{self.hash[:12]}"

    def question(self, node: str) -> Question | None:
        return next((q for q in self.questions if q.id == node), None)

    def outcome(self, node: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.id == node), None)


class ScriptFormatError(ValueError):
    """A script file that does not parse; ``problems`` are ``(node, message)`` pairs."""

    def __init__(self, script: str, problems: list[tuple[str, str]]) -> None:
        self.script = script
        self.problems = problems
        super().__init__("; ".join(f"{script}: {node}: {message}" for node, message in problems))


def _node_of(raw: Any, loc: tuple[int | str, ...]) -> tuple[str, str]:
    """Name the node a pydantic error location points into, and the field path within it."""
    if len(loc) >= 2 and loc[0] in ("questions", "outcomes", "tests", "hazards") and isinstance(loc[1], int):
        items = raw.get(loc[0]) if isinstance(raw, dict) else None
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        key = "name" if loc[0] == "tests" else "id"
        name = item.get(key) if isinstance(item, dict) else None
        node = str(name) if name is not None else f"{loc[0]}[{loc[1]}]"
        return node, ".".join(str(p) for p in loc[2:]) or str(loc[0])
    return "script", ".".join(str(p) for p in loc)


def parse_script(raw: Any, name: str) -> Script:
    """Validate parsed YAML; ``name`` (the file or id) names the script in errors."""
    if not isinstance(raw, dict):
        raise ScriptFormatError(name, [("script", "the file must hold a mapping")])
    script_name = str(raw.get("id") or name)
    try:
        return Script.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            node, field = _node_of(raw, tuple(error["loc"]))
            problems.append((node, f"{field}: {error['msg']}"))
        raise ScriptFormatError(script_name, problems) from None


def load_script(path: Path) -> Script:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScriptFormatError(path.name, [("script", f"not valid YAML: {exc}")]) from None
    return parse_script(raw, path.name)
