"""Simulator controls: place a simulated call, straight to a queue or through the IVR (supervisors and
admins; sim telephony only)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cti.api.deps import ServicesDep, Supervisor
from cti.api.schemas import SimCallIn
from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.telephony.port import InboundCall
from ivr.actions import CallerInput, Digits, NoInput, Speech

router = APIRouter(prefix="/api/sim", tags=["simulator"])


class CallerInputIn(BaseModel):
    """One answer to the IVR: keys (``digits``, without the finishing #), speech, or silence."""

    model_config = ConfigDict(extra="forbid")
    digits: str | None = Field(default=None, max_length=32, pattern=r"^[0-9*#]*$")
    speech: str | None = Field(default=None, max_length=200)
    confidence: float = Field(default=1.0, ge=0, le=1)
    no_input: bool = False

    @model_validator(mode="after")
    def _one(self) -> CallerInputIn:
        given = (self.digits is not None) + (self.speech is not None) + self.no_input
        if given != 1:
            raise ValueError("give exactly one of digits, speech or no_input")
        return self

    def event(self) -> CallerInput:
        if self.digits is not None:
            return Digits(self.digits)
        if self.speech is not None:
            return Speech(self.speech, self.confidence)
        return NoInput()


class SimIvrCallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cli: str | None = Field(default=None, max_length=32)
    dialled: str = Field(default="+441164960000", max_length=32)
    inputs: list[CallerInputIn] = Field(default_factory=list, max_length=40)


def _sim(svc: Any) -> Any:
    if svc.telephony.name != "sim":
        raise Conflict("the simulator is not the telephony in use", error_id="sim_not_active")
    return svc.telephony


@router.post("/calls", status_code=201)
async def place_call(body: SimCallIn, user: Supervisor, svc: ServicesDep) -> dict[str, Any]:
    sim = _sim(svc)
    call_id = "sim-" + uuid.uuid4().hex[:12]
    if body.queue not in svc.centre.queues:
        raise InvalidInput(f"unknown queue '{body.queue}'", error_id="unknown_queue", field="queue")
    await sim.place_call(
        InboundCall(
            call_id=call_id,
            cli=body.cli,
            dialled=body.dialled,
            queue=body.queue,
            caller_type=body.caller_type,
            nhs_number=body.nhs_number,
        )
    )
    return {"call_id": call_id}


@router.post("/calls/{call_id}/hangup", status_code=204)
async def caller_hangs_up(call_id: str, user: Supervisor, svc: ServicesDep) -> None:
    sim = _sim(svc)
    try:
        await svc.store.get_contact(call_id)
    except NotFound:
        raise NotFound(f"no call {call_id}", error_id="call_not_found") from None
    await sim.caller_hangs_up(call_id)


@router.post("/ivr-calls", status_code=201)
async def dial(body: SimIvrCallIn, user: Supervisor, svc: ServicesDep) -> dict[str, Any]:
    """A simulated caller dials a number and answers the IVR; returns what they heard and where the
    IVR sent them (``outcome``: enqueue, callbackrequested, transferout, selfservicedone, hangup)."""
    sim = _sim(svc)
    call_id = "sim-" + uuid.uuid4().hex[:12]
    run = await sim.dial(call_id, body.cli, body.dialled, [i.event() for i in body.inputs])
    outcome = {"action": type(run.outcome).__name__.lower(), **dataclasses.asdict(run.outcome)}
    outcome.pop("hold_messages", None)
    outcome.pop("nhs_number", None)  # never echo personal data the caller keyed
    return {"call_id": call_id, "heard": run.heard, "outcome": outcome}
