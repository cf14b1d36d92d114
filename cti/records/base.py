"""What every part of ``Records`` shares: the engine, the clock and input checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from cti.domain.clock import Clock, SystemClock
from cti.domain.errors import InvalidInput

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def aware_utc(value: object, field: str) -> datetime:
    """A timezone-aware datetime in UTC, or ``InvalidInput``: a naive time is never guessed."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"'{field}' must be a datetime", error_id="invalid_datetime", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"'{field}' must be timezone-aware", error_id="invalid_datetime", field=field)
    return value.astimezone(UTC)


def required_text(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{field}' is required", field=field)
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"'{field}' is longer than {max_length} characters", field=field)
    return text


def optional_text(value: object, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    return required_text(value, field, max_length)


class RecordsBase:
    """Holds the engine (owned by the caller, who disposes it) and the clock."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock if clock is not None else SystemClock()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _now(self) -> datetime:
        return utc_from_ms(self._clock.now_ms())
