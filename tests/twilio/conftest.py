"""A real server with FRONTDOOR_TELEPHONY=twilio, Twilio's REST API recorded underneath the real twilio
library, and a ``Twilio`` that posts webhooks signed with the library's own algorithm.

The public base URL is not where the test server listens: the signature must be checked against the
configured URL, never the Host header.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from twilio.request_validator import RequestValidator

import cti.twilio
from cti.config.settings import Settings
from tests.api.conftest import Running, settings_for
from tests.api.conftest import start_server as start_api_server
from tests.conftest import fresh_postgres_database, until
from tests.twilio.fake_rest import ACCOUNT, TOKEN, RecordingHttp, fake_client

BASE = "https://frontdoor.example.nhs.uk"
CALLER_ID = "+441164960100"
FALLBACK = "+441164960999"
FRONT_DOOR = "+441164960000"
AMH_LINE = "+441164960015"
PHONES = {"agent14": "+447700900014", "specialist04": "+447700900104", "specialist06": "+447700900106"}


# A Wednesday morning in London, not a bank holiday: every queue the tests use is open whatever the
# hour the suite runs at. The clock moves at real speed from there (the router's timers need it to).
OPEN_HOURS_MS = int(datetime(2027, 3, 10, 10, 0, tzinfo=UTC).timestamp() * 1000)


NIGHT_MS = int(datetime(2027, 3, 10, 23, 0, tzinfo=UTC).timestamp() * 1000)


class OpenHoursClock:
    def __init__(self, at_ms: int = OPEN_HOURS_MS) -> None:
        self.offset_ms = at_ms - time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


async def start_server(settings: Settings, at_ms: int = OPEN_HOURS_MS) -> AsyncIterator[Running]:
    """As ``tests.api.conftest.start_server``, on a clock that starts at ``at_ms``."""
    async for running in start_api_server(settings, OpenHoursClock(at_ms)):
        yield running


def twilio_settings(tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "telephony": "twilio",
        "public_base_url": BASE,
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": ACCOUNT,
        "twilio_caller_id": CALLER_ID,
        "twilio_fallback_number": FALLBACK,
        "twilio_agent_phones": PHONES,
    }
    values.update(overrides)
    return settings_for(tmp_path, **values)


def sign(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(url, params))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE, url
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Twiml:
    text: str
    root: ET.Element = field(init=False)

    def __post_init__(self) -> None:
        self.root = ET.fromstring(self.text)

    def said(self) -> list[str]:
        return [e.text or "" for e in self.root.iter("Say")]

    def find(self, tag: str) -> ET.Element | None:
        return next(self.root.iter(tag), None)

    def gather_url(self) -> str:
        gather = self.find("Gather")
        assert gather is not None, self.text
        return path_of(gather.attrib["action"])

    def conference(self) -> ET.Element:
        found = self.find("Conference")
        assert found is not None, self.text
        return found


@dataclass
class Twilio:
    """Twilio's side of the webhooks: every request signed over BASE + path."""

    r: Running
    http: RecordingHttp

    async def post(
        self, path: str, params: dict[str, str], *, signature: str | None = None
    ) -> httpx.Response:
        sig = signature if signature is not None else sign(BASE + path, params)
        return await self.r.client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    async def twiml(self, path: str, params: dict[str, str]) -> Twiml:
        resp = await self.post(path, params)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/xml")
        return Twiml(resp.text)

    async def status(self, sid: str, status: str, seq: int | None = None) -> None:
        params = {"CallSid": sid, "CallStatus": status, "AccountSid": ACCOUNT}
        if seq is not None:
            params["SequenceNumber"] = str(seq)
        resp = await self.post("/twilio/status", params)
        assert resp.status_code == 204, resp.text

    async def conference_event(self, contact: str, event: str, conference_sid: str | None = None) -> str:
        name = f"fd-{contact}"
        sid = conference_sid or self.http.conferences.get(name) or self.http.new_sid("CF")
        self.http.conferences[name] = sid
        params = {"ConferenceSid": sid, "FriendlyName": name, "StatusCallbackEvent": event}
        resp = await self.post("/twilio/conference", params)
        assert resp.status_code == 204, resp.text
        return sid

    async def wait_for_leg(self, to: str, count: int = 1) -> dict[str, Any]:
        def made() -> bool:
            return len(self.http.calls_to(to)) >= count

        await until(made, message=f"a call to {to}")
        return self.http.calls_to(to)[count - 1]


@pytest.fixture
def rest(monkeypatch: pytest.MonkeyPatch) -> RecordingHttp:
    client, http = fake_client()
    monkeypatch.setattr(cti.twilio, "rest_client", lambda settings: client)
    return http


@pytest.fixture
async def twilio_app(tmp_path: Path, rest: RecordingHttp) -> AsyncIterator[Twilio]:
    async for r in start_server(twilio_settings(tmp_path)):
        yield Twilio(r, rest)


@pytest.fixture(params=["memory+sqlite", "redis+postgres"])
async def twilio_any(
    request: pytest.FixtureRequest, tmp_path: Path, rest: RecordingHttp
) -> AsyncIterator[Twilio]:
    """The same flows on the embedded default and on the scale-out backends (call state in Redis)."""
    if request.param == "memory+sqlite":
        async for r in start_server(twilio_settings(tmp_path)):
            yield Twilio(r, rest)
        return
    redis_url = request.getfixturevalue("redis_url")
    redis_prefix = request.getfixturevalue("redis_prefix")
    async with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as pg_url:
        settings = twilio_settings(
            tmp_path, backend="redis", redis_url=redis_url, redis_prefix=redis_prefix, database_url=pg_url
        )
        async for r in start_server(settings):
            yield Twilio(r, rest)
