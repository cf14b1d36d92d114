"""The supervisor live view over HTTP, and the snapshot the websocket hub serves before the stream."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cti.api.deps import ServicesDep, Supervisor
from cti.auth.service import Principal
from cti.domain.errors import Conflict, Forbidden
from cti.live.messages import SUPERVISOR_STREAM
from cti.live.service import LiveView
from cti.wiring import Services

SUPERVISOR_ROLES = ("supervisor", "admin")

router = APIRouter(prefix="/api", tags=["live"])


def live_view(services: Services) -> LiveView:
    view = services.extras.get("live")
    if not isinstance(view, LiveView):
        raise Conflict("the live view is not running", error_id="live_view_not_running")
    return view


async def supervisor_snapshot(services: Services, principal: Principal) -> dict[str, Any]:
    """Queues, agents and alerts now, for a supervisor or an admin (``role_forbidden`` otherwise).

    ``supervisor_seq`` is read before the figures are taken: a client that resumes the "supervisor"
    stream after it may see a message already reflected here (each is a whole state, so applying it
    again is harmless) but misses none. ``as_of_seq`` is the centre seq the figures reflect.
    """
    if principal.role not in SUPERVISOR_ROLES:
        raise Forbidden(
            f"this needs one of the roles: {', '.join(SUPERVISOR_ROLES)}", error_id="role_forbidden"
        )
    view = live_view(services)
    supervisor_seq = await services.bus.last_seq(SUPERVISOR_STREAM)
    return {**view.snapshot(services.clock.now_ms()), "supervisor_seq": supervisor_seq}


@router.get("/live")
async def get_live(user: Supervisor, svc: ServicesDep) -> dict[str, Any]:
    """The supervisor live view: today's figures per queue, agents' states, active alerts."""
    return await supervisor_snapshot(svc, user)
