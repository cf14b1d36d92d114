"""Simulator controls: place a simulated call (supervisors and admins; sim telephony only)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from cti.api.deps import ServicesDep, Supervisor
from cti.api.schemas import SimCallIn
from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.telephony.port import InboundCall

router = APIRouter(prefix="/api/sim", tags=["simulator"])


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
