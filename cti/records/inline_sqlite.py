"""SQLite statements run on the event loop's thread, with aiosqlite's thread kept for waiting on a lock.

aiosqlite runs every call (cursor, execute, fetch, close, commit) on the connection's own thread and
hands the answer back through the event loop: four or five hops for one screen-pop lookup, each
costing more than the query (``performance.md``: raw ``sqlite3`` p50 0.05 ms, through aiosqlite 0.54
ms), and each one waits for the GIL while the loop is busy, which is when latency matters.

``InlineConnection`` is aiosqlite's connection with one change: a call runs at once on the calling
thread. The connection's busy timeout is 0 there, so a statement never sleeps on the loop; if SQLite
answers ``SQLITE_BUSY`` (another connection holds the write lock, a statement that did nothing), the
same call is handed to the connection's own thread, which waits for the lock with the usual timeout
while the loop goes on, exactly as plain aiosqlite would have done. Only the one connection that asked
waits; nothing is retried that ran.

SQLAlchemy drives it unchanged through its ``sqlite+aiosqlite`` dialect (``async_creator``).
Built on aiosqlite 0.22's ``Connection._execute`` (the one place every call goes through); pinned in
``pyproject.toml``, and ``tests/records/test_inline_sqlite.py`` holds it to aiosqlite's behaviour.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

WAIT_FOR_LOCK_MS = 5000  # how long a statement waits for another connection's write lock


def _busy(exc: sqlite3.OperationalError) -> bool:
    # The plain code only: SQLITE_BUSY_SNAPSHOT (and the like) cannot succeed by waiting.
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


def _waiting_for_lock(conn: sqlite3.Connection, fn: Callable[[], Any]) -> Any:
    """On the connection's thread: run ``fn`` with a busy timeout, then back to none."""
    conn.execute(f"PRAGMA busy_timeout={WAIT_FOR_LOCK_MS}")
    try:
        return fn()
    finally:
        conn.execute("PRAGMA busy_timeout=0")


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread unless they must wait."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        call = partial(fn, *args, **kwargs)
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        return await super()._execute(_waiting_for_lock, self._connection, call)  # type: ignore[no-untyped-call]


def inline_creator(url: str) -> Callable[[], Awaitable[InlineConnection]]:
    """``create_async_engine(url, async_creator=...)`` for a SQLite ``url``: the connection arguments
    SQLAlchemy's dialect would use, with no busy timeout on the loop."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    kwargs = {**kwargs, "timeout": 0}

    async def create() -> InlineConnection:
        connection = InlineConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        await connection
        return connection

    return create


def is_inline(dbapi_connection: Any) -> bool:
    return isinstance(getattr(dbapi_connection, "driver_connection", None), InlineConnection)
