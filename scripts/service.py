"""Script use cases: the library and its approval, and sessions (start, answer, back, outcome).

Authorisation lives here as well as in the API: approval needs the ``clinical_safety`` role, and
only the agent who started a session (or the agent now handling its contact) changes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from cti.auth.service import Principal
from cti.bus.port import EventBus
from cti.config.centre import CentreConfig
from cti.domain.clock import Clock
from cti.domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from cti.live.messages import SUPERVISOR_STREAM
from cti.records.repository import Records
from scripts.lint import lint_script, script_files
from scripts.model import ACTIONS, Script, ScriptFormatError, load_script, timeframe_delta
from scripts.proposal import DirectoryLookup, propose
from scripts.render import PromptContext
from scripts.session import ScriptSession
from scripts.store import EventRow, ScriptStore, SessionRow, VersionInfo
from scripts.views import session_json

log = structlog.get_logger(__name__)

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
APPROVER_ROLE = "clinical_safety"
READERS = ("supervisor", "admin", APPROVER_ROLE)
# Lifecycle: who may move a version from one status to another.
TRANSITIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("draft", "in_review"): ("admin", APPROVER_ROLE),
    ("in_review", "draft"): ("admin", APPROVER_ROLE),
    ("in_review", "approved"): (APPROVER_ROLE,),
    ("approved", "retired"): (APPROVER_ROLE,),
}

ContactAgent = Callable[[str], Awaitable[str | None]]  # contact id -> the agent handling it now


class ScriptService:
    def __init__(
        self,
        store: ScriptStore,
        bus: EventBus,
        clock: Clock,
        centre: CentreConfig,
        *,
        records: Records | None = None,
        contact_agent: ContactAgent | None = None,
        directory: DirectoryLookup | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.centre = centre
        self.records = records
        self.contact_agent = contact_agent
        self.directory = directory

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, UTC)

    # --- the library ------------------------------------------------------------------------------
    async def sync_library(self, folder: Path = LIBRARY_DIR) -> list[str]:
        """Register the folder's scripts; returns what was refused (also logged)."""
        refused: list[str] = []
        known = {(v.script_id, v.version): v for v in await self.store.versions()}
        for path in script_files([folder]):
            try:
                script = load_script(path)
            except ScriptFormatError as exc:
                refused.append(str(exc))
                continue
            report = lint_script(script, str(path))
            if not report.ok:
                refused.extend(str(p) for p in report.problems)
                continue
            old = known.get((script.id, script.version))
            if old is not None and old.hash != script.hash and old.status in ("approved", "retired"):
                refused.append(
                    f"{script.id}: version {script.version} is approved: its content cannot change"
                )
                continue
            await self.store.register(script, self.now())
            await self._apply_file_status(script, refused)
        for problem in refused:
            log.error("scripts.refused", problem=problem)
        return refused

    async def _apply_file_status(self, script: Script, refused: list[str]) -> None:
        current = await self._status(script.hash)  # None: no status recorded yet
        wanted = script.status
        if wanted == current:
            return
        if current in ("approved", "retired"):
            # The database is the record of the lifecycle: a file can retire, never un-approve.
            if current == "approved" and wanted == "retired":
                await self.store.add_status(script.hash, "retired", "library", "system", self.now())
            return
        if wanted in ("approved", "retired"):
            approval = script.approval
            approver = self.centre.users.get(approval.by) if approval else None
            if approval is None or approver is None or approver.role != APPROVER_ROLE:
                refused.append(
                    f"{script.id}: approval must be signed by a {APPROVER_ROLE} user; kept in review"
                )
                if current != "in_review":
                    await self.store.add_status(script.hash, "in_review", "library", "system", self.now())
                return
            await self.store.add_status(script.hash, "approved", approver.username, approver.role, self.now())
            if wanted == "retired":
                await self.store.add_status(script.hash, "retired", "library", "system", self.now())
            return
        await self.store.add_status(script.hash, wanted, "library", "system", self.now())

    async def _status(self, script_hash: str) -> str | None:
        for v in await self.store.versions():
            if v.hash == script_hash:
                return v.status if v.status_by is not None else None
        return None

    async def catalogue(self) -> list[dict[str, Any]]:
        """The approved scripts agents can start: the newest approved version of each."""
        newest: dict[str, VersionInfo] = {}
        for v in await self.store.versions():
            if v.status == "approved" and (
                v.script_id not in newest or v.version > newest[v.script_id].version
            ):
                newest[v.script_id] = v
        return [
            {
                "id": v.script_id,
                "version": v.version,
                "title": v.title,
                "services": list(v.services),
                "ref": v.ref,
            }
            for v in sorted(newest.values(), key=lambda v: v.script_id)
        ]

    async def versions(self, script_id: str) -> list[dict[str, Any]]:
        found = await self.store.versions(script_id)
        if not found:
            raise NotFound(f"no script {script_id!r}", error_id="script_not_found", field="script_id")
        return [v.to_json() for v in found]

    async def set_status(
        self, script_id: str, version: int, script_hash: str, status: str, user: Principal
    ) -> dict[str, Any]:
        """Move one version through its lifecycle; approval needs the clinical-safety role."""
        versions = await self.store.versions(script_id)
        target = next((v for v in versions if v.version == version and v.hash == script_hash), None)
        if target is None:
            if any(v.version == version for v in versions):
                raise Conflict(
                    "that version's content has another hash: review what is stored",
                    error_id="script_hash_mismatch",
                )
            raise NotFound(
                f"no version {version} of {script_id!r}", error_id="script_not_found", field="version"
            )
        allowed = TRANSITIONS.get((target.status, status))
        if allowed is None:
            expected = tuple(b for a, b in TRANSITIONS if a == target.status)
            raise IllegalTransition("script_version", target.status, status, expected)
        if user.role not in allowed:
            raise Forbidden(
                f"only {', '.join(allowed)} may make a script {status}", error_id="role_forbidden"
            )
        if status == "approved":
            if any(v.version == version and v.status in ("approved", "retired") for v in versions):
                raise Conflict(f"version {version} is already approved", error_id="script_version_approved")
            report = lint_script(await self.store.script(target.hash))
            if not report.ok:
                raise Conflict(
                    "the script fails its lint: " + "; ".join(str(p) for p in report.problems[:5]),
                    error_id="script_lint_failed",
                )
        await self.store.add_status(target.hash, status, user.username, user.role, self.now())
        log.info("scripts.status", script=target.ref, status=status, actor=user.username)
        return next(v for v in await self.store.versions(script_id) if v.hash == target.hash).to_json()

    # --- sessions ---------------------------------------------------------------------------------
    async def start(self, contact_id: str, script_id: str, user: Principal) -> dict[str, Any]:
        await self._check_handles(contact_id, user)
        chosen = next((s for s in await self.catalogue() if s["id"] == script_id), None)
        if chosen is None:
            raise NotFound(
                f"no approved script {script_id!r}", error_id="script_not_found", field="script_id"
            )
        for session_id in await self.store.sessions_for_contact(contact_id):
            existing = await self.load(session_id)
            if existing.state == "in_progress":
                if existing.script.id == script_id:
                    return await self.to_json(existing)  # starting again resumes the open session
                raise Conflict(
                    f"script {existing.ref} is in progress for this contact",
                    error_id="script_session_in_progress",
                )
        script_hash = next(v.hash for v in await self.store.versions(script_id) if v.ref == chosen["ref"])
        now = self.now()
        row = SessionRow(str(uuid.uuid4()), contact_id, script_hash, user.username, now)
        script = await self.store.script(script_hash)
        context = await self._context(contact_id, user)
        first = EventRow(
            seq=1,
            at=now,
            contact_id=contact_id,
            script=script.ref,
            kind="started",
            node=script.start,
            question_shown=None,
            answer_id=None,
            answer_text=None,
            red_flag=False,
            agent_id=user.username,
            details={"context": _context_json(context)},
        )
        await self.store.create_session(row, first)
        log.info(
            "scripts.started", session=row.id, contact=contact_id, script=script.ref, agent=user.username
        )
        return await self.to_json(await self.load(row.id))

    async def load(self, session_id: str) -> ScriptSession:
        row, events = await self.store.session(session_id)
        # The version the session started on, by hash: a newer approval does not change it.
        return ScriptSession.fold(row, await self.store.script(row.script_hash), events)

    async def read(self, session_id: str, user: Principal) -> ScriptSession:
        session = await self.load(session_id)
        if user.role in READERS or user.username == session.row.agent_id:
            return session
        if (
            self.contact_agent is not None
            and await self.contact_agent(session.row.contact_id) == user.username
        ):
            return session
        raise NotFound(f"no script session {session_id}", error_id="script_session_not_found")

    async def _writable(self, session_id: str, user: Principal) -> ScriptSession:
        session = await self.read(session_id, user)
        if user.role in READERS and user.username != session.row.agent_id:
            raise Forbidden("supervisors read script sessions; the agent answers", error_id="role_forbidden")
        return session

    async def answer(
        self, session_id: str, question_id: str, answer_id: str, user: Principal
    ) -> dict[str, Any]:
        session = await self._writable(session_id, user)
        event = session.answer(question_id, answer_id, user.username, self.now())
        await self.store.append(session_id, event)
        log.info(
            "scripts.answered",
            session=session_id,
            script=session.ref,
            node=question_id,
            red_flag=event.red_flag,
        )
        return await self.to_json(await self.load(session_id))

    async def back(self, session_id: str, user: Principal) -> dict[str, Any]:
        session = await self._writable(session_id, user)
        await self.store.append(session_id, session.back(user.username, self.now()))
        return await self.to_json(await self.load(session_id))

    async def decide(
        self,
        session_id: str,
        user: Principal,
        *,
        accept: bool,
        override_action: str | None,
        reason: str | None,
    ) -> dict[str, Any]:
        session = await self._writable(session_id, user)
        if not accept:
            if override_action not in ACTIONS:
                raise InvalidInput(
                    f"'override_action' must be one of {', '.join(ACTIONS)}",
                    error_id="invalid_override_action",
                    field="override_action",
                )
            if reason is None or not reason.strip():
                raise InvalidInput(
                    "an override needs a reason", error_id="override_reason_required", field="reason"
                )
            reason = reason.strip()
        now = self.now()
        event = session.decide(user.username, now, None if accept else override_action, reason)
        await self.store.append(session_id, event)
        if not accept:
            await self._alert_override(session, event, now)
        else:
            await self._open_service_request(session, event, now)
        return await self.to_json(await self.load(session_id))

    async def _open_service_request(self, session: ScriptSession, accepted: EventRow, now: datetime) -> None:
        """An accepted referral or booking opens the service request, due by the timeframe, when the
        contact's person is known; the request's reference is appended as an ``actioned`` event."""
        outcome = session.at.outcome
        if outcome is None or outcome.action not in ("refer", "book") or self.records is None:
            return
        record = await self.records.get_contact(session.row.contact_id)
        service = outcome.service or (record.service if record else None)
        if record is None or record.person_id is None or service is None:
            return  # the proposal stays a proposal: the agent identifies the person first
        reached = session.outcome_reached_at or now
        due = reached + timeframe_delta(outcome.timeframe) if outcome.timeframe else None
        request = await self.records.create_service_request(
            record.person_id,
            service,
            session.text(outcome.text)[:500],
            due_at=due,
            note=f"script {session.ref}",
        )
        actioned = EventRow(
            seq=accepted.seq + 1,
            at=now,
            contact_id=session.row.contact_id,
            script=session.ref,
            kind="actioned",
            node=outcome.id,
            question_shown=None,
            answer_id=None,
            answer_text=None,
            red_flag=False,
            agent_id=accepted.agent_id,
            details={"service_request": request.reference, "service": service},
        )
        await self.store.append(session.id, actioned)

    async def _alert_override(self, session: ScriptSession, event: EventRow, now: datetime) -> None:
        outcome = session.at.outcome
        assert outcome is not None
        data = {
            "id": f"script_override:{session.id}",
            "session": session.id,
            "contact": session.row.contact_id,
            "agent": event.agent_id,
            "script": session.ref,
            "outcome": outcome.id,
            "scripted_action": outcome.action,
            "override_action": event.details["override_action"],
            "reason": event.details["reason"],
            "red_flag": session.at.red_flag,
            "at": int(now.timestamp() * 1000),
        }
        await self.bus.publish(SUPERVISOR_STREAM, "script.override", data, data["at"])
        log.warning("scripts.overridden", session=session.id, script=session.ref, agent=event.agent_id)

    async def _check_handles(self, contact_id: str, user: Principal) -> None:
        if self.contact_agent is None:
            return
        if await self.contact_agent(contact_id) != user.username:
            raise NotFound(
                f"no contact {contact_id} in your hands", error_id="contact_not_found", field="contact_id"
            )

    async def _context(self, contact_id: str, user: Principal) -> PromptContext:
        user_cfg = self.centre.users.get(user.username)
        values: dict[str, str] = {"agent_name": user_cfg.display_name if user_cfg else user.username}
        record = await self.records.get_contact(contact_id) if self.records is not None else None
        if record is not None:
            values["caller_type"] = record.caller_type
            service = self.centre.services.get(record.service or "")
            if service is not None:
                values["service_name"] = service.name
            if record.person_id is not None and self.records is not None:
                person = await self.records.get_person(record.person_id)
                if person is not None:
                    values["caller_name"] = person.given_name
        return PromptContext(**values)

    # --- views ------------------------------------------------------------------------------------
    async def to_json(self, session: ScriptSession) -> dict[str, Any]:
        proposed = await propose(session, self.records, self.directory, self.now())
        return session_json(session, proposed)


def _context_json(context: PromptContext) -> dict[str, str]:
    return {k: getattr(context, k) for k in PromptContext.__dataclass_fields__}
