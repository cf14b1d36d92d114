"""Service requests (referrals) with their status history, and allocated workers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from cti.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from cti.records.base import RecordsBase, aware_utc, optional_text, required_text
from cti.records.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    SERVICE_REQUEST_STATUSES,
    Allocation,
    ServiceRequest,
    StatusChange,
)
from cti.records.tables import allocation, service_request, service_request_status

_OUR_REFERENCE = re.compile(r"(?:SR)?[\s-]*0*(\d{1,9})", re.IGNORECASE)


def reference_for(service_request_id: int) -> str:
    return f"SR-{service_request_id:06d}"


def canonical_reference(raw: str) -> str:
    """``sr-123``, ``SR 000123`` and ``123`` all mean ``SR-000123``; other references pass as is."""
    text = raw.strip()
    match = _OUR_REFERENCE.fullmatch(text)
    return reference_for(int(match.group(1))) if match else text.upper()


def _status(value: str) -> str:
    if value not in SERVICE_REQUEST_STATUSES:
        allowed = ", ".join(sorted(SERVICE_REQUEST_STATUSES))
        raise InvalidInput(f"unknown status (allowed: {allowed})", error_id="invalid_status", field="status")
    return value


def _allocation(row: sa.Row[Any]) -> Allocation:
    return Allocation(
        person_id=row.person_id,
        service=row.service,
        worker_id=row.worker_id,
        worker_name=row.worker_name,
        since=row.since,
    )


async def _with_history(conn: AsyncConnection, rows: Sequence[sa.Row[Any]]) -> list[ServiceRequest]:
    if not rows:
        return []
    history: dict[int, list[StatusChange]] = {r.id: [] for r in rows}
    changes = await conn.execute(
        sa.select(service_request_status)
        .where(service_request_status.c.service_request_id.in_(list(history)))
        .order_by(service_request_status.c.at, service_request_status.c.id)
    )
    for change in changes:
        history[change.service_request_id].append(
            StatusChange(status=change.status, at=change.at, note=change.note)
        )
    return [
        ServiceRequest(
            id=r.id,
            reference=r.reference,
            person_id=r.person_id,
            service=r.service,
            summary=r.summary,
            status=r.status,
            due_at=r.due_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
            history=history[r.id],
        )
        for r in rows
    ]


class ServiceRequestRecords(RecordsBase):
    async def create_service_request(
        self,
        person_id: int,
        service: str,
        summary: str,
        *,
        due_at: datetime | None = None,
        status: str = "received",
        note: str | None = None,
        reference: str | None = None,
        at: datetime | None = None,
    ) -> ServiceRequest:
        """Open a service request; its reference is ``SR-`` and the zero-padded id unless given."""
        when = self._now() if at is None else aware_utc(at, "at")
        values: dict[str, Any] = {
            "person_id": person_id,
            "service": required_text(service, "service", 50),
            "summary": required_text(summary, "summary", 500),
            "status": _status(status),
            "due_at": None if due_at is None else aware_utc(due_at, "due_at"),
            "created_at": when,
            "updated_at": when,
            "reference": None
            if reference is None
            else canonical_reference(required_text(reference, "reference", 32)),
        }
        try:
            async with self._engine.begin() as conn:
                new_id = (
                    await conn.execute(service_request.insert().returning(service_request.c.id), values)
                ).scalar_one()
                if values["reference"] is None:
                    await conn.execute(
                        service_request.update()
                        .where(service_request.c.id == new_id)
                        .values(reference=reference_for(new_id))
                    )
                await conn.execute(
                    service_request_status.insert(),
                    {
                        "service_request_id": new_id,
                        "status": status,
                        "at": when,
                        "note": optional_text(note, "note", 500),
                    },
                )
                return (await self._load(conn, service_request.c.id == new_id))[0]
        except IntegrityError:
            raise Conflict(
                "the person does not exist or the reference is taken", error_id="service_request_conflict"
            ) from None

    async def set_service_request_status(
        self, reference: str, status: str, *, note: str | None = None, at: datetime | None = None
    ) -> ServiceRequest:
        """Move a request to ``status`` and append it to the history. A closed request stays closed."""
        new_status = _status(status)
        when = self._now() if at is None else aware_utc(at, "at")
        ref = canonical_reference(reference)
        async with self._engine.begin() as conn:
            current = (
                await conn.execute(
                    sa.select(service_request.c.id, service_request.c.status).where(
                        service_request.c.reference == ref
                    )
                )
            ).one_or_none()
            if current is None:
                raise NotFound("no such service request", error_id="service_request_not_found")
            if current.status in CLOSED_STATUSES:
                raise IllegalTransition(
                    "service_request", current.status, f"set {new_status}", tuple(sorted(OPEN_STATUSES))
                )
            await conn.execute(
                service_request.update()
                .where(service_request.c.id == current.id)
                .values(status=new_status, updated_at=when)
            )
            await conn.execute(
                service_request_status.insert(),
                {
                    "service_request_id": current.id,
                    "status": new_status,
                    "at": when,
                    "note": optional_text(note, "note", 500),
                },
            )
            return (await self._load(conn, service_request.c.id == current.id))[0]

    async def _load(
        self, conn: AsyncConnection, where: sa.ColumnElement[bool], *order: sa.ColumnElement[Any]
    ) -> list[ServiceRequest]:
        rows = (await conn.execute(sa.select(service_request).where(where).order_by(*order))).all()
        return await _with_history(conn, rows)

    async def open_service_requests(self, person_id: int) -> list[ServiceRequest]:
        """Requests not yet completed, closed or cancelled; soonest due first."""
        async with self._engine.connect() as conn:
            return await self._load(
                conn,
                sa.and_(
                    service_request.c.person_id == person_id,
                    service_request.c.status.in_(sorted(OPEN_STATUSES)),
                ),
                service_request.c.due_at.is_(None),  # requests with a due time first
                service_request.c.due_at,
                service_request.c.created_at,
                service_request.c.id,
            )

    async def service_request_by_reference(self, reference: str) -> ServiceRequest | None:
        async with self._engine.connect() as conn:
            found = await self._load(conn, service_request.c.reference == canonical_reference(reference))
        return found[0] if found else None

    # --- allocated workers ----------------------------------------------------------------------

    async def allocate(
        self, person_id: int, service: str, worker_id: str, worker_name: str, since: datetime | None = None
    ) -> Allocation:
        """Allocate (or re-allocate) the person's worker in ``service``."""
        allocated = Allocation(
            person_id=person_id,
            service=required_text(service, "service", 50),
            worker_id=required_text(worker_id, "worker_id", 100),
            worker_name=required_text(worker_name, "worker_name", 200),
            since=self._now() if since is None else aware_utc(since, "since"),
        )
        values = asdict(allocated)
        changes = {k: values[k] for k in ("worker_id", "worker_name", "since")}
        try:
            async with self._engine.begin() as conn:
                insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
                await conn.execute(
                    insert(allocation)
                    .values(values)
                    .on_conflict_do_update(
                        index_elements=[allocation.c.person_id, allocation.c.service], set_=changes
                    )
                )
        except IntegrityError:
            raise NotFound("no such person", error_id="person_not_found") from None
        return allocated

    async def end_allocation(self, person_id: int, service: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                allocation.delete().where(
                    allocation.c.person_id == person_id, allocation.c.service == service
                )
            )
        return bool(result.rowcount)

    async def allocated_worker(self, person_id: int, service: str) -> Allocation | None:
        statement = sa.select(allocation).where(
            allocation.c.person_id == person_id, allocation.c.service == service
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(statement)).one_or_none()
        return None if row is None else _allocation(row)

    async def allocations(self, person_id: int) -> list[Allocation]:
        statement = (
            sa.select(allocation).where(allocation.c.person_id == person_id).order_by(allocation.c.service)
        )
        async with self._engine.connect() as conn:
            return [_allocation(r) for r in await conn.execute(statement)]
