"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server on the sim.

Without Chromium the UI tests skip with a reason; with FRONTDOOR_REQUIRE_SERVICES=1 (CI) they fail.
Every page is watched for script errors and Content-Security-Policy violations: a test fails on any.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright, expect

from tests.api.conftest import Running, settings_for, start_server

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("FRONTDOOR_REQUIRE_SERVICES") == "1"
TIMEOUT_MS = 8000
NETWORK_NOISE = ("Failed to load resource", "WebSocket connection to")

expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Watched:
    """A page and the problems it reported (uncaught errors, console errors such as CSP violations)."""

    page: Page
    context: BrowserContext
    problems: list[str] = field(default_factory=list)

    def console(self, msg: ConsoleMessage) -> None:
        # A refused request (4xx shown to the user) or a dropped websocket is the network's news, not a bug.
        if msg.type == "error" and not msg.text.startswith(NETWORK_NOISE):
            self.problems.append(f"console error: {msg.text}")

    def assert_clean(self) -> None:
        assert not self.problems, self.problems


@dataclass
class Ui:
    browser: Browser
    base_url: str
    pages: list[Watched] = field(default_factory=list)

    async def open(self, path: str, username: str | None = None, password: str = "demo") -> Watched:
        context = await self.browser.new_context(viewport={"width": 1440, "height": 1000})
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watched = Watched(page, context)
        page.on("pageerror", lambda exc: watched.problems.append(f"page error: {exc}"))
        page.on("console", watched.console)
        self.pages.append(watched)
        await page.goto(self.base_url + path)
        if username is not None:
            await sign_in(page, username, password)
        return watched


async def sign_in(page: Page, username: str, password: str = "demo") -> None:
    await page.get_by_label("Username", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#connection")).to_have_text("Connected")


def need_chromium() -> None:
    """Skip without Debian's chromium; in CI (FRONTDOOR_REQUIRE_SERVICES=1) fail instead."""
    if CHROMIUM.exists():
        return
    if REQUIRE:
        pytest.fail(f"{CHROMIUM} is missing and FRONTDOOR_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed: the browser tests need Debian's chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    need_chromium()
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in start_server(settings_for(tmp_path)):
        yield running


@pytest.fixture
async def ui(browser: Browser, server: Running) -> AsyncIterator[Ui]:
    opened = Ui(browser, server.base_url)
    yield opened
    for watched in opened.pages:
        await watched.context.close()
    for watched in opened.pages:
        watched.assert_clean()
