"""Signing out ends that session's websockets; ending a user's sessions ends all of theirs, on any node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.ws.conftest import Node, close_of, recv_until, settings_for, start_node


async def desktop(node: Node, username: str) -> tuple[dict[str, str], ClientConnection]:
    """A desktop as a browser tab has one: its own sign-in, and a websocket from that session's ticket."""
    r = await node.client.post("/api/login", json={"username": username, "password": "demo"})
    headers = {"authorization": f"Bearer {r.json()['access_token']}"}
    ticket = (await node.client.post("/api/ws-ticket", headers=headers)).json()["ticket"]
    ws = await node.open("/ws/agent", ticket=ticket)
    await recv_until(ws, lambda m: m["type"] == "heartbeat")
    return headers, ws


async def still_open(ws: ClientConnection) -> bool:
    await ws.send('{"type": "ping", "id": "still-there"}')
    got = await recv_until(ws, lambda m: m["type"] == "pong")
    return got[-1]["data"]["id"] == "still-there"


async def test_signing_out_closes_that_sessions_websocket_only(node: Node) -> None:
    first_headers, first = await desktop(node, "agent03")
    _, second = await desktop(node, "agent03")
    assert (await node.client.post("/api/logout", headers=first_headers)).status_code == 204
    assert await close_of(first) == (1008, "signed out")
    assert await still_open(second)
    await second.close()


async def test_ending_a_users_sessions_closes_all_their_websockets(node: Node) -> None:
    _, one = await desktop(node, "agent04")
    _, two = await desktop(node, "agent04")
    _, other_user = await desktop(node, "agent05")
    assert await node.services.auth.end_sessions("agent04") == 2
    assert await close_of(one) == (1008, "signed out")
    assert await close_of(two) == (1008, "signed out")
    assert await still_open(other_user)
    await other_user.close()


@pytest.mark.redis
async def test_signing_out_on_one_node_closes_the_websocket_on_another(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    def settings(name: str) -> Any:
        return settings_for(tmp_path, name, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix)

    async with start_node(settings("a")) as a, start_node(settings("b")) as b:
        headers, ws = await desktop(b, "agent06")
        async with httpx.AsyncClient(base_url=a.base_url) as via_a:
            assert (await via_a.post("/api/logout", headers=headers)).status_code == 204
        assert await close_of(ws) == (1008, "signed out")
