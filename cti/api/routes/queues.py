from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from cti.api.deps import ServicesDep, Staff, Supervisor
from cti.api.schemas import ContactOut
from cti.domain.errors import NotFound

router = APIRouter(prefix="/api", tags=["queues"])


@router.get("/queues")
async def list_queues(user: Staff, svc: ServicesDep) -> list[dict[str, Any]]:
    now = svc.clock.now_ms()
    waiting = await svc.store.waiting()
    out = []
    for queue in svc.centre.queues.values():
        mine = [c for c in waiting if c.queue == queue.id]
        out.append(
            {
                "id": queue.id,
                "name": queue.name,
                "service": queue.service,
                "open": svc.centre.is_open(queue.id, _dt(now)),
                "waiting": len(mine),
                "longest_wait_s": max(((now - c.enqueued_at) // 1000 for c in mine), default=0),
            }
        )
    return out


@router.get("/queues/{queue_id}/waiting", response_model=list[ContactOut])
async def queue_waiting(queue_id: str, user: Supervisor, svc: ServicesDep) -> list[ContactOut]:
    if queue_id not in svc.centre.queues:
        raise NotFound(f"no queue {queue_id}", error_id="queue_not_found")
    return [ContactOut.of(c) for c in await svc.store.waiting() if c.queue == queue_id]


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
