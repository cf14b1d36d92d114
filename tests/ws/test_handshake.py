"""Who may open the channel: tickets, roles, Origin, and never a bearer token in a URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from cti.domain.clock import ManualClock
from tests.ws.conftest import Node, close_of, recv, settings_for, start_node

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def node(shared_node: Node) -> Node:
    """This module's tests share one node (they do not depend on fresh streams)."""
    return shared_node


async def test_ticket_is_random_short_lived_and_needs_the_bearer_token(node: Node) -> None:
    assert (await node.client.post("/api/ws-ticket")).status_code == 401
    r = await node.client.post("/api/ws-ticket", headers=await node.headers("clinsafe01"))
    assert r.status_code == 403  # no channel for this role: no ticket
    r = await node.client.post("/api/ws-ticket", headers=await node.headers("agent01"))
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"ticket", "expires_in"}
    assert body["expires_in"] == 30
    assert len(body["ticket"]) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert r.headers["cache-control"] == "no-store"
    assert body["ticket"] != await node.ticket("agent01", api=True)


async def test_a_ticket_is_required(node: Node) -> None:
    ws = await node.open("/ws/agent")
    assert await close_of(ws) == (1008, "a ticket is required: POST /api/ws-ticket")
    ws = await node.open("/ws/agent", ticket="not-a-ticket")
    assert await close_of(ws) == (1008, "invalid, used or expired ticket")


async def test_a_ticket_works_once(node: Node) -> None:
    ticket = await node.ticket("agent01", api=True)
    first = await node.open("/ws/agent", ticket=ticket)
    assert (await recv(first))["type"] == "snapshot"
    second = await node.open("/ws/agent", ticket=ticket)
    assert await close_of(second) == (1008, "invalid, used or expired ticket")
    await first.close()


async def test_an_expired_ticket_is_refused(tmp_path: Path) -> None:
    clock = ManualClock()
    async with start_node(settings_for(tmp_path), clock=clock) as node:
        ticket = await node.ticket("agent01", api=True)
        clock.advance(30_000)
        ws = await node.open("/ws/agent", ticket=ticket)
        assert await close_of(ws) == (1008, "invalid, used or expired ticket")


@pytest.mark.parametrize(
    ("user", "path"),
    [("agent01", "/ws/supervisor"), ("specialist01", "/ws/supervisor"), ("supervisor01", "/ws/agent")],
)
async def test_the_wrong_role_is_refused(node: Node, user: str, path: str) -> None:
    ws = await node.connect(user, path, api=True)
    code, reason = await close_of(ws)
    assert code == 1008
    assert reason is not None
    assert reason.startswith("this channel needs one of the roles")


@pytest.mark.parametrize(("user", "path"), [("specialist01", "/ws/agent"), ("admin", "/ws/supervisor")])
async def test_the_right_roles_are_admitted(node: Node, user: str, path: str) -> None:
    ws = await node.connect(user, path, api=True)
    assert (await recv(ws))["type"] == "snapshot"
    await ws.close()


async def test_origin_is_checked_against_the_allow_list(node: Node) -> None:
    for bad in ("https://evil.example", "null", "https://desk.example.evil.example", "http://desk.example"):
        ws = await node.open("/ws/agent", origin=bad, ticket=await node.ticket("agent01", api=True))
        assert await close_of(ws) == (1008, "origin not allowed"), bad
    good = await node.open(
        "/ws/agent", origin="https://DESK.example", ticket=await node.ticket("agent01", api=True)
    )
    assert (await recv(good))["type"] == "snapshot"
    # A non-browser client sends no Origin at all: admitted on its ticket alone.
    tool = await node.open("/ws/agent", origin=None, ticket=await node.ticket("agent02", api=True))
    assert (await recv(tool))["type"] == "snapshot"
    await good.close()
    await tool.close()


async def test_a_bad_origin_does_not_use_up_the_ticket(node: Node) -> None:
    ticket = await node.ticket("agent01", api=True)
    ws = await node.open("/ws/agent", origin="https://evil.example", ticket=ticket)
    assert (await close_of(ws))[0] == 1008
    ws = await node.open("/ws/agent", ticket=ticket)
    assert (await recv(ws))["type"] == "snapshot"
    await ws.close()


async def test_without_an_allow_list_only_the_same_origin_is_admitted(tmp_path: Path) -> None:
    async with start_node(settings_for(tmp_path, allowed_origins=[])) as node:
        same = node.base_url  # http://127.0.0.1:<port>, as a page served by this node would send
        ws = await node.open("/ws/agent", origin=same, ticket=await node.ticket("agent01", api=True))
        assert (await recv(ws))["type"] == "snapshot"
        other = await node.open(
            "/ws/agent", origin="http://localhost:1", ticket=await node.ticket("agent02", api=True)
        )
        assert await close_of(other) == (1008, "origin not allowed")
        await ws.close()


async def test_the_bearer_token_is_never_accepted_in_the_url(node: Node) -> None:
    headers = await node.headers("agent01")
    token = headers["authorization"].removeprefix("Bearer ")
    for query in ({"ticket": token}, {"access_token": token}, {"token": token}):
        ws = await node.open("/ws/agent", **query)
        assert (await close_of(ws))[0] == 1008, query
    # Nor as a header instead of a ticket: the handshake takes tickets only.
    from websockets.asyncio.client import connect

    ws = await connect(node.url("/ws/agent"), additional_headers=headers, proxy=None)
    assert (await close_of(ws))[0] == 1008


async def test_a_bad_last_seq_is_refused(node: Node) -> None:
    for bad in ("-1", "abc", "1.5", "9" * 30):
        ws = await node.connect("agent01", last_seq=bad, api=True)
        assert await close_of(ws) == (1008, "last_seq must be a non-negative integer"), bad
