"""Snapshot providers: the state a client starts from (fresh connection, trimmed resume, reload).

``hub.snapshot_providers[kind]`` is an ``async (services, principal) -> dict`` for kind ``"agent"``
(the stream ``agent:{principal.username}``) or ``"supervisor"`` (the stream ``supervisor``). Pass the
real ones to ``install(app, snapshot_providers=...)``; until then these minimal ones (agent states from
the store) keep the channel working.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cti.api.schemas import AgentOut
from cti.auth.service import Principal
from cti.wiring import Services

SnapshotProvider = Callable[[Services, Principal], Awaitable[dict[str, Any]]]


async def agent_snapshot(services: Services, principal: Principal) -> dict[str, Any]:
    agent = await services.store.get_agent(principal.username)
    return {"agent": AgentOut.of(agent).model_dump(mode="json")}


async def supervisor_snapshot(services: Services, principal: Principal) -> dict[str, Any]:
    agents = await services.store.agents()
    return {"agents": [AgentOut.of(a).model_dump(mode="json") for a in agents]}


def default_providers() -> dict[str, SnapshotProvider]:
    return {"agent": agent_snapshot, "supervisor": supervisor_snapshot}
