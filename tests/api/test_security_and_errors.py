"""Authentication, roles and bad input: always a 4xx with a stable error_id, never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import Running


async def test_health_checks_need_no_login(running: Running) -> None:
    assert (await running.client.get("/healthz")).json() == {"status": "ok"}
    ready = await running.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_login_returns_a_bearer_token_and_role(running: Running) -> None:
    r = await running.client.post("/api/login", json={"username": "supervisor01", "password": "demo"})
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "bearer" and body["role"] == "supervisor"
    assert len(body["access_token"]) >= 32
    me = await running.client.get("/api/me", headers={"authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "supervisor01", "role": "supervisor"}


@pytest.mark.parametrize(
    ("username", "password"), [("agent01", "wrong"), ("nobody", "demo"), ("agent01", "DEMO")]
)
async def test_wrong_credentials_are_refused_alike(running: Running, username: str, password: str) -> None:
    r = await running.client.post("/api/login", json={"username": username, "password": password})
    assert r.status_code == 401
    assert r.json()["error_id"] == "invalid_credentials"
    assert r.json()["message"] == "wrong username or password"


async def test_logout_ends_the_session(running: Running) -> None:
    headers = await running.login("agent01")
    assert (await running.client.post("/api/logout", headers=headers)).status_code == 204
    after = await running.client.get("/api/me", headers=headers)
    assert after.status_code == 401 and after.json()["error_id"] == "session_invalid"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/me"),
        ("GET", "/api/agents"),
        ("GET", "/api/agents/me"),
        ("PUT", "/api/agents/me/status"),
        ("POST", "/api/offers/x/accept"),
        ("POST", "/api/contacts/x/wrap-up"),
        ("GET", "/api/queues"),
        ("GET", "/api/people/lookup?phone=07700900123"),
        ("GET", "/api/people/1?reason=screen-pop"),
        ("POST", "/api/sim/calls"),
        ("GET", "/api/contacts/x/decisions"),
    ],
)
async def test_everything_but_health_needs_a_login(running: Running, method: str, path: str) -> None:
    r = await running.client.request(method, path)
    assert r.status_code == 401
    assert r.json()["error_id"] == "not_authenticated"
    bad = await running.client.request(method, path, headers={"authorization": "Bearer not-a-real-token"})
    assert bad.status_code == 401 and bad.json()["error_id"] == "session_invalid"


@pytest.mark.parametrize(
    ("user", "method", "path"),
    [
        ("agent01", "GET", "/api/agents"),
        ("agent01", "GET", "/api/contacts/x/decisions"),
        ("agent01", "POST", "/api/contacts/x/move"),
        ("agent01", "POST", "/api/sim/calls"),
        ("agent01", "PUT", "/api/agents/agent02/status"),
        ("supervisor01", "PUT", "/api/agents/me/status"),
        ("admin", "POST", "/api/offers/x/accept"),
    ],
)
async def test_roles_are_enforced_server_side(running: Running, user: str, method: str, path: str) -> None:
    headers = await running.login(user)
    r = await running.client.request(method, path, headers=headers, json={})
    assert r.status_code == 403, r.text
    assert r.json()["error_id"] == "role_forbidden"


async def test_malformed_requests_get_4xx_naming_the_field(running: Running) -> None:
    c = running.client
    raw = await c.post("/api/login", content=b"{not json", headers={"content-type": "application/json"})
    assert raw.status_code == 422 and raw.json()["error_id"] == "invalid_request"
    missing = await c.post("/api/login", json={"username": "agent01"})
    assert missing.status_code == 422
    assert [f["field"] for f in missing.json()["details"]["fields"]] == ["password"]
    extra = await c.post("/api/login", json={"username": "a", "password": "b", "admin": True})
    assert extra.status_code == 422 and "admin" in extra.json()["message"]
    headers = await running.login("agent01")
    status = await c.put("/api/agents/me/status", json={"status": "asleep"}, headers=headers)
    assert status.status_code == 422 and status.json()["details"]["fields"][0]["field"] == "status"
    reason = await c.put(
        "/api/agents/me/status", json={"status": "not_ready", "reason": "bad\r\nreason"}, headers=headers
    )
    assert reason.status_code == 422 and reason.json()["details"]["fields"][0]["field"] == "reason"


async def test_unknown_things_are_404_with_error_ids(running: Running) -> None:
    headers = await running.login("agent01")
    assert (await running.client.get("/api/nowhere", headers=headers)).json()["error_id"] == "not_found"
    offer = await running.client.post("/api/offers/nope/accept", headers=headers)
    assert offer.status_code == 404 and offer.json()["error_id"] == "offer_not_found"
    contact = await running.client.post("/api/contacts/nope/hold", headers=headers)
    assert contact.status_code == 404 and contact.json()["error_id"] == "contact_not_found"
    sup = await running.login("supervisor01")
    queue = await running.client.get("/api/queues/nope/waiting", headers=sup)
    assert queue.status_code == 404 and queue.json()["error_id"] == "queue_not_found"
    call = await running.client.post("/api/sim/calls", json={"queue": "nope"}, headers=sup)
    assert call.status_code == 422 and call.json()["error_id"] == "unknown_queue"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        42,
        {"status": None},
        {"status": ["available"]},
        {"status": "available", "reason": 7},
        {"status": "x" * 10_000},
    ],
)
async def test_garbage_bodies_never_cause_a_500(running: Running, body: object) -> None:
    headers = await running.login("agent01")
    for method, path in [
        ("PUT", "/api/agents/me/status"),
        ("POST", "/api/contacts/c/wrap-up"),
        ("POST", "/api/login"),
    ]:
        r = await running.client.request(method, path, json=body, headers=headers)
        assert 400 <= r.status_code < 500, (method, path, body, r.status_code, r.text)
        assert "error_id" in r.json()


async def test_openapi_is_published(running: Running) -> None:
    spec = (await running.client.get("/openapi.json")).json()
    assert "/api/login" in spec["paths"] and "/api/offers/{offer_id}/accept" in spec["paths"]
