"""The agent desktop and supervisor wallboard, served by the app (no front-end build step).

Pages: ``/`` (agent and specialist desktop) and ``/wallboard`` (supervisors). Their scripts, styles and
icons are static files under ``/ui/``. Every page is sent with a strict Content-Security-Policy (no
inline script or style, same-origin connections only), so the pages hold no data of their own: they
sign in through ``POST /api/login``, keep the session token in ``sessionStorage`` and read everything
else from the API and the websocket channel.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cti.api.deps import AgentLike, ServicesDep, Staff
from cti.domain.codes import FAILURE_DEMAND_REASONS, OUTCOME_CODES, VALUE_REASONS

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["agent ui"])


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers=HEADERS)


@router.get("/", include_in_schema=False)
async def desktop() -> FileResponse:
    return _page("desktop.html")


@router.get("/wallboard", include_in_schema=False)
async def wallboard() -> FileResponse:
    return _page("wallboard.html")


@router.get("/api/ui/codes")
async def wrap_up_codes(user: Staff) -> dict[str, dict[str, str]]:
    """Wrap-up codes for the desktop: outcomes, and reasons split into value and failure demand."""
    return {
        "outcomes": OUTCOME_CODES,
        "value_reasons": VALUE_REASONS,
        "failure_reasons": FAILURE_DEMAND_REASONS,
    }


@router.get("/api/ui/workers")
async def signed_in_workers(user: AgentLike, svc: ServicesDep) -> dict[str, list[dict[str, str]]]:
    """Colleagues signed in now (not logged out), for the named-worker choice of a warm handover:
    username, display name, role and status; nothing else (the handover checks the worker again)."""
    workers = []
    for agent in await svc.store.agents():
        person = svc.centre.users.get(agent.id)
        if agent.id == user.username or person is None or agent.status == "logged_out":
            continue
        workers.append(
            {
                "username": agent.id,
                "display_name": person.display_name,
                "role": person.role,
                "status": agent.status,
            }
        )
    workers.sort(key=lambda w: (w["role"] != "specialist", w["display_name"]))
    return {"workers": workers}


class _SecurityHeaders:
    """The same headers on every static file (scripts and styles included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Serve the pages and their static files."""
    app.include_router(router)
    app.mount("/ui", _SecurityHeaders(StaticFiles(directory=STATIC)), name="agent_ui")
