"""The supervisor live view: today's queue figures, agent states and alerts, from the centre stream.

``install(app)`` adds ``GET /api/live`` and starts a ``LiveView`` with the app (kept in
``services.extras["live"]``); it publishes the messages catalogued in ``EVENTS.md`` on the bus stream
"supervisor", and ``supervisor_snapshot`` gives the websocket hub the state to start from.
"""

from __future__ import annotations

from fastapi import FastAPI

from cti.live.api import live_view, router, supervisor_snapshot
from cti.live.checkpoint import Checkpoints, NoCheckpoints, RedisCheckpoints
from cti.live.messages import SUPERVISOR_STREAM, validate_supervisor_message
from cti.live.service import LiveView
from cti.live.stats import QueueTargets
from cti.wiring import Services


def queue_targets(services: Services) -> dict[str, QueueTargets]:
    """Each configured queue's thresholds, in configuration order."""
    return {
        q.id: QueueTargets(q.service_level.threshold_s, q.service_level.target, q.abandon_threshold_s)
        for q in services.centre.queues.values()
    }


def live_view_for(services: Services) -> LiveView:
    checkpoints: Checkpoints = NoCheckpoints()
    if services.redis is not None:
        checkpoints = RedisCheckpoints(services.redis, services.settings.redis_prefix)
    return LiveView(
        services.bus, services.store, queue_targets(services), services.clock, checkpoints=checkpoints
    )


async def _started(services: Services) -> None:
    view = live_view_for(services)
    await view.start()
    services.extras["live"] = view


async def _stopping(services: Services) -> None:
    view = services.extras.pop("live", None)
    if isinstance(view, LiveView):
        await view.stop()


def install(app: FastAPI) -> None:
    """Serve ``GET /api/live`` and run the live view for the app's lifetime."""
    app.include_router(router)
    app.state.on_started.append(_started)
    app.state.on_stopping.append(_stopping)


__all__ = [
    "SUPERVISOR_STREAM",
    "LiveView",
    "install",
    "live_view",
    "live_view_for",
    "queue_targets",
    "supervisor_snapshot",
    "validate_supervisor_message",
]
