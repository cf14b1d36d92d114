"""Checks made when a websocket opens, before any data flows.

Origin policy: browsers always send ``Origin`` on a websocket handshake, so a missing Origin is a
non-browser client (an integration, a test, a CLI); it is allowed, because the channel is authenticated
by a single-use ticket that only a holder of a bearer token can obtain, and no cookie or ambient
credential is involved. A present Origin must be in the allow-list: ``settings.allowed_origins`` plus
the origin of ``settings.public_base_url``; when both are unset (development), only a same-origin page
(Origin's host equals the Host header) is accepted. ``Origin: null`` is always refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cti.config.settings import Settings
from cti.ws.options import CLOSE_POLICY


class Refused(Exception):
    """A failure at the handshake: closed with ``code`` (a policy failure: 1008) and this reason."""

    def __init__(self, reason: str, code: int = CLOSE_POLICY) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    allowed = {_origin(o) for o in settings.allowed_origins}
    if settings.public_base_url:
        allowed.add(_origin(settings.public_base_url))
    return frozenset(allowed)


def check_origin(origin: str | None, host: str | None, allowed: frozenset[str]) -> None:
    if origin is None:
        return
    parts = urlsplit(origin.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise Refused("origin not allowed")
    if allowed:
        if _origin(origin) in allowed:
            return
    elif host and parts.netloc.lower() == host.strip().lower():
        return
    raise Refused("origin not allowed")


def parse_last_seq(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Refused("last_seq must be a non-negative integer")
    return int(raw)


def parse_batch(raw: str | None) -> bool:
    """``batch=1``: the client takes several live events in one frame, as a JSON array (EVENTS.md)."""
    if raw is None or raw == "0":
        return False
    if raw == "1":
        return True
    raise Refused("batch must be 0 or 1")
