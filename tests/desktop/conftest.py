"""A real server with the desktop channel installed, and demo records to call from.

``desk`` runs on the embedded default (memory + SQLite); ``desk_any`` also on Redis + PostgreSQL.
Both hold 200 seeded demo people; ``Callers`` picks numbers with a known shape from them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.app import create_app
from cti.config.settings import Settings
from cti.desktop.catalogue import agent_stream
from cti.domain.events import Event, Resync
from cti.records.demo_data import seed_demo
from cti.records.models import OPEN_STATUSES
from cti.records.tables import person_phone, referrer_phone, service_request
from cti.wiring import Services
from tests.api.conftest import Running, settings_for
from tests.conftest import fresh_postgres_database
from tests.servers import uvicorn_serving

QUEUE = "amh_spa"  # open 24x7 in the demo centre: these tests do not depend on the time of day
AGENT = "agent14"  # serves AMH


async def serve(settings: Settings) -> AsyncIterator[Running]:
    """As ``tests.api.conftest.start_server``, with demo records seeded."""
    app = create_app(settings)
    async with (
        uvicorn_serving(app, port=settings.port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", timeout=10) as client,
    ):
        services: Services = app.state.services
        await seed_demo(services.records, people=200)
        yield Running(f"http://127.0.0.1:{settings.port}", services, client)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in serve(settings_for(tmp_path)):
        yield r


async def _scaled_out(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    redis_url = request.getfixturevalue("redis_url")
    redis_prefix = request.getfixturevalue("redis_prefix")
    async with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as pg_url:
        settings = settings_for(
            tmp_path, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix, database_url=pg_url
        )
        async for r in serve(settings):
            yield r


@pytest.fixture(params=["memory+sqlite", "redis+postgres"])
async def desk_any(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    if request.param == "memory+sqlite":
        async for r in serve(settings_for(tmp_path)):
            yield r
        return
    async for r in _scaled_out(request, tmp_path):
        yield r


@pytest.fixture
async def desk_redis(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    """On Redis + PostgreSQL only: what several nodes share."""
    async for r in _scaled_out(request, tmp_path):
        yield r


@dataclass(frozen=True)
class Callers:
    """Numbers (E.164) from the demo records, each with a known shape."""

    known: str  # exactly one person, no referrer, with open service requests
    known_person: int
    shared: str  # two or more people, no referrer
    shared_people: list[int]
    gp: str  # exactly one referrer, no person
    gp_referrer: int


async def find_callers(engine: AsyncEngine) -> Callers:
    people_on = (
        sa.select(person_phone.c.e164, sa.func.count().label("n")).group_by(person_phone.c.e164).subquery()
    )
    no_referrer = ~people_on.c.e164.in_(sa.select(referrer_phone.c.e164))
    with_open = sa.select(service_request.c.person_id).where(
        service_request.c.status.in_(sorted(OPEN_STATUSES))
    )
    async with engine.connect() as conn:
        known, person_id = (
            await conn.execute(
                sa.select(person_phone.c.e164, person_phone.c.person_id)
                .join(people_on, people_on.c.e164 == person_phone.c.e164)
                .where(people_on.c.n == 1, no_referrer, person_phone.c.person_id.in_(with_open))
                .order_by(person_phone.c.person_id)
                .limit(1)
            )
        ).one()
        shared = (
            await conn.scalars(
                sa.select(people_on.c.e164).where(people_on.c.n >= 2, no_referrer).order_by(people_on.c.e164)
            )
        ).first()
        assert shared is not None, "the demo records have no shared number"
        sharing = list(
            (
                await conn.scalars(sa.select(person_phone.c.person_id).where(person_phone.c.e164 == shared))
            ).all()
        )
        referrers_on = (
            sa.select(referrer_phone.c.e164).group_by(referrer_phone.c.e164).having(sa.func.count() == 1)
        )
        gp, referrer_id = (
            await conn.execute(
                sa.select(referrer_phone.c.e164, referrer_phone.c.referrer_id)
                .where(
                    referrer_phone.c.e164.in_(referrers_on),
                    ~referrer_phone.c.e164.in_(sa.select(person_phone.c.e164)),
                )
                .order_by(referrer_phone.c.referrer_id)
                .limit(1)
            )
        ).one()
    return Callers(known, person_id, shared, sorted(sharing), gp, referrer_id)


async def agent_messages(services: Services, agent: str = AGENT) -> list[Event]:
    events = await services.bus.read_after(agent_stream(agent), 0)
    assert not isinstance(events, Resync)
    return events


def of_type(events: list[Event], type: str, contact: str | None = None) -> list[Event]:
    return [e for e in events if e.type == type and (contact is None or e.data.get("contact") == contact)]


async def set_status(r: Running, headers: dict[str, str], status: str) -> dict[str, Any]:
    resp = await r.client.put("/api/agents/me/status", json={"status": status}, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body
