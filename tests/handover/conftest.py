"""A real server with warm handover installed, and the moves of a handover test through the REST API.

agent14 (AMH) answers a call placed by supervisor01 on amh_spa (open 24x7) and hands it over to a
specialist of the same service (specialist04 and specialist06 both serve amh_spa).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cti.app import create_app
from cti.config.settings import Settings
from cti.domain.events import Event
from cti.domain.model import Contact
from cti.handover import HandoverPolicy, HandoverService
from cti.telephony.sim import LegView, SimTelephony
from tests.api.conftest import Running, settings_for
from tests.conftest import fresh_postgres_database, until
from tests.servers import uvicorn_serving

QUEUE = "amh_spa"
AGENT = "agent14"
NOTE = {
    "reason": "low mood, wants to talk to a practitioner today",
    "triage_outcome": "amh_same_day",
    "risk_flags": ["self_harm_history"],
    "told_caller": "a practitioner will join us in a moment",
    "free_text": "Lives alone; prefers to be called by her first name.",
}


@dataclass
class Centre:
    r: Running
    sup: dict[str, str]
    agent: dict[str, str]

    @property
    def service(self) -> HandoverService:
        service = self.r.services.extras["handover"]
        assert isinstance(service, HandoverService)
        return service

    @property
    def sim(self) -> SimTelephony:
        sim = self.r.services.telephony
        assert isinstance(sim, SimTelephony)
        return sim

    async def login(self, username: str) -> dict[str, str]:
        return await self.r.login(username)

    async def available(self, headers: dict[str, str]) -> None:
        resp = await self.r.client.put("/api/agents/me/status", json={"status": "available"}, headers=headers)
        assert resp.status_code == 200, resp.text

    async def offer_for(self, headers: dict[str, str], contact_id: str) -> str:
        """Wait for the agent's offer of ``contact_id``; its id."""
        offer: dict[str, Any] = {}

        async def offered() -> bool:
            resp = await self.r.client.get("/api/agents/me", headers=headers)
            found = resp.json()["offer"]
            if found is not None and found["contact_id"] == contact_id:
                offer.update(found)
                return True
            return False

        await until(offered, message=f"an offer of {contact_id}")
        return str(offer["id"])

    async def answer(self, headers: dict[str, str], contact_id: str) -> None:
        offer_id = await self.offer_for(headers, contact_id)
        resp = await self.r.client.post(f"/api/offers/{offer_id}/accept", headers=headers)
        assert resp.status_code == 200, resp.text

    async def call_answered_by_agent(self) -> str:
        """A caller on the line with agent14."""
        await self.available(self.agent)
        call_id = await self.r.place_call(self.sup, queue=QUEUE, cli="07700 900555")
        await self.answer(self.agent, call_id)
        return call_id

    async def ask(self, call_id: str, **body: Any) -> dict[str, Any]:
        body.setdefault("note", NOTE)
        resp = await self.r.client.post(f"/api/contacts/{call_id}/handover", json=body, headers=self.agent)
        assert resp.status_code == 201, resp.text
        handover: dict[str, Any] = resp.json()
        return handover

    async def post(self, path: str, headers: dict[str, str], **body: Any) -> httpx.Response:
        return await self.r.client.post(path, json=body or None, headers=headers)

    async def handover(self, handover_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        resp = await self.r.client.get(f"/api/handovers/{handover_id}", headers=headers or self.agent)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def until_state(self, handover_id: str, *states: str, timeout: float = 5.0) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def reached() -> bool:
            seen.update(await self.handover(handover_id))
            return seen["state"] in states

        await until(reached, timeout=timeout, message=f"handover {', '.join(states)}")
        return seen

    async def contact(self, contact_id: str) -> Contact:
        return await self.r.services.store.get_contact(contact_id)

    def leg(self, call_id: str) -> LegView:
        leg = self.sim.leg(call_id)
        assert leg is not None, call_id
        return leg

    async def events(self, stream: str, type_prefix: str = "handover.") -> list[Event]:
        events = await self.r.services.bus.read_after(stream, 0)
        assert isinstance(events, list)
        return [e for e in events if e.type.startswith(type_prefix)]


@contextlib.asynccontextmanager
async def serve(settings: Settings, policy: HandoverPolicy) -> AsyncIterator[Running]:
    """As ``tests.api.conftest.start_server``, with the handover policy's timeout in the settings."""
    app = create_app(settings.model_copy(update={"handover_timeout_s": policy.timeout_s}))
    async with (
        uvicorn_serving(app, port=settings.port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", timeout=10) as client,
    ):
        yield Running(f"http://127.0.0.1:{settings.port}", app.state.services, client)


CentreFactory = Callable[..., contextlib.AbstractAsyncContextManager[Centre]]


@pytest.fixture
def open_centre(tmp_path: Path, request: pytest.FixtureRequest) -> CentreFactory:
    """``async with open_centre(timeout_s=..., backend="memory" | "redis") as centre``."""

    @contextlib.asynccontextmanager
    async def opened(timeout_s: float = 30.0, backend: str = "memory") -> AsyncIterator[Centre]:
        policy = HandoverPolicy(timeout_s=timeout_s)
        async with contextlib.AsyncExitStack() as stack:
            if backend == "redis":
                redis_url = request.getfixturevalue("redis_url")
                prefix = request.getfixturevalue("redis_prefix")
                admin = request.getfixturevalue("postgres_admin_url")
                pg_url = await stack.enter_async_context(fresh_postgres_database(admin))
                settings = settings_for(
                    tmp_path, backend="redis", redis_url=redis_url, redis_prefix=prefix, database_url=pg_url
                )
            else:
                settings = settings_for(tmp_path)
            r = await stack.enter_async_context(serve(settings, policy))
            yield Centre(r, await r.login("supervisor01"), await r.login(AGENT))

    return opened


@pytest.fixture
async def centre(open_centre: CentreFactory) -> AsyncIterator[Centre]:
    async with open_centre() as opened:
        yield opened


@pytest.fixture
async def quick_centre(open_centre: CentreFactory) -> AsyncIterator[Centre]:
    """A centre whose handovers time out after 1 s."""
    async with open_centre(timeout_s=1.0) as opened:
        yield opened
