"""SQLite statements run on the event loop's thread; a statement that must wait for another
connection's write lock waits on its connection's own thread, and the loop goes on meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.records import inline_sqlite
from cti.records.engine import create_engine


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")

    @event.listens_for(engine.sync_engine, "connect")
    def thread_function(dbapi_connection: Any, _record: Any) -> None:
        # SELECT thread_id() answers with the thread the statement ran on
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE TABLE t (name TEXT, thread INTEGER)"))
    try:
        yield engine
    finally:
        await engine.dispose()


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.scalars(sa.text("SELECT name FROM t ORDER BY name"))).all())


async def test_statements_run_on_the_loop_thread(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        ran_on = await conn.scalar(sa.text("SELECT thread_id()"))
        assert ran_on == threading.get_ident()
        timeout = await conn.scalar(sa.text("PRAGMA busy_timeout"))
        assert timeout == 0  # a statement never sleeps on the loop
        assert await conn.scalar(sa.text("PRAGMA journal_mode")) == "wal"


async def test_a_write_that_meets_a_held_lock_waits_off_the_loop_and_then_succeeds(db: AsyncEngine) -> None:
    holder = await db.connect()
    await holder.execute(sa.text("INSERT INTO t VALUES ('first', thread_id())"))  # holds the write lock
    asking = asyncio.Event()

    async def second() -> None:
        async with db.begin() as conn:
            asking.set()  # the insert below runs before this task next yields
            await conn.execute(sa.text("INSERT INTO t VALUES ('second', thread_id())"))

    task = asyncio.create_task(second())
    await asking.wait()  # back here only once the second insert is waiting (off the loop)
    assert not task.done()
    await holder.commit()  # the loop is free: the lock holder can finish
    await holder.close()
    await asyncio.wait_for(task, 10)
    assert await names(db) == ["first", "second"]
    async with db.connect() as conn:
        rows = {name: thread for name, thread in await conn.execute(sa.text("SELECT name, thread FROM t"))}
    assert rows["first"] == threading.get_ident()
    assert rows["second"] != threading.get_ident()  # it waited for the lock on its own thread


async def test_a_lock_held_too_long_fails_the_waiting_statement_not_the_loop(
    db: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inline_sqlite, "WAIT_FOR_LOCK_MS", 200)
    holder = await db.connect()
    await holder.execute(sa.text("INSERT INTO t VALUES ('held', 1)"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            async with db.begin() as conn:
                await conn.execute(sa.text("INSERT INTO t VALUES ('blocked', 2)"))
    finally:
        ticking.cancel()
    assert ticks >= 5  # the loop ran while the statement waited
    await holder.rollback()
    await holder.close()
    async with db.begin() as conn:  # the busy timeout is back to none, and the connection usable
        assert await conn.scalar(sa.text("PRAGMA busy_timeout")) == 0
        await conn.execute(sa.text("INSERT INTO t VALUES ('later', 3)"))
    assert await names(db) == ["later"]


async def test_other_errors_are_raised_at_once(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(sa.text("SELECT * FROM missing"))
        assert await conn.scalar(sa.text("SELECT 1")) == 1


def test_only_plain_busy_is_waited_for() -> None:
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    snapshot = sqlite3.OperationalError("database is locked")
    snapshot.sqlite_errorcode = 517  # type: ignore[attr-defined]  # SQLITE_BUSY_SNAPSHOT: waiting cannot help
    assert inline_sqlite._busy(busy)
    assert not inline_sqlite._busy(snapshot)
