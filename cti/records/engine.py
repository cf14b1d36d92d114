"""Engines and migrations for the records database (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cti.records.inline_sqlite import WAIT_FOR_LOCK_MS, inline_creator, is_inline

DEFAULT_URL = "sqlite+aiosqlite:///var/records.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
_MIGRATION_LOCK = 0x46524F4E54  # "FRONT": the advisory lock that serialises migrations on PostgreSQL


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the screen-pop read while a wrap-up writes; NORMAL is durable enough under WAL.
        # The busy timeout first: switching a file to WAL takes a lock another connection may hold.
        # An inline connection has none: it waits for a lock on its own thread (inline_sqlite).
        wait_ms = 0 if is_inline(dbapi_connection) else WAIT_FOR_LOCK_MS
        cursor.execute(f"PRAGMA busy_timeout={wait_ms}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _skip_idle_rollback(engine: AsyncEngine) -> None:
    """Returning a SQLite connection that is not in a transaction (every read) skips the rollback.

    pysqlite's rollback is a no-op then anyway, but through aiosqlite it costs a hop to the
    connection's thread and back on the hot path (each screen-pop, each caller lookup).
    """
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        try:
            idle = driver is not None and driver.in_transaction is False
        except ValueError:  # closed: let the driver say so
            idle = False
        if not idle:
            rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def create_engine(url: str = DEFAULT_URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``.

    For a SQLite file the parent folder is created (``./var`` by default), statements run on the
    event loop's thread unless they must wait for a lock (``inline_sqlite``), and the connection
    pragmas are set (WAL, foreign keys, busy timeout). The caller owns the engine: ``dispose()`` it.
    """
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("async_creator", inline_creator(url))
    engine = create_async_engine(url, **kwargs)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        _skip_idle_rollback(engine)
    return engine


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration in code: no ``alembic.ini`` is needed at the repository root."""
    config = Config()
    # ConfigParser interpolates '%': escape it in the values we set.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    # env.py runs on this connection instead of making its own event loop.
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to ``revision`` (all migrations by default)."""
    engine = create_engine(url)
    try:
        await migrate_engine(engine, revision)
    finally:
        await engine.dispose()


def _in_process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


async def migrate_engine(engine: AsyncEngine, revision: str = "heads") -> None:
    """Like ``migrate`` on an engine the caller already holds (and keeps)."""
    # Alembic keeps the running migration's context in module globals: two upgrades in one
    # process must not interleave. Across processes PostgreSQL's advisory lock serialises them.
    async with _in_process_lock(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several nodes may start at once: one migrates, the others wait and then find nothing to do.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        await connection.run_sync(_upgrade, alembic_config(), revision)
