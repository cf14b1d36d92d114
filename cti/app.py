"""The ASGI application: FastAPI with the services built in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from cti.api.errors import install_error_handlers
from cti.api.routes import agents, auth, contacts, health, people, queues, sim
from cti.config.settings import Settings
from cti.domain.clock import Clock
from cti.wiring import Services, build_services

if TYPE_CHECKING:
    from cti.ws import SnapshotProvider, WsOptions


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    ws_options: WsOptions | None = None,
    ws_providers: Mapping[str, SnapshotProvider] | None = None,
) -> FastAPI:
    """``ws_options`` and ``ws_providers`` let tests shorten the websocket timings or swap snapshots."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services: Services = await build_services(settings, clock)
        app.state.services = services
        try:
            for hook in app.state.on_started:
                await hook(services)
            yield
        finally:
            for hook in reversed(app.state.on_stopping):
                await hook(services)
            await services.close()

    app = FastAPI(
        title="Frontdoor",
        version="0.1.0",
        summary="Contact-centre backend for an integrated health and social care single point of access",
        lifespan=lifespan,
    )
    app.state.on_started = []
    app.state.on_stopping = []
    install_error_handlers(app)
    for module in (health, auth, agents, contacts, queues, people, sim):
        app.include_router(module.router)
    # Capabilities with their own package add their routes and start/stop hooks.
    from cti import desktop, handover, live, ws
    from cti.desktop.snapshot import agent_snapshot_provider

    desktop.install(app)
    live.install(app)
    providers = ws_providers or {"agent": agent_snapshot_provider, "supervisor": live.supervisor_snapshot}
    ws.install(app, ws_options, snapshot_providers=providers)
    handover.install(app, handover.HandoverPolicy(timeout_s=settings.handover_timeout_s))
    # The IVR and telephony webhooks, triage scripts, knowledge and directory, and the browser pages.
    import agent_ui
    import ivr.api
    import knowledge.api
    import scripts.api
    from cti import asterisk, twilio

    ivr.api.install(app)
    twilio.install(app)
    asterisk.install(app)
    scripts.api.install(app)
    knowledge.api.install(app)
    agent_ui.install(app)
    return app
