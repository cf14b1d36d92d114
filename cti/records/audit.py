"""The append-only audit of record access: who saw whose record, in what role, when and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cti.records.base import RecordsBase, aware_utc, required_text
from cti.records.models import AuditEntry
from cti.records.tables import audit


def _entry(row: sa.Row[Any]) -> AuditEntry:
    values = row._asdict()
    values["details"] = dict(values["details"])
    return AuditEntry(**values)


class AuditRecords(RecordsBase):
    """Entries are only ever added: there is deliberately no update or delete."""

    async def audit_view(
        self,
        actor: str,
        role: str,
        subject_type: str,
        subject_id: str | int,
        reason: str,
        action: str = "view",
        *,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Record that ``actor`` (in ``role``) did ``action`` on a record, and why.

        A reason is required: viewing a record needs a legitimate relationship (or a stated
        break-glass reason). ``details`` must not repeat personal data that the subject id points to.
        """
        values: dict[str, Any] = {
            "at": self._now() if at is None else aware_utc(at, "at"),
            "actor": required_text(actor, "actor", 100),
            "role": required_text(role, "role", 50),
            "action": required_text(action, "action", 50),
            "subject_type": required_text(subject_type, "subject_type", 50),
            "subject_id": required_text(str(subject_id), "subject_id", 100),
            "reason": required_text(reason, "reason", 500),
            "details": dict(details or {}),
        }
        async with self._engine.begin() as conn:
            entry_id = (await conn.execute(audit.insert().returning(audit.c.id), values)).scalar_one()
        return AuditEntry(id=entry_id, **values)

    async def audit_entries(
        self, subject_id: str | int, subject_type: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Entries about one subject, oldest first."""
        statement = sa.select(audit).where(audit.c.subject_id == str(subject_id))
        if subject_type is not None:
            statement = statement.where(audit.c.subject_type == subject_type)
        statement = statement.order_by(audit.c.at, audit.c.id).limit(limit)
        async with self._engine.connect() as conn:
            return [_entry(r) for r in await conn.execute(statement)]
