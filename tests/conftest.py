"""Shared test fixtures: real Redis and PostgreSQL on localhost, found or loudly skipped.

With FRONTDOOR_REQUIRE_SERVICES=1 (set by .ci/run) a missing server fails the run instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.records import create_engine, migrate

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = os.environ.get("FRONTDOOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE = os.environ.get("FRONTDOOR_REQUIRE_SERVICES") == "1"

_missing: dict[str, str] = {}


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _need(service: str, host: str, port: int) -> None:
    if _port_open(host, port):
        return
    reason = f"{service} is not reachable on {host}:{port}"
    _missing[service] = reason
    if REQUIRE:
        pytest.fail(f"{reason} and FRONTDOOR_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _missing:
        terminalreporter.write_sep(
            "!", "SERVICES MISSING: TESTS AGAINST THEM WERE SKIPPED", red=True, bold=True
        )
        for reason in _missing.values():
            terminalreporter.write_line(f"  {reason}", red=True, bold=True)


@pytest.fixture
def redis_url() -> str:
    _need("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis as redis_sync

    prefix = f"fdtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis_sync.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
    finally:
        client.close()


@pytest.fixture
def postgres_admin_url() -> str:
    _need("PostgreSQL", PG_HOST, PG_PORT)
    return PG_ADMIN_URL


@contextlib.asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A new empty database (asyncpg URL for SQLAlchemy), dropped afterwards."""
    import asyncpg

    name = f"fdtest_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def postgres_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh database of this test's own, dropped afterwards."""
    async with fresh_postgres_database(postgres_admin_url) as url:
        yield url


async def until(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool],
    timeout: float = 5.0,
    interval: float = 0.01,
    message: str = "condition",
) -> None:
    """Poll ``predicate`` until it holds or the deadline passes (never sleep to synchronise)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


# The records' database, migrated, on SQLite and on PostgreSQL (tests/records, tests/scripts).
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'records.db'}"
    # The fixture above skips (or fails, under FRONTDOOR_REQUIRE_SERVICES=1) without a server.
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def engine(records_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(records_url)
    engine = create_engine(records_url)
    try:
        yield engine
    finally:
        await engine.dispose()
