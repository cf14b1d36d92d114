"""HTTP API (installed by ``cti.app.create_app``): scripts, their approval, and script sessions.

Agents and specialists run sessions; supervisors (and admins, clinical safety) read them; only
``clinical_safety`` approves or retires a version. The service is ``services.extras["scripts"]``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from cti.api.deps import AgentLike, ServicesDep, require
from cti.auth.service import Principal
from cti.domain.errors import Conflict, NotFound
from cti.wiring import Services
from scripts.model import Action
from scripts.proposal import shipped_directory_lookup
from scripts.service import LIBRARY_DIR, ScriptService
from scripts.store import ScriptStore
from scripts.views import questionnaire_response

EXTRAS_KEY = "scripts"
ID = r"^[a-z][a-z0-9_]{0,63}$"

router = APIRouter(prefix="/api", tags=["scripts"])
Reader = Annotated[
    Principal, Depends(require("agent", "specialist", "supervisor", "admin", "clinical_safety"))
]
Lifecycle = Annotated[Principal, Depends(require("admin", "clinical_safety"))]
Overseer = Annotated[Principal, Depends(require("supervisor", "admin", "clinical_safety"))]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartIn(_Body):
    script_id: str = Field(pattern=ID)


class AnswerIn(_Body):
    question_id: str = Field(pattern=ID)
    answer_id: str = Field(pattern=ID)


class OutcomeIn(_Body):
    accept: bool
    override_action: Action | None = None
    # Checked by the service when ``accept`` is false, so the error names the missing field.
    reason: str | None = Field(default=None, max_length=500)


class StatusIn(_Body):
    status: Literal["draft", "in_review", "approved", "retired"]
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class ApproveIn(_Body):
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


def script_service(svc: ServicesDep) -> ScriptService:
    service = svc.extras.get(EXTRAS_KEY)
    if not isinstance(service, ScriptService):
        raise Conflict("triage scripts are not running", error_id="scripts_not_installed")
    return service


Scripts = Annotated[ScriptService, Depends(script_service)]


@router.get("/scripts")
async def list_scripts(user: Reader, scripts: Scripts) -> list[dict[str, Any]]:
    """Approved scripts (the newest approved version of each): ``{id, version, title, services}``."""
    return await scripts.catalogue()


@router.get("/scripts/{script_id}/versions")
async def list_versions(script_id: str, user: Overseer, scripts: Scripts) -> list[dict[str, Any]]:
    return await scripts.versions(script_id)


@router.post("/scripts/{script_id}/versions/{version}/status")
async def set_status(
    script_id: str, version: int, body: StatusIn, user: Lifecycle, scripts: Scripts
) -> dict[str, Any]:
    """Send a version for review, back to draft, approve or retire it (approval: clinical safety only)."""
    return await scripts.set_status(script_id, version, body.hash, body.status, user)


@router.post("/scripts/{script_id}/versions/{version}/approve")
async def approve(
    script_id: str,
    version: int,
    body: ApproveIn,
    user: Annotated[Principal, Depends(require("clinical_safety"))],
    scripts: Scripts,
) -> dict[str, Any]:
    """Sign off the content with this hash (what the clinical safety officer reviewed)."""
    return await scripts.set_status(script_id, version, body.hash, "approved", user)


@router.post("/contacts/{contact_id}/script", status_code=201)
async def start(contact_id: str, body: StartIn, user: AgentLike, scripts: Scripts) -> dict[str, Any]:
    return await scripts.start(contact_id, body.script_id, user)


@router.get("/script-sessions/{session_id}")
async def read(session_id: str, user: Reader, scripts: Scripts) -> dict[str, Any]:
    return await scripts.to_json(await scripts.read(session_id, user))


@router.post("/script-sessions/{session_id}/answer")
async def answer(session_id: str, body: AnswerIn, user: AgentLike, scripts: Scripts) -> dict[str, Any]:
    return await scripts.answer(session_id, body.question_id, body.answer_id, user)


@router.post("/script-sessions/{session_id}/back")
async def back(session_id: str, user: AgentLike, scripts: Scripts) -> dict[str, Any]:
    return await scripts.back(session_id, user)


@router.post("/script-sessions/{session_id}/outcome")
async def outcome(session_id: str, body: OutcomeIn, user: AgentLike, scripts: Scripts) -> dict[str, Any]:
    return await scripts.decide(
        session_id, user, accept=body.accept, override_action=body.override_action, reason=body.reason
    )


@router.get("/script-sessions/{session_id}/fhir")
async def fhir(session_id: str, user: Reader, scripts: Scripts) -> dict[str, Any]:
    return questionnaire_response(await scripts.read(session_id, user))


@router.get("/script-sessions/{session_id}/events")
async def events(session_id: str, user: Reader, scripts: Scripts) -> list[dict[str, Any]]:
    """The session's append-only audit trail, each event naming ``script@version#hash``."""
    return [e.to_json() for e in (await scripts.read(session_id, user)).events]


def build_service(svc: Services) -> ScriptService:
    async def contact_agent(contact_id: str) -> str | None:
        try:
            contact = await svc.store.get_contact(contact_id)
        except NotFound:
            return None
        return contact.agent_id

    def directory() -> Any:
        return getattr(svc.extras.get("knowledge"), "directory", None)

    return ScriptService(
        ScriptStore(svc.engine),
        svc.bus,
        svc.clock,
        svc.centre,
        records=svc.records,
        contact_agent=contact_agent,
        directory=shipped_directory_lookup(directory),
    )


def install(app: FastAPI) -> None:
    """Add this package's routes; the shipped library is registered when the app starts."""
    app.include_router(router)

    async def started(svc: Services) -> None:
        service = build_service(svc)
        await service.sync_library(LIBRARY_DIR)
        svc.extras[EXTRAS_KEY] = service

    app.state.on_started.append(started)
