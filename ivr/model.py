"""The flow format: one YAML file per flow in ``ivr/flows/``, validated with pydantic at load.

A flow is a start node and a map of nodes by id; each node has a ``kind``. Text the caller hears is
either a string or a map from language (``en-GB``, ``cy-GB``) to string; a missing language falls back
to the flow's first. ``adviser`` names the node that key 0 (or saying "adviser") reaches from every menu
and prompt, so the caller can always get to a person.

Kinds: say, menu, collect, language, hours, set, enqueue, callback, transfer, status, hangup.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Text = str | dict[str, str]
DTMF_KEY = re.compile(r"[0-9*#]")
LANGUAGE = re.compile(r"[a-z]{2}-[A-Z]{2}")
CallerType = Literal["professional", "public", "carer"]
InputMode = Literal["dtmf", "speech", "dtmf speech"]
Validation = Literal["nhs_number", "reference", "date_of_birth", "digits", "phone"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_key(value: str | None) -> str | None:
    if value is not None and not DTMF_KEY.fullmatch(value):
        raise ValueError("a key is one of 0-9, * or #")
    return value


class Prompted(_Model):
    """A node that plays something first: ``say`` (text) and/or ``play`` (an audio URL)."""

    say: Text | None = None
    play: str | None = None


class Option(_Model):
    key: str | None = None  # the DTMF key; None: speech only
    words: tuple[str, ...] = ()  # any of these in what the caller says picks the option
    next: str
    set: dict[str, str] = Field(default_factory=dict)  # attributes the choice records

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return _check_key(value)

    @model_validator(mode="after")
    def _reachable(self) -> Option:
        if self.key is None and not self.words:
            raise ValueError("an option needs a key or words")
        return self


class Asking(Prompted):
    """A node that waits for the caller: retries, timeout, and the way to an adviser."""

    timeout_s: float = Field(default=6.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=5)  # invalid or no input this many times more, then on_fail
    adviser: bool = True  # key 0 / "adviser" goes to the flow's adviser node
    invalid: Text | None = None  # said before the prompt again after a wrong key
    on_fail: str | None = None  # after the retries; default: the flow's adviser node


class SayNode(Prompted):
    kind: Literal["say"]
    pause_s: float = Field(default=0, ge=0, le=30)
    next: str | None = None


class MenuNode(Asking):
    kind: Literal["menu"]
    options: tuple[Option, ...] = Field(min_length=1)
    input: InputMode = "dtmf speech"
    repeat_key: str | None = "*"

    @field_validator("repeat_key")
    @classmethod
    def _repeat(cls, value: str | None) -> str | None:
        return _check_key(value)

    @model_validator(mode="after")
    def _distinct_keys(self) -> MenuNode:
        keys = [o.key for o in self.options if o.key is not None]
        if self.repeat_key is not None:
            keys.append(self.repeat_key)
        if len(keys) != len(set(keys)):
            raise ValueError("two choices use the same key")
        return self


class CollectNode(Asking):
    kind: Literal["collect"]
    validate_as: Validation = Field(alias="validate")
    store: str = Field(min_length=1, max_length=40)  # the attribute the value is kept in
    min_digits: int = Field(default=1, ge=1, le=20)
    max_digits: int = Field(default=20, ge=1, le=20)
    optional: bool = False  # "#" alone skips it
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    confirm: bool = True  # read the value back
    next: str

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LanguageOption(_Model):
    key: str
    words: tuple[str, ...] = ()
    language: str

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return _check_key(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not LANGUAGE.fullmatch(value):
            raise ValueError("a language is written like en-GB")
        return value


class LanguageNode(Asking):
    kind: Literal["language"]
    options: tuple[LanguageOption, ...] = Field(min_length=1)
    retries: int = Field(default=0, ge=0, le=5)
    next: str  # also where the caller goes, in the default language, if they choose nothing


class HoursNode(_Model):
    """Branch on opening hours: those of a queue (``queue``) or of a calendar (``calendar``)."""

    kind: Literal["hours"]
    queue: str | None = None
    calendar: str | None = None
    open: str
    closed: str

    @model_validator(mode="after")
    def _one(self) -> HoursNode:
        if (self.queue is None) == (self.calendar is None):
            raise ValueError("give exactly one of queue or calendar")
        return self


class SetNode(_Model):
    kind: Literal["set"]
    caller_type: CallerType | None = None
    priority: int | None = Field(default=None, ge=0, le=9)
    service: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    next: str


class HoldMessage(Prompted):
    pass


class EnqueueNode(Prompted):
    kind: Literal["enqueue"]
    queue: str | None = None
    from_number: bool = False  # the queue the dialled number goes straight to (numbers.yaml)
    priority: int | None = Field(default=None, ge=0, le=9)
    hold_messages: tuple[HoldMessage, ...] = ()
    hold_interval_s: float = Field(default=30.0, ge=5, le=600)
    announce_position: bool = True
    announce_wait: bool = True

    @model_validator(mode="after")
    def _queue(self) -> EnqueueNode:
        if self.queue is None and not self.from_number:
            raise ValueError("give a queue, or from_number: true")
        return self


class CallbackNode(Asking):
    """Offer a call back on the caller's number; they keep their place in ``queue``."""

    kind: Literal["callback"]
    queue: str | None = None
    from_number: bool = False
    accept_key: str = "1"
    hold_key: str = "2"
    confirm: Text | None = None
    next: str  # the caller would rather hold (or the number is withheld)

    @field_validator("accept_key", "hold_key")
    @classmethod
    def _keys(cls, value: str | None) -> str | None:
        return _check_key(value)


class TransferNode(Prompted):
    kind: Literal["transfer"]
    number: str = Field(min_length=3, max_length=20)  # E.164, a national number, or 999 / 111
    reason: str = ""


class StatusNode(Asking):
    """Self-service progress: by the caller's number, else the reference they key in."""

    kind: Literal["status"]
    by_number: bool = True
    verify: bool = True  # a reference keyed from another number needs the person's date of birth
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    not_found: str | None = None  # the reference is unknown after the retries; default: adviser
    reason: str = "progress_chase"


class HangupNode(Prompted):
    kind: Literal["hangup"]


Node = Annotated[
    SayNode
    | MenuNode
    | CollectNode
    | LanguageNode
    | HoursNode
    | SetNode
    | EnqueueNode
    | CallbackNode
    | TransferNode
    | StatusNode
    | HangupNode,
    Field(discriminator="kind"),
]
ASKING = (MenuNode, CollectNode, LanguageNode, CallbackNode, StatusNode)
TERMINAL_NODES = (EnqueueNode, CallbackNode, TransferNode, StatusNode, HangupNode)
HUMAN_NODES = (EnqueueNode, CallbackNode, TransferNode)


class Flow(_Model):
    name: str = ""  # set from the file name
    description: str = ""
    languages: tuple[str, ...] = ("en-GB",)  # the first is the default
    start: str
    adviser: str  # where key 0 goes: a node that reaches a person
    adviser_key: str = "0"
    nodes: dict[str, Node] = Field(min_length=1)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one language")
        for language in value:
            if not LANGUAGE.fullmatch(language):
                raise ValueError(f"'{language}' is not written like en-GB")
        return value

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def text(self, text: Text | None, language: str) -> str | None:
        if text is None or isinstance(text, str):
            return text
        return text.get(language) or text.get(self.default_language) or next(iter(text.values()), None)


def successors(node: BaseModel, flow: Flow) -> list[str]:
    """The node ids a node may lead to (the adviser included for nodes that ask)."""
    out: list[str] = []
    if isinstance(node, MenuNode):
        out += [o.next for o in node.options]
    if isinstance(node, HoursNode):
        out += [node.open, node.closed]
    for name in ("next", "on_fail", "not_found"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            out.append(value)
    if isinstance(node, ASKING) and (node.adviser or node.on_fail is None):
        out.append(flow.adviser)
    if isinstance(node, StatusNode) and node.not_found is None:
        out.append(flow.adviser)
    return list(dict.fromkeys(out))
