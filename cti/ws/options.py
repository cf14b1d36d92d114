"""Limits, timings and close codes of the desktop channel (the websocket transport)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Close codes (RFC 6455 plus one private code). Every policy failure is closed *after* accepting the
# handshake, so that browsers (which hide the HTTP status of a refused handshake) see the code and reason.
CLOSE_GOING_AWAY = 1001  # this node is shutting down: reconnect (to any node) with last_seq
CLOSE_UNSUPPORTED = 1003  # a binary message: the channel is JSON text only
CLOSE_POLICY = 1008  # ticket missing/invalid/used/expired, wrong role, bad Origin, bad last_seq, flooding
CLOSE_TOO_BIG = 1009  # a message larger than max_message_bytes
CLOSE_INTERNAL = 1011  # a server fault (snapshot failed, stream reader failed): reconnect with last_seq
CLOSE_HEARTBEAT = 4000  # the client was silent for heartbeat_timeout_s: reconnect with last_seq

AGENT_ROLES = ("agent", "specialist")
SUPERVISOR_ROLES = ("supervisor", "admin")
SUPERVISOR_STREAM = "supervisor"
MAX_MESSAGE_BYTES = 64 * 1024


def agent_stream(username: str) -> str:
    return f"agent:{username}"


@dataclass(frozen=True, slots=True)
class WsOptions:
    """Defaults are the production values; tests shorten the timings."""

    ticket_ttl_s: float = 30.0
    max_message_bytes: int = MAX_MESSAGE_BYTES  # incoming; larger -> close 1009
    send_queue: int = 256  # events queued per connection; overflow -> one "resync", then live again
    send_timeout_s: float = 10.0  # a send that cannot complete in this time ends the connection
    # A batch=1 supervisor connection gathers live events for this long before sending them as one
    # frame: a wallboard is read by people, and at 200 calls/s 50 wallboards otherwise cost ten
    # thousand sends a second. 0 sends each run at once. Agents' connections never wait.
    wallboard_window_s: float = 0.05
    heartbeat_interval_s: float = 5.0  # server -> client {"type": "heartbeat"}
    heartbeat_timeout_s: float | None = None  # None: centre.routing.heartbeat_timeout_s
    presence_sweep_s: float = 1.0  # how often leases are checked (each node; claims are atomic)
    rate_per_s: float = 10.0  # client messages: token bucket refill rate ...
    rate_burst: int = 40  # ... and size; an empty bucket -> close 1008
    max_connections_per_user: int = 8  # per node; more -> close 1008
    max_replay: int = 5000  # a resume further behind than this gets a snapshot instead of a replay
    replay_chunk: int = 500
    feed_max_pending: int = 10_000  # per-stream bus subscription bound (the fan-out drains it at once)
    freeze_gc: bool = True  # gc.freeze() once started (performance.md: full collections stall pushes)

    def __post_init__(self) -> None:
        if self.wallboard_window_s < 0:
            raise ValueError("wallboard_window_s must not be negative")
        positive = ["ticket_ttl_s", "send_timeout_s", "heartbeat_interval_s", "presence_sweep_s"]
        for name in [*positive, "rate_per_s"]:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.heartbeat_timeout_s is not None and self.heartbeat_timeout_s <= 0:
            raise ValueError("heartbeat_timeout_s must be positive")
        at_least_one = ["max_message_bytes", "send_queue", "rate_burst", "max_replay", "replay_chunk"]
        for name in [*at_least_one, "max_connections_per_user"]:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


# What `frontdoor serve` should pass to uvicorn. Per-message deflate stays off: our messages are small
# JSON on a LAN, and deflate costs about 3-4x the CPU of a push and doubles per-connection memory
# (performance.md). uvicorn's own frame limit (16 MiB by default) is brought down near ours, so an
# oversize frame is refused before it is buffered; the hub still checks max_message_bytes itself.
# uvicorn's protocol pings (every 20 s by default) are off: the channel has its own heartbeat, and a
# client silent for heartbeat_timeout_s is closed with 4000 whatever its TCP state, so the pings only
# cost 2,000 extra sends and replies per interval.
UVICORN_WS_OPTIONS: dict[str, Any] = {
    "ws_per_message_deflate": False,
    "ws_max_size": 2 * MAX_MESSAGE_BYTES,
    "ws_ping_interval": None,
}
