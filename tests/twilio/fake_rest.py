"""Twilio's REST API as the twilio library sees it over HTTP: the real ``twilio.rest.Client`` with this
recording HTTP client underneath (no Twilio can run here). Requests keep the library's own wire form
(``To``, ``From``, ``Url``, ``Hold``...); answers are JSON shaped like Twilio's."""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

ACCOUNT = "AC" + "0" * 32
TOKEN = "test-auth-token-not-a-secret"
PREFIX = re.compile(rf"^https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # after /Accounts/{sid}, e.g. "/Calls.json"
    data: dict[str, Any]
    params: dict[str, Any]

    @property
    def api(self) -> str:
        """The library call it came from: calls.create, calls(CA..).update,
        conferences(CF..).participants(CA..).update, ..."""
        p = self.path.removesuffix(".json")
        if p == "/Calls" and self.method == "POST":
            return "calls.create"
        if m := re.fullmatch(r"/Calls/(CA\w+)", p):
            return f"calls({m[1]}).update"
        if m := re.fullmatch(r"/Conferences/(CF\w+)/Participants/(CA\w+)", p):
            return f"conferences({m[1]}).participants({m[2]}).update"
        if m := re.fullmatch(r"/Conferences/(CF\w+)/Participants", p):
            return f"conferences({m[1]}).participants.create"
        if p == "/Conferences":
            return "conferences.list"
        return f"{self.method} {p}"


class RecordingHttp(AsyncHttpClient):
    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("tests.twilio.fake_rest"), is_async=True)
        self.requests: list[Request] = []
        self.conferences: dict[str, str] = {}  # friendly name -> CF sid, for conferences.list
        self.gone: set[str] = set()  # CallSids Twilio would answer 404 for
        self.unreachable = False  # the network to Twilio is down
        self.created: list[dict[str, Any]] = []  # calls.create data, with the "sid" answered
        self._ids = itertools.count(1)

    def new_sid(self, kind: str = "CA") -> str:
        return f"{kind}{next(self._ids):032x}"

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        assert auth == (ACCOUNT, TOKEN) or (headers or {}).get("Authorization"), "unauthenticated request"
        if self.unreachable:
            raise aiohttp.ClientConnectionError("api.twilio.com unreachable")
        path = PREFIX.sub("", uri)
        req = Request(method, path, dict(data or {}), dict(params or {}))
        self.requests.append(req)
        api = req.api
        if api == "calls.create":
            sid = self.new_sid()
            self.created.append({"sid": sid, **req.data})
            return Response(201, json.dumps({"sid": sid, "status": "queued", "to": req.data["To"]}))
        if api.startswith("calls("):
            sid = path.split("/")[2].removesuffix(".json")
            if sid in self.gone:
                return Response(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))
            return Response(200, json.dumps({"sid": sid, "status": req.data.get("Status", "in-progress")}))
        if api.endswith("participants.create"):
            conference = path.split("/")[2]
            body = {"call_sid": self.new_sid(), "conference_sid": conference, "muted": req.data.get("Muted")}
            return Response(201, json.dumps(body))
        if api.endswith(".update"):
            parts = path.removesuffix(".json").split("/")
            return Response(200, json.dumps({"call_sid": parts[4], "conference_sid": parts[2]}))
        if api == "conferences.list":
            name = str(req.params.get("FriendlyName"))
            found = (
                [{"sid": self.conferences[name], "friendly_name": name}] if name in self.conferences else []
            )
            meta = {"key": "conferences", "next_page_url": None, "page": 0, "page_size": 1}
            return Response(200, json.dumps({"conferences": found, "meta": meta}))
        return Response(404, json.dumps({"code": 20404, "message": "not found", "status": 404}))

    def calls(self, prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
        """(api, data) of every request whose api starts with ``prefix``."""
        return [(r.api, r.data) for r in self.requests if r.api.startswith(prefix)]

    def calls_to(self, to: str) -> list[dict[str, Any]]:
        return [c for c in self.created if c["To"] == to]

    def clear(self) -> None:
        self.requests.clear()


def fake_client() -> tuple[Client, RecordingHttp]:
    http = RecordingHttp()
    return Client(ACCOUNT, TOKEN, http_client=http), http
