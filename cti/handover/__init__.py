"""Warm handover: the caller held, a specialist reserved and briefed, a consult, then complete | cancel.

``install(app)`` adds the API and starts the service with the app (``services.extras["handover"]``).
See ``states`` for the machine, ``notifier`` for the events, ``reactions`` for the failure paths.

The consult is a contact of its own (``{contact}.h{n}``, attrs ``kind: consult``) routed by the
router like any call, at the top priority and in the caller's place; once transferred it carries on
as the caller's contact (a second segment, linked in the audit).

Several nodes: handovers live in a shared store (``cti.handover.store``; Redis in redis mode), so any
node reads and acts on any of them under the handover's lock. The node that took the request owns the
reactions to its calls and its timeout; if that node dies, another adopts the handover and reconciles
it from the state store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from cti.handover.base import HandoverPolicy
from cti.handover.follower import HandoverFollower
from cti.handover.model import Handover, LiveNote, Note
from cti.handover.notifier import HandoverNotifier
from cti.handover.redis_store import RedisHandoverStore
from cti.handover.service import HandoverService
from cti.handover.states import HANDOVER_TRANSITIONS, HandoverState, next_state
from cti.handover.store import HandoverStore, MemoryHandoverStore

if TYPE_CHECKING:
    from cti.wiring import Services

__all__ = [
    "HANDOVER_TRANSITIONS",
    "Handover",
    "HandoverPolicy",
    "HandoverService",
    "HandoverState",
    "LiveNote",
    "Note",
    "build",
    "install",
    "next_state",
]

EXTRAS_KEY = "handover"


def build(services: Services, policy: HandoverPolicy | None = None) -> HandoverService:
    policy = policy or HandoverPolicy()
    store: HandoverStore
    if services.redis is not None:
        store = RedisHandoverStore(services.redis, services.settings.redis_prefix)
    else:
        store = MemoryHandoverStore(policy.keep_finished)
    return HandoverService(
        router=services.router,
        calls=services.calls,
        telephony=services.telephony,
        records=services.records,
        notifier=HandoverNotifier(services.bus, services.records, services.clock),
        centre=services.centre,
        clock=services.clock,
        policy=policy,
        handovers=store,
    )


def install(app: FastAPI, policy: HandoverPolicy | None = None) -> None:
    """Add the handover API, and start/stop the handover service with the app's services."""
    from cti.handover.http import router

    app.include_router(router)

    async def started(services: Services) -> None:
        service = build(services, policy)
        await service.start()
        follower = HandoverFollower(services.bus, service)
        await follower.start()
        services.extras[EXTRAS_KEY] = service
        services.extras[EXTRAS_KEY + ".follower"] = follower

    async def stopping(services: Services) -> None:
        follower = services.extras.pop(EXTRAS_KEY + ".follower", None)
        if isinstance(follower, HandoverFollower):
            await follower.stop()
        service = services.extras.pop(EXTRAS_KEY, None)
        if isinstance(service, HandoverService):
            await service.stop()

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
