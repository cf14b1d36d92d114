"""What the Asterisk adapter keeps per call and per agent's phone leg, and how prompts map to sound files."""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.actions import Action, CallerInput, CallStart, Play, Say

IN, PARK, AGENT_WAIT, AGENTS, OUT = (
    "frontdoor-in",
    "frontdoor-park",
    "frontdoor-agent",
    "frontdoor-agents",
    "frontdoor-out",
)
AGENT_WAIT_LOOP = 2  # priority of the waiting loop in frontdoor-agent (after Answer)
KEYS = "0123456789*#"
SAFE = re.compile(r"[^A-Za-z0-9_+-]")  # names that go into dialplan strings
NOT_DIALLABLE = re.compile(r"[^0-9+*#]")  # numbers dialled out: nothing else reaches the dialplan


class IvrLike(Protocol):
    async def start(self, call: CallStart) -> tuple[dict[str, Any], list[Action]]: ...

    async def handle(
        self, state: dict[str, Any], event: CallerInput
    ) -> tuple[dict[str, Any], list[Action]]: ...

    async def hung_up(self, state: dict[str, Any]) -> None: ...


class CallGone(Exception):
    """The caller's channel left Async AGI (hung up, bridged or redirected)."""


def prompt_file(say: Say) -> str:
    """The sound file a ``Say`` plays: ``frontdoor/<language>/<hash of the text>``. Asterisk has no
    built-in text-to-speech, so each text is recorded (or synthesised) once into that file."""
    digest = hashlib.sha256(say.text.encode()).hexdigest()[:16]
    return f"frontdoor/{SAFE.sub('', say.language)}/{digest}"


def play_file(play: Play) -> str:
    name = play.url.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "://" in play.url else play.url
    return "/".join(SAFE.sub("", part) for part in name.split("/") if part)


@dataclass
class Leg:
    """An agent's phone leg, originated by ``ring``."""

    agent: str
    call_id: str
    uniqueid: str
    channel: str | None = None
    answered: bool = False
    bridge_on_answer: bool = False


@dataclass
class Call:
    call_id: str
    uniqueid: str | None = None  # the caller's channel; None for a consult the caller has not joined
    channel: str | None = None
    cli: str | None = None
    dialled: str = ""
    handed: bool = False  # the domain knows it (call_arrived)
    gone: bool = False
    held: bool = False
    agent: str | None = None  # the agent connected (or reserved, for a consult)
    legs: dict[str, Leg] = field(default_factory=dict)
    parent: str | None = None  # a consult: the caller's original call
    consult: str | None = None  # an open consult of this call
    callback: str | None = None  # the number to call back on (CallbackRequested), E.164
    called_back: bool = False  # the dial-back was placed: from now on its hang-up is the caller's
    task: asyncio.Task[None] | None = None
    ivr: dict[str, Any] | None = None  # the IVR session while the caller is in it (for ``hung_up``)
