"""Links and flags in the records database, audited; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.domain.clock import ManualClock
from cti.domain.errors import Conflict, InvalidInput, NotFound
from cti.records import Records, create_engine, migrate
from knowledge.records import KnowledgeRecords
from tests.conftest import fresh_postgres_database

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
        await migrate(url)
        engine = create_engine(url)
        yield engine
        await engine.dispose()
        return
    async with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
        await migrate(url)
        engine = create_engine(url)
        yield engine
        await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(int(NOW.timestamp() * 1000))


@pytest.fixture
def kr(engine: AsyncEngine, clock: ManualClock) -> KnowledgeRecords:
    return KnowledgeRecords(engine, clock)


async def test_the_migration_creates_the_knowledge_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        versions = set((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
    assert {"kb_article_link", "kb_flag"} <= names
    assert "0002_knowledge" in versions


async def test_a_link_is_kept_audited_and_not_duplicated(kr: KnowledgeRecords, engine: AsyncEngine) -> None:
    link = await kr.link("c-1", "kb-asc-carers-assessment", actor="agent01", role="agent")
    assert link.linked_at == NOW
    again = await kr.link("c-1", "kb-asc-carers-assessment", actor="agent01", role="agent")
    assert again.id == link.id
    await kr.link("c-1", "kb-gen-identifying-carers", actor="agent01", role="agent")
    links = await kr.links_for_contact("c-1")
    assert [x.article_id for x in links] == ["kb-asc-carers-assessment", "kb-gen-identifying-carers"]
    audit = await Records(engine).audit_entries("c-1", subject_type="contact")
    assert [(a.action, a.actor, a.details["article_id"]) for a in audit] == [
        ("kb_link", "agent01", "kb-asc-carers-assessment"),
        ("kb_link", "agent01", "kb-gen-identifying-carers"),
    ]


async def test_a_flag_is_an_open_task_for_the_owner_until_done(
    kr: KnowledgeRecords, engine: AsyncEngine, clock: ManualClock
) -> None:
    flag = await kr.flag(
        "kb-asc-home-care",
        "Phone number for the agency is out of date",
        owner="asc-knowledge-team",
        actor="agent02",
        role="agent",
        contact_id="c-9",
    )
    assert flag.state == "open"
    await kr.flag(
        "kb-fcp-loneliness", "Add the new lunch club", owner="fcp-team", actor="agent03", role="agent"
    )
    assert [f.id for f in await kr.flags(owner="asc-knowledge-team")] == [flag.id]
    assert len(await kr.flags()) == 2
    clock.advance(60_000)
    done = await kr.resolve_flag(flag.id, actor="supervisor01", role="supervisor")
    assert done.state == "done"
    assert done.resolved_by == "supervisor01"
    assert await kr.flags(owner="asc-knowledge-team") == []
    assert [f.id for f in await kr.flags(owner="asc-knowledge-team", state="done")] == [flag.id]
    with pytest.raises(Conflict):
        await kr.resolve_flag(flag.id, actor="supervisor01", role="supervisor")
    with pytest.raises(NotFound):
        await kr.resolve_flag(99999, actor="supervisor01", role="supervisor")
    audit = await Records(engine).audit_entries("kb-asc-home-care", subject_type="kb_article")
    assert [a.action for a in audit] == ["kb_flag", "kb_flag_done"]
    assert audit[0].details["contact_id"] == "c-9"


async def test_a_flag_needs_a_reason(kr: KnowledgeRecords) -> None:
    with pytest.raises(InvalidInput) as caught:
        await kr.flag("kb-asc-home-care", "  ", owner="asc-knowledge-team", actor="agent02", role="agent")
    assert caught.value.details["field"] == "reason"


async def test_the_same_link_made_at_once_is_kept_once(kr: KnowledgeRecords, engine: AsyncEngine) -> None:
    links = await asyncio.gather(
        *(kr.link("c-2", "kb-gen-dols", actor="agent01", role="agent") for _ in range(4))
    )
    assert len({link.id for link in links}) == 1
    assert len(await kr.links_for_contact("c-2")) == 1
