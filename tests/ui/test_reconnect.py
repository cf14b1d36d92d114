"""The desktop survives a server restart: it says it lost the connection, comes back by itself and
catches up on what it missed (resume by sequence number), without signing in again.

The restarted server listens on the same port with the same SQLite file. Sessions and the event
streams live in Redis here (the scale-out backend), so a session and the agent's stream outlive one
process; on the memory backend a restart ends every session and the desktop asks to sign in again
(the second test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Route

from cti.config.settings import Settings
from tests.api.conftest import Running, settings_for, start_server
from tests.conftest import until
from tests.ui.conftest import Ui, expect


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Running]:
    """One server's life: the same settings may be served again afterwards (a restart)."""
    servers = start_server(settings)
    running = await servers.__anext__()
    try:
        yield running
    finally:
        await servers.aclose()


async def test_the_desktop_reconnects_and_replays_after_a_restart(
    browser: Browser, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    settings = settings_for(tmp_path, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix)
    ui = Ui(browser, f"http://127.0.0.1:{settings.port}")
    async with serving(settings) as first:
        desk = await ui.open("/", "agent14")
        page = desk.page
        await page.get_by_role("button", name="Available", exact=True).click()
        await expect(page.locator("#my-state")).to_contain_text("Available")
        seen = await first.services.bus.last_seq("agent:agent14")

        # Hold the desktop's reconnect back (no tickets) until the new server has news for it.
        async def refuse(route: Route) -> None:
            await route.abort()

        await page.route("**/api/ws-ticket", refuse)
    await expect(page.locator("#connection")).to_have_text("Connection lost: reconnecting…")

    async with serving(settings) as second:
        sup = await second.login("supervisor01")
        resp = await second.client.put(
            "/api/agents/agent14/status", json={"status": "not_ready", "reason": "meeting"}, headers=sup
        )
        assert resp.status_code == 200, resp.text

        async def published() -> bool:
            return await second.services.bus.last_seq("agent:agent14") > seen

        await until(published, message="the status change on the agent's stream")
        await expect(page.locator("#my-state")).to_contain_text("Available")  # still offline
        await page.unroute("**/api/ws-ticket", refuse)
        await expect(page.locator("#connection")).to_have_text(
            "Reconnected: 1 missed update caught up", timeout=15000
        )
        await expect(page.locator("#my-state")).to_contain_text("Not ready (Meeting)")
        await expect(page.locator("#login")).to_be_hidden()  # no second sign-in
        await desk.context.close()
    desk.assert_clean()


async def test_after_a_restart_that_ended_the_session_the_desktop_asks_to_sign_in(
    browser: Browser, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)  # memory backend: sessions end with the process
    ui = Ui(browser, f"http://127.0.0.1:{settings.port}")
    async with serving(settings):
        desk = await ui.open("/", "agent14")
        page = desk.page
    await expect(page.locator("#connection")).to_have_text("Connection lost: reconnecting…")
    async with serving(settings):
        await expect(page.locator("#login-message")).to_have_text(
            "Your session has ended. Please sign in again.", timeout=15000
        )
        await page.get_by_label("Username", exact=True).fill("agent14")
        await page.get_by_label("Password", exact=True).fill("demo")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#connection")).to_have_text("Connected")
        await expect(page.locator("#my-state")).to_contain_text("Logged out")
        await desk.context.close()
    desk.assert_clean()
