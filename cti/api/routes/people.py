"""Caller lookup (summary) and the person record (detail, every view audited with a reason)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cti.api.deps import ServicesDep, Staff
from cti.domain.errors import NotFound

router = APIRouter(prefix="/api/people", tags=["people"])

Reason = Annotated[str, Query(min_length=3, max_length=200, description="Why the record is opened (audited)")]


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in ("display_name", "nhs_display", "display_number", "outcome"):
            if hasattr(type(value), extra):
                out[extra] = getattr(value, extra)
        return out
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get("/lookup")
async def lookup(user: Staff, svc: ServicesDep, phone: Annotated[str, Query(max_length=32)]) -> Any:
    """Who may be calling from this number: summaries only (several when shared, none when withheld)."""
    return _json(await svc.records.lookup_by_phone(phone))


@router.get("/{person_id}")
async def person(person_id: int, user: Staff, svc: ServicesDep, reason: Reason) -> Any:
    """The person's record: contacts, open service requests, allocated workers, referral pattern."""
    found = await svc.records.get_person(person_id)
    if found is None:
        raise NotFound(f"no person {person_id}", error_id="person_not_found")
    await svc.records.audit_view(
        actor=user.username, role=user.role, subject_type="person", subject_id=str(person_id), reason=reason
    )
    now = datetime.now(UTC)
    return {
        "person": _json(found),
        "recent_contacts": _json(await svc.records.recent_contacts(person_id, limit=10)),
        "open_service_requests": _json(await svc.records.open_service_requests(person_id)),
        "allocations": _json(await svc.records.allocations(person_id)),
        "referral_pattern": _json(await svc.records.referral_pattern(person_id, now)),
    }
