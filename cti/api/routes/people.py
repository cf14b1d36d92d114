"""Caller lookup (summary) and the person record (detail, every view audited with a reason)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder

from cti.api.deps import ServicesDep, Staff
from cti.domain.errors import NotFound

router = APIRouter(prefix="/api/people", tags=["people"])

Reason = Annotated[str, Query(min_length=3, max_length=200, description="Why the record is opened (audited)")]


_SHOWN_PROPERTIES = ("display_name", "nhs_display", "display_number", "outcome")


def _json(value: Any) -> Any:
    """Records' dataclasses as JSON, with the display properties agents read (names, NHS 3-3-4)."""
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    encoded = jsonable_encoder(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in _SHOWN_PROPERTIES:
            if hasattr(type(value), name):
                encoded[name] = getattr(value, name)
        for field in dataclasses.fields(value):
            if isinstance(getattr(value, field.name), list):
                encoded[field.name] = _json(getattr(value, field.name))
    return encoded


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
