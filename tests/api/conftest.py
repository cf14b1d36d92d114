"""A real server (uvicorn on a free loopback port) with the product wired as in production."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cti.app import create_app
from cti.config.settings import Settings, load_settings
from cti.domain.clock import Clock
from cti.wiring import Services
from tests.conftest import fresh_postgres_database
from tests.servers import uvicorn_serving


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    base_url: str
    services: Services
    client: httpx.AsyncClient

    async def login(self, username: str, password: str = "demo") -> dict[str, str]:
        r = await self.client.post("/api/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"authorization": f"Bearer {r.json()['access_token']}"}

    async def place_call(self, headers: dict[str, str], **body: Any) -> str:
        r = await self.client.post("/api/sim/calls", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return str(r.json()["call_id"])


async def start_server(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Running]:
    app = create_app(settings, clock)
    async with uvicorn_serving(app, port=settings.port):
        base = f"http://127.0.0.1:{settings.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield Running(base, app.state.services, client)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'records.db'}",
        "port": free_port(),
        "backend": "memory",
    }
    values.update(overrides)
    return load_settings(None, **values)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    async for r in start_server(settings_for(tmp_path)):
        yield r


@pytest.fixture(params=["memory+sqlite", "redis+postgres"])
async def running_any(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    """The same product on the embedded default and on the scale-out backends."""
    if request.param == "memory+sqlite":
        settings = settings_for(tmp_path)
        async for r in start_server(settings):
            yield r
        return
    redis_url = request.getfixturevalue("redis_url")
    redis_prefix = request.getfixturevalue("redis_prefix")
    async with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as pg_url:
        settings = settings_for(
            tmp_path, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix, database_url=pg_url
        )
        async for r in start_server(settings):
            yield r
