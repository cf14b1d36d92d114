"""Simulated callers in the IVR: a scripted caller (keys, speech, silences) driven through the engine,
as a telephony adapter would drive it, with a transcript of what the caller heard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ivr.actions import (
    TERMINAL,
    Action,
    CallerInput,
    CallStart,
    Digits,
    Gather,
    Hangup,
    NoInput,
    Play,
    Say,
    Speech,
)

MAX_TURNS = 50
FRONT_DOOR_KEYS_CARER = Speech(
    "I'm a carer"
)  # a caller who keeps giving wrong answers is taken to an adviser long before this


class Engine(Protocol):
    async def start(self, call: CallStart) -> tuple[dict[str, Any], list[Action]]: ...

    async def handle(
        self, state: dict[str, Any], event: CallerInput
    ) -> tuple[dict[str, Any], list[Action]]: ...

    async def hung_up(self, state: dict[str, Any]) -> None: ...


@dataclass
class IvrRun:
    """What happened in the IVR: every action in order, and the one that ended it."""

    actions: list[Action] = field(default_factory=list)
    outcome: Action = field(default_factory=Hangup)
    state: dict[str, Any] = field(default_factory=dict)
    hung_up: bool = False  # the caller hung up in the IVR (``drive(..., hang_up=True)``)

    @property
    def heard(self) -> list[str]:
        """Everything said to the caller (prompts inside gathers included), in order."""
        out: list[str] = []
        for action in self.actions:
            for prompt in action.prompts if isinstance(action, Gather) else (action,):
                if isinstance(prompt, Say):
                    out.append(prompt.text)
                elif isinstance(prompt, Play):
                    out.append(f"[audio {prompt.url}]")
        return out


async def drive(
    engine: Engine, call: CallStart, inputs: Sequence[CallerInput], *, hang_up: bool = False
) -> IvrRun:
    """Run the call through the IVR, answering each gather with the next input, then silence; or,
    with ``hang_up``, the caller hangs up once the inputs run out mid-flow (``engine.hung_up``)."""
    state, actions = await engine.start(call)
    run = IvrRun(list(actions), state=state)
    feed = iter(inputs)
    for _ in range(MAX_TURNS):
        if not actions or not isinstance(actions[-1], Gather):
            break
        event = next(feed, None)
        if event is None and hang_up:
            await engine.hung_up(state)
            run.hung_up = True
            break
        state, actions = await engine.handle(state, event or NoInput())
        run.actions += actions
    run.state = state
    last = actions[-1] if actions and not run.hung_up else Hangup()
    run.outcome = last if isinstance(last, TERMINAL) else Hangup()
    return run


def caller_inputs(caller_type: str, queue: str, ivr: dict[str, str]) -> list[CallerInput]:
    """What a generated caller (``cti.sim.generator.Arrival``) answers in the shipped flows: English,
    who they are (front door only; carers say so), no NHS number, their menu key, and hold rather than
    a callback. Status callers then wait for an adviser unless the IVR recognises their number."""
    professional = caller_type == "professional"
    inputs: list[CallerInput] = [Digits("1")]
    if "caller" in ivr:
        inputs.append(FRONT_DOOR_KEYS_CARER if caller_type == "carer" else Digits(ivr["caller"]))
    if professional:
        inputs.append(Digits(""))  # "#": no NHS number
    if "menu" in ivr:
        inputs.append(Digits(ivr["menu"]))
    if queue == "asc_triage" and not professional:
        inputs.append(Digits("2"))  # hold rather than be called back
    return inputs
