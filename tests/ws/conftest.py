"""Real uvicorn nodes with the desktop channel installed, and a real websocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from cti.app import create_app
from cti.auth.service import Principal
from cti.config.settings import Settings, load_settings
from cti.domain.clock import Clock
from cti.wiring import Services
from cti.ws import UVICORN_WS_OPTIONS, Hub, SnapshotProvider, WsOptions, validate_transport_message
from tests.conftest import REDIS_HOST, REDIS_PORT, _need
from tests.servers import uvicorn_serving

ORIGIN = "https://desk.example"
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
FAST = WsOptions(heartbeat_interval_s=0.1, presence_sweep_s=0.05, freeze_gc=False)


@dataclass
class Node:
    base_url: str
    services: Services
    client: httpx.AsyncClient
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def hub(self) -> Hub:
        hub = self.services.extras["ws"]
        assert isinstance(hub, Hub)
        return hub

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    async def headers(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = await self.client.post("/api/login", json={"username": username, "password": "demo"})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"authorization": f"Bearer {self._tokens[username]}"}

    async def ticket(self, username: str, *, api: bool = False) -> str:
        """A ticket from ``POST /api/ws-ticket`` (``api``: signs in first, as a desktop does), or
        issued by the hub directly (saves the password check where the endpoint is not under test)."""
        if not api:
            return await self.hub.issue_ticket(Principal(username, self.services.centre.users[username].role))
        r = await self.client.post("/api/ws-ticket", headers=await self.headers(username))
        assert r.status_code == 200, r.text
        return str(r.json()["ticket"])

    def url(self, path: str, **query: Any) -> str:
        params = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
        return f"{self.ws_url}{path}" + (f"?{params}" if params else "")

    async def open(
        self, path: str, *, origin: str | None = ORIGIN, sock: socket.socket | None = None, **query: Any
    ) -> ClientConnection:
        extra: dict[str, Any] = {"sock": sock} if sock is not None else {}
        return await connect(
            self.url(path, **query),
            origin=Origin(origin) if origin else None,
            proxy=None,
            open_timeout=5,
            close_timeout=2,
            **extra,
        )

    async def connect(
        self, username: str, path: str = "/ws/agent", *, api: bool = False, **query: Any
    ) -> ClientConnection:
        return await self.open(path, ticket=await self.ticket(username, api=api), **query)


def _listener(sndbuf: int | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf is not None:  # accepted sockets inherit it: lets a test fill the path to a client quickly
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextlib.asynccontextmanager
async def start_node(
    settings: Settings,
    options: WsOptions = FAST,
    clock: Clock | None = None,
    sndbuf: int | None = None,
    providers: Mapping[str, SnapshotProvider] | None = None,
) -> AsyncIterator[Node]:
    app = create_app(settings, clock, ws_options=options, ws_providers=providers)
    sock = _listener(sndbuf)
    port = sock.getsockname()[1]
    try:
        async with uvicorn_serving(app, sock=sock, **UVICORN_WS_OPTIONS):
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                yield Node(base, app.state.services, client)
    finally:
        sock.close()


def settings_for(tmp_path: Path, name: str = "node", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}",
        "backend": "memory",
        "allowed_origins": [ORIGIN],
    }
    values.update(overrides)
    return load_settings(None, **values)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    async with start_node(settings_for(tmp_path)) as n:
        yield n


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    """One node for a whole module (its tests must mark ``asyncio(loop_scope="module")``): for tests
    that do not depend on a fresh stream."""
    async with start_node(settings_for(tmp_path_factory.mktemp("ws"))) as n:
        yield n


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["memory", "redis"])
async def shared_any_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Node]:
    """``shared_node`` on the memory backend, or on Redis (a key prefix of its own, deleted after)."""
    overrides: dict[str, Any] = {}
    prefix = f"fdtest-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        _need("Redis", REDIS_HOST, REDIS_PORT)
        overrides = {"backend": "redis", "redis_url": REDIS_URL, "redis_prefix": prefix}
    try:
        async with start_node(settings_for(tmp_path_factory.mktemp("ws"), **overrides)) as n:
            yield n
    finally:
        if request.param == "redis":
            client = aioredis.Redis.from_url(REDIS_URL)
            try:
                keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
                if keys:
                    await client.delete(*keys)
            finally:
                await client.aclose()


# --- client helpers ----------------------------------------------------------------------------------
async def recv(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """The next server message; every one must validate against the transport catalogue."""
    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    validate_transport_message(msg)
    return dict(msg)


async def recv_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool], timeout: float = 5.0
) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        got.append(await recv(ws, timeout))
        if done(got[-1]):
            return got


async def close_of(ws: ClientConnection, timeout: float = 5.0) -> tuple[int | None, str | None]:
    """Read until the server closes; the close code and reason it sent."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            validate_transport_message(msg)
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason


def events(messages: list[dict[str, Any]], type: str = "test.event") -> list[int]:
    return [m["seq"] for m in messages if m["type"] == type]


async def publish(services: Services, stream: str, count: int, start: int = 0, size: int = 0) -> int:
    """Publish ``count`` test events; returns the last seq."""
    seq = 0
    for i in range(start, start + count):
        data: dict[str, Any] = {"n": i}
        if size:
            data["pad"] = "x" * size
        seq = (await services.bus.publish(stream, "test.event", data, services.clock.now_ms())).seq
    return seq
