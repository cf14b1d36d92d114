"""The real-time desktop channel: websockets for agent desktops and supervisor wallboards.

``install(app)`` adds ``POST /api/ws-ticket``, ``/ws/agent`` and ``/ws/supervisor`` and the hooks that
start and stop the node's ``Hub`` (kept in ``services.extras["ws"]``). Messages and close codes are
catalogued in ``cti/ws/EVENTS.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from cti.wiring import Services
from cti.ws.hub import Hub
from cti.ws.messages import validate_transport_message
from cti.ws.options import UVICORN_WS_OPTIONS, WsOptions
from cti.ws.routes import router
from cti.ws.snapshots import SnapshotProvider

__all__ = [
    "UVICORN_WS_OPTIONS",
    "Hub",
    "SnapshotProvider",
    "WsOptions",
    "install",
    "validate_transport_message",
]


def install(
    app: FastAPI,
    options: WsOptions | None = None,
    *,
    snapshot_providers: Mapping[str, SnapshotProvider] | None = None,
) -> None:
    """Serve the channel. ``snapshot_providers`` (kind ``"agent"`` or ``"supervisor"`` -> an
    ``async (services, principal) -> dict``) replace the minimal built-in ones."""
    app.include_router(router)

    async def started(services: Services) -> None:
        hub = Hub(services, options, snapshot_providers)
        await hub.start()
        services.extras["ws"] = hub

    async def stopping(services: Services) -> None:
        hub = services.extras.pop("ws", None)
        if isinstance(hub, Hub):
            await hub.stop()

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
