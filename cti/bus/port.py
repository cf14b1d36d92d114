"""The event bus port.

Every stream has dense sequence numbers starting at 1. A reader may resume from any sequence number it
saw; if that point has been trimmed away it is told so (``Resync``) instead of silently skipping. A live
subscriber that falls behind by more than its bound is likewise told to resync: events are never
dropped without a word.

Redis layout (shared with the Redis state store, whose scripts publish in the same transaction as the
state change): ``{prefix}:seq:{stream}`` is the counter; ``{prefix}:stream:{stream}`` is a Redis stream
whose entry IDs are ``{seq}-0`` with fields ``type``, ``at`` (epoch ms) and ``data`` (JSON object).
The exact publishing step (a Lua function to embed) is documented and exported in ``cti.bus.redis``.
``{prefix}:src:{stream}`` holds the last source sequence number accepted by ``publish_once`` on the
stream (an integer as text), checked and set in the same script as the append.

A starting point beyond the newest sequence number (e.g. one seen before the stream was reset) is not
in the stream's history either: it too gets ``Resync(reason="trimmed")``. A ``Resync`` supersedes the
events still pending for that subscriber: after it, delivery continues with ``last_seq + 1``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import Any

from cti.domain.events import Event, Resync


class Subscription(ABC):
    """Live events of one stream, in order, from a starting point. Iterate it; close it when done."""

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[Event | Resync]: ...

    @abstractmethod
    async def close(self) -> None: ...


class EventBus(ABC):
    @abstractmethod
    async def publish(self, stream: str, type: str, data: dict[str, Any], at: int) -> Event:
        """Append an event; returns it with its sequence number."""

    @abstractmethod
    async def publish_once(
        self, stream: str, source_seq: int, type: str, data: dict[str, Any], at: int
    ) -> Event | None:
        """Append an event only if ``source_seq`` is greater than the last source seq accepted on the
        stream (none yet: any positive one is); else append nothing and return None.

        Check, record and append are one atomic step, so when several nodes derive the same events
        from one source (each following the centre stream), the first to publish a source seq wins
        and the others skip: every event is appended once, in source order, with a dense seq of its
        own. ``source_seq`` must be positive. ``publish`` does not touch the source seq.
        """

    async def publish_once_many(
        self, stream: str, items: Sequence[tuple[int, str, dict[str, Any], int]]
    ) -> list[Event | None]:
        """``publish_once`` for each ``(source_seq, type, data, at)`` in order, in one step where the
        adapter can (Redis: one round trip). An item not newer than the last accepted source seq is
        skipped (None in its place). If it raises, any prefix of the items may have been appended:
        publishing them again is safe, the appended ones are skipped."""
        return [await self.publish_once(stream, src, type, data, at) for src, type, data, at in items]

    @abstractmethod
    async def read_after(self, stream: str, after_seq: int, limit: int = 1000) -> list[Event] | Resync:
        """Events with seq > after_seq, oldest first; ``Resync`` if some of them were trimmed."""

    @abstractmethod
    async def last_seq(self, stream: str) -> int:
        """The newest sequence number on the stream (0 if none)."""

    @abstractmethod
    def subscribe(self, stream: str, after_seq: int | None = None, max_pending: int = 1000) -> Subscription:
        """Live events after ``after_seq`` (None: only new ones). Falling behind by ``max_pending``
        yields one ``Resync`` and the subscription then continues from the newest event.

        With None the starting point is fixed when the adapter's reader starts (Redis: a task), so an
        event published right after ``subscribe`` returns may or may not be included; a caller that
        needs an exact point passes ``after_seq=await bus.last_seq(stream)``."""

    @abstractmethod
    async def close(self) -> None: ...
