"""HTTP API (installed by ``cti.app.create_app``): knowledge search, articles, links, flags, directory.

Agents, specialists and supervisors read and search. Agents and specialists link or flag an article
on a contact they handle or have handled (the state store's contact or agent, else the recorded
contact); supervisors see and close flags. Every link and flag is audited.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from cti.api.deps import AgentLike, ServicesDep, Supervisor, require
from cti.auth.service import Principal
from cti.domain.errors import Forbidden, InvalidInput, NotFound
from cti.wiring import Services
from knowledge.base import KnowledgeBase
from knowledge.records import KnowledgeRecords

Reader = Annotated[Principal, Depends(require("agent", "specialist", "supervisor"))]
EXTRAS_KEY = "knowledge"

router = APIRouter(tags=["knowledge"])


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    article_id: str = Field(min_length=1, max_length=80)


class FlagBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=1000)
    contact_id: str | None = Field(default=None, min_length=1, max_length=64)


def _int(value: str | None, field: str, default: int) -> int:
    """Query values arrive as text; an empty one (``?limit=``) means "not given"."""
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            f"'{field}' must be a whole number", error_id=f"invalid_{field}", field=field
        ) from None


def _float(value: str | None, field: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"'{field}' must be a number", error_id=f"invalid_{field}", field=field) from None


def _bool(value: str | None, field: str) -> bool | None:
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InvalidInput(f"'{field}' must be true or false", error_id=f"invalid_{field}", field=field)


def knowledge_base(svc: Services) -> KnowledgeBase:
    kb: KnowledgeBase = svc.extras[EXTRAS_KEY]
    return kb


def _now(svc: Services) -> datetime:
    return datetime.fromtimestamp(svc.clock.now_ms() / 1000, UTC)


async def check_handles(svc: Services, contact_id: str, username: str) -> None:
    """The user has (or had) this contact: deny by default, no access by changing an id."""
    live = None
    with contextlib.suppress(NotFound):
        live = await svc.store.get_contact(contact_id)
    if live is not None and live.agent_id == username:
        return
    try:
        agent = await svc.store.get_agent(username)
        if agent.contact_id == contact_id:
            return
    except NotFound:
        pass
    # A specialist in a warm handover for this contact (the handover service, if installed).
    handovers = getattr(svc.extras.get("handover"), "handovers", None)
    if handovers is not None:
        handover = await handovers.active_for(contact_id)
        if handover is not None and username in handover.parties():
            return
    recorded = await svc.records.get_contact(contact_id)
    if recorded is not None and recorded.agent_id == username:
        return
    if live is None and recorded is None:
        raise NotFound(f"no contact {contact_id!r}", error_id="contact_not_found", field="contact_id")
    raise Forbidden("this contact is not one you handle or have handled", error_id="not_your_contact")


@router.get("/api/kb/search")
async def search(
    user: Reader,
    svc: ServicesDep,
    q: str = "",
    service: str | None = None,
    audience: str | None = None,
    limit: str | None = None,
) -> dict[str, Any]:
    """Published articles and directory entries, best first (``limit`` 1-50, default 10)."""
    hits = knowledge_base(svc).search(
        q, service=service or None, audience=audience or None, limit=_int(limit, "limit", 10)
    )
    return {"results": [h.to_json() for h in hits]}


@router.get("/api/kb/articles/{article_id}")
async def get_article(article_id: str, user: Reader, svc: ServicesDep) -> dict[str, Any]:
    """A published article: Markdown and safe HTML (raw HTML in the source is escaped)."""
    return knowledge_base(svc).published_article(article_id).to_json(_now(svc).date())


@router.post("/api/contacts/{contact_id}/articles", status_code=201)
async def link_article(contact_id: str, body: LinkBody, user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    """Link the article used to the contact (idempotent: linking again returns the same link)."""
    knowledge_base(svc).published_article(body.article_id)
    await check_handles(svc, contact_id, user.username)
    link = await KnowledgeRecords(svc.engine, svc.clock).link(
        contact_id, body.article_id, actor=user.username, role=user.role
    )
    return link.to_json()


@router.get("/api/contacts/{contact_id}/articles")
async def contact_articles(contact_id: str, user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    await check_handles(svc, contact_id, user.username)
    links = await KnowledgeRecords(svc.engine, svc.clock).links_for_contact(contact_id)
    return {"links": [link.to_json() for link in links]}


@router.post("/api/kb/articles/{article_id}/flag", status_code=201)
async def flag_article(article_id: str, body: FlagBody, user: AgentLike, svc: ServicesDep) -> dict[str, Any]:
    """Flag an article with a reason: an open task for its owner."""
    article = knowledge_base(svc).article(article_id)
    if body.contact_id is not None:
        await check_handles(svc, body.contact_id, user.username)
    flag = await KnowledgeRecords(svc.engine, svc.clock).flag(
        article_id,
        body.reason,
        owner=article.meta.owner,
        actor=user.username,
        role=user.role,
        contact_id=body.contact_id,
    )
    return flag.to_json()


@router.get("/api/kb/flags")
async def list_flags(
    user: Supervisor, svc: ServicesDep, owner: str | None = None, state: str = "open"
) -> dict[str, Any]:
    if state not in ("open", "done", "all"):
        raise InvalidInput("'state' must be open, done or all", error_id="invalid_state", field="state")
    flags = await KnowledgeRecords(svc.engine, svc.clock).flags(
        owner=owner or None, state=None if state == "all" else state
    )
    return {"flags": [f.to_json() for f in flags]}


@router.post("/api/kb/flags/{flag_id}/done")
async def resolve_flag(flag_id: int, user: Supervisor, svc: ServicesDep) -> dict[str, Any]:
    flag = await KnowledgeRecords(svc.engine, svc.clock).resolve_flag(
        flag_id, actor=user.username, role=user.role
    )
    return flag.to_json()


@router.get("/api/directory/search")
async def directory_search(
    user: Reader,
    svc: ServicesDep,
    q: str | None = None,
    open_now: str | None = None,
    within_hours: str | None = None,
    limit: str | None = None,
) -> dict[str, Any]:
    """Directory entries, each with ``open_now``, ``next_change`` and ``stale``; empty values are ignored."""
    results = knowledge_base(svc).search_directory(
        q,
        open_now=_bool(open_now, "open_now"),
        within_hours=_float(within_hours, "within_hours"),
        at=_now(svc),
        limit=_int(limit, "limit", 20),
    )
    return {"results": results}


@router.get("/api/directory/entries/{entry_id}")
async def directory_entry(entry_id: str, user: Reader, svc: ServicesDep) -> dict[str, Any]:
    entry = knowledge_base(svc).directory.get(entry_id)
    if entry is None:
        raise NotFound(
            f"no directory entry {entry_id!r}", error_id="directory_entry_not_found", field="entry_id"
        )
    return entry.to_json(_now(svc))


def install(app: FastAPI) -> None:
    """Add this package's routes; the knowledge base (and its index) is built when the app starts."""
    app.include_router(router)

    async def started(svc: Services) -> None:
        svc.extras[EXTRAS_KEY] = await asyncio.to_thread(KnowledgeBase.load)

    async def stopping(svc: Services) -> None:
        kb = svc.extras.pop(EXTRAS_KEY, None)
        if isinstance(kb, KnowledgeBase):
            kb.close()

    app.state.on_started.append(started)
    app.state.on_stopping.append(stopping)
