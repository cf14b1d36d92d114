"""Persistence of script versions, their status changes, sessions and session events.

Append-only throughout: nothing here updates or deletes a row. A version is keyed by its content
hash; its status is its latest status change; a session's state is the fold of its events.
Works on SQLite and PostgreSQL (the records engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.domain.errors import Conflict, NotFound
from cti.records.tables_scripts import script_event, script_session, script_status, script_version
from scripts.model import Script, parse_script


@dataclass(frozen=True, slots=True)
class VersionInfo:
    hash: str
    script_id: str
    version: int
    title: str
    status: str
    status_by: str | None
    status_at: datetime | None
    services: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.script_id}@{self.version}#{self.hash[:12]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.script_id,
            "version": self.version,
            "hash": self.hash,
            "ref": self.ref,
            "title": self.title,
            "status": self.status,
            "status_by": self.status_by,
            "status_at": self.status_at.isoformat() if self.status_at else None,
            "services": list(self.services),
        }


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    contact_id: str
    script_hash: str
    agent_id: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    at: datetime
    contact_id: str
    script: str
    kind: str
    node: str | None
    question_shown: str | None
    answer_id: str | None
    answer_text: str | None
    red_flag: bool
    agent_id: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "contact": self.contact_id,
            "script": self.script,
            "kind": self.kind,
            "node": self.node,
            "question_shown": self.question_shown,
            "answer": self.answer_id,
            "answer_text": self.answer_text,
            "red_flag": self.red_flag,
            "agent": self.agent_id,
            "details": self.details,
        }


def _latest_status() -> sa.Subquery:
    ranked = sa.select(
        script_status.c.script_hash,
        script_status.c.status,
        script_status.c.actor,
        script_status.c.at,
        sa.func.row_number()
        .over(partition_by=script_status.c.script_hash, order_by=script_status.c.id.desc())
        .label("rank"),
    ).subquery()
    return sa.select(ranked).where(ranked.c.rank == 1).subquery()


class ScriptStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._scripts: dict[str, Script] = {}  # by hash: content never changes, so caching is safe

    async def register(self, script: Script, at: datetime) -> bool:
        """Store a version's content (once per hash); True if it was new."""
        values = {
            "hash": script.hash,
            "script_id": script.id,
            "version": script.version,
            "title": script.title,
            "content": script.content(),
            "registered_at": at,
        }
        async with self._engine.begin() as conn:
            exists = await conn.scalar(
                sa.select(script_version.c.hash).where(script_version.c.hash == script.hash)
            )
            if exists is not None:
                return False
            try:
                await conn.execute(script_version.insert(), values)
            except IntegrityError:
                return False  # another node registered it first
        return True

    async def add_status(self, script_hash: str, status: str, actor: str, role: str, at: datetime) -> None:
        values = {"script_hash": script_hash, "status": status, "actor": actor, "role": role, "at": at}
        async with self._engine.begin() as conn:
            await conn.execute(script_status.insert(), values)

    async def versions(self, script_id: str | None = None) -> list[VersionInfo]:
        """Every stored version with its current status (no status change yet: ``draft``)."""
        latest = _latest_status()
        statement = (
            sa.select(script_version, latest.c.status, latest.c.actor, latest.c.at)
            .select_from(script_version.outerjoin(latest, latest.c.script_hash == script_version.c.hash))
            .order_by(script_version.c.script_id, script_version.c.version, script_version.c.registered_at)
        )
        if script_id is not None:
            statement = statement.where(script_version.c.script_id == script_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            VersionInfo(
                hash=r.hash,
                script_id=r.script_id,
                version=r.version,
                title=r.title,
                status=r.status or "draft",
                status_by=r.actor,
                status_at=r.at,
                services=tuple(r.content.get("services", ())),
            )
            for r in rows
        ]

    async def script(self, script_hash: str) -> Script:
        cached = self._scripts.get(script_hash)
        if cached is not None:
            return cached
        async with self._engine.connect() as conn:
            content = await conn.scalar(
                sa.select(script_version.c.content).where(script_version.c.hash == script_hash)
            )
        if content is None:
            raise NotFound(f"no script version {script_hash[:12]}", error_id="script_not_found")
        script = parse_script({**content, "status": "draft"}, str(content.get("id")))
        if script.hash != script_hash:  # the stored content was altered: refuse to run it
            raise Conflict("stored script content does not match its hash", error_id="script_hash_mismatch")
        self._scripts[script_hash] = script
        return script

    # --- sessions ---------------------------------------------------------------------------------
    async def create_session(self, row: SessionRow, first: EventRow) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(script_session.insert(), _session_values(row))
            await conn.execute(script_event.insert(), _event_values(row.id, first))

    async def append(self, session_id: str, event: EventRow) -> None:
        """Append one event at ``event.seq``; if another append took that place first -> Conflict."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(script_event.insert(), _event_values(session_id, event))
        except IntegrityError:
            raise Conflict(
                "the session changed meanwhile: reload it and try again", error_id="script_session_changed"
            ) from None

    async def session(self, session_id: str) -> tuple[SessionRow, list[EventRow]]:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(script_session).where(script_session.c.id == session_id))
            ).first()
            if row is None:
                raise NotFound(f"no script session {session_id}", error_id="script_session_not_found")
            events = (
                await conn.execute(
                    sa.select(script_event)
                    .where(script_event.c.session_id == session_id)
                    .order_by(script_event.c.seq)
                )
            ).all()
        return SessionRow(**row._asdict()), [_event(e) for e in events]

    async def sessions_for_contact(self, contact_id: str) -> list[str]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(script_session.c.id)
                .where(script_session.c.contact_id == contact_id)
                .order_by(script_session.c.started_at, script_session.c.id)
            )
            return [r.id for r in rows]


def _session_values(row: SessionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "script_hash": row.script_hash,
        "agent_id": row.agent_id,
        "started_at": row.started_at,
    }


def _event_values(session_id: str, e: EventRow) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": e.seq,
        "at": e.at,
        "contact_id": e.contact_id,
        "script": e.script,
        "kind": e.kind,
        "node": e.node,
        "question_shown": e.question_shown,
        "answer_id": e.answer_id,
        "answer_text": e.answer_text,
        "red_flag": e.red_flag,
        "agent_id": e.agent_id,
        "details": e.details,
    }


def _event(row: sa.Row[Any]) -> EventRow:
    values = row._asdict()
    values.pop("id")
    values.pop("session_id")
    values["details"] = dict(values["details"])
    return EventRow(**values)
