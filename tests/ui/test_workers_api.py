"""``GET /api/ui/workers``: the colleagues signed in now, for the desktop's named-worker choice."""

from __future__ import annotations

from tests.api.conftest import Running


async def test_only_signed_in_colleagues_are_offered_and_only_to_agents(server: Running) -> None:
    r = server
    agent = await r.login("agent14")
    spec = await r.login("specialist04")
    for headers in (agent, spec):
        resp = await r.client.put("/api/agents/me/status", json={"status": "available"}, headers=headers)
        assert resp.status_code == 200, resp.text
    await r.login("specialist06")  # signed in to the API but never went available: still logged out

    resp = await r.client.get("/api/ui/workers", headers=agent)
    assert resp.status_code == 200, resp.text
    assert resp.json()["workers"] == [
        {
            "username": "specialist04",
            "display_name": "Mental health practitioner 04",
            "role": "specialist",
            "status": "available",
        }
    ]
    assert [
        w["username"] for w in (await r.client.get("/api/ui/workers", headers=spec)).json()["workers"]
    ] == ["agent14"]
    assert (await r.client.get("/api/ui/workers", headers=await r.login("supervisor01"))).status_code == 403
    assert (await r.client.get("/api/ui/workers")).status_code == 401
