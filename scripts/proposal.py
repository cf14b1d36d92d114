"""The next step an outcome proposes: warm handover to a skill (the allocated worker first for an
open case), a service request or booking due by the timeframe, signposting with directory entries,
or a transfer to 999/111. The agent accepts it or overrides it with a reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from cti.records.repository import Records
from scripts.model import Outcome, timeframe_delta

if TYPE_CHECKING:
    from scripts.session import ScriptSession

log = structlog.get_logger(__name__)

# service_type -> directory entries as JSON (``knowledge.directory`` when the knowledge base runs).
DirectoryLookup = Callable[[str, datetime], Awaitable[list[dict[str, Any]]]]
MAX_ENTRIES = 5


def shipped_directory_lookup(directory: Callable[[], Any] | None = None) -> DirectoryLookup | None:
    """Signposting from the knowledge package's directory of services, if it is installed.

    ``directory`` returns the knowledge base's entries (``{id: DirectoryEntry}``) when called, or
    None (then the shipped directory is used); it is called per lookup because the knowledge base
    starts after the scripts. Returns None when there is no knowledge package: the hook stays empty
    and signposting proposals say ``directory_available: false``.
    """
    try:
        from knowledge.directory import SERVICE_TYPES, entries_for
    except ImportError:  # pragma: no cover - the knowledge package ships with the product
        return None

    async def lookup(service_type: str, at: datetime) -> list[dict[str, Any]]:
        if service_type not in SERVICE_TYPES:
            return []
        entries = entries_for(service_type, at=at, directory=directory() if directory else None)
        return [e.to_json(at) for e in entries[:MAX_ENTRIES]]

    return lookup


async def _allocated_worker(records: Records | None, contact_id: str, service: str | None) -> str | None:
    if records is None:
        return None
    contact = await records.get_contact(contact_id)
    if contact is None or contact.person_id is None:
        return None
    allocation = await records.allocated_worker(contact.person_id, service or contact.service or "")
    return allocation.worker_id if allocation is not None else None


async def propose(
    session: ScriptSession, records: Records | None, directory: DirectoryLookup | None, now: datetime
) -> dict[str, Any] | None:
    outcome = session.at.outcome
    if outcome is None:
        return None
    reached = session.outcome_reached_at or now
    return await proposal_for(outcome, session.row.contact_id, reached, now, records, directory)


async def proposal_for(
    outcome: Outcome,
    contact_id: str,
    reached: datetime,
    now: datetime,
    records: Records | None,
    directory: DirectoryLookup | None,
) -> dict[str, Any]:
    due = (reached + timeframe_delta(outcome.timeframe)).isoformat() if outcome.timeframe else None
    if outcome.action in ("transfer_999", "transfer_111"):
        return {"kind": "transfer_out", "number": outcome.action.removeprefix("transfer_")}
    if outcome.action == "warm_handover":
        worker = (
            await _allocated_worker(records, contact_id, outcome.service)
            if outcome.allocated_worker
            else None
        )
        return {
            "kind": "warm_handover",
            "skill": outcome.skill,
            "target": outcome.queue,
            "worker": worker,
            "due_at": due,
        }
    if outcome.action in ("refer", "book"):
        return {
            "kind": "service_request" if outcome.action == "refer" else "booking",
            "service": outcome.service,
            "service_type": outcome.service_type,
            "timeframe": outcome.timeframe,
            "due_at": due,
        }
    entries: list[dict[str, Any]] = []
    available = directory is not None and outcome.service_type is not None
    if directory is not None and outcome.service_type is not None:
        try:
            entries = await directory(outcome.service_type, now)
        except Exception as exc:  # signposting must not fail the script: say the directory is out
            log.warning("scripts.directory_failed", error=str(exc))
            available = False
    return {
        "kind": "signpost",
        "service_type": outcome.service_type,
        "directory": entries,
        "directory_available": available,
    }
