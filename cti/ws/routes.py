"""HTTP and websocket routes of the desktop channel."""

from __future__ import annotations

import math

from fastapi import APIRouter, Response, WebSocket
from pydantic import BaseModel

from cti.api.deps import ServicesDep, Staff
from cti.wiring import Services
from cti.ws.hub import Hub

router = APIRouter(tags=["desktop channel"])


class WsTicketOut(BaseModel):
    ticket: str
    expires_in: int  # seconds


def hub_of(services: Services) -> Hub:
    hub = services.extras["ws"]
    assert isinstance(hub, Hub)
    return hub


@router.post("/api/ws-ticket", response_model=WsTicketOut)
async def ws_ticket(user: Staff, svc: ServicesDep, response: Response) -> WsTicketOut:
    """A single-use ticket (valid for ``expires_in`` seconds) to open ``/ws/agent`` or
    ``/ws/supervisor`` as ``?ticket=...``; the bearer token itself never goes into a URL."""
    hub = hub_of(svc)
    ticket = await hub.issue_ticket(user)
    response.headers["Cache-Control"] = "no-store"
    return WsTicketOut(ticket=ticket, expires_in=math.ceil(hub.options.ticket_ttl_s))


@router.websocket("/ws/agent")
async def agent_channel(websocket: WebSocket) -> None:
    await hub_of(websocket.app.state.services).serve(websocket, "agent")


@router.websocket("/ws/supervisor")
async def supervisor_channel(websocket: WebSocket) -> None:
    await hub_of(websocket.app.state.services).serve(websocket, "supervisor")
