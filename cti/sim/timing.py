"""Waiting in simulated time: every duration is measured on the centre's clock, not the event loop's.

With ``SystemClock`` that is real time. With ``AcceleratedClock`` the whole centre (router timers,
offer and wrap-up time-outs, bots, callers) runs ``speed`` times faster, so a demo day fits in minutes
and a test in seconds. With ``ManualClock`` nothing is due until the test advances the clock; waits
re-check it every ``TICK_S``.
"""

from __future__ import annotations

import asyncio
import time

from cti.domain.clock import Clock, SystemClock

TICK_S = 0.1  # longest real sleep between looks at a clock we cannot predict


class AcceleratedClock:
    """A clock that starts at ``start_ms`` and runs ``speed`` times faster than real time."""

    def __init__(self, speed: float, start_ms: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start_ms = start_ms if start_ms is not None else time.time_ns() // 1_000_000
        self._t0 = time.monotonic()

    def now_ms(self) -> int:
        return self._start_ms + int((time.monotonic() - self._t0) * 1000 * self.speed)


def real_seconds(clock: Clock, clock_ms: float) -> float:
    """Real seconds to sleep for ``clock_ms`` to pass on ``clock``, capped at ``TICK_S`` when the
    clock's pace is unknown (a manual clock may be advanced at any moment)."""
    speed = getattr(clock, "speed", None)
    if isinstance(speed, int | float) and speed > 0:
        return max(0.0, clock_ms / 1000 / speed)
    if isinstance(clock, SystemClock):
        return max(0.0, clock_ms / 1000)
    return max(0.0, min(clock_ms / 1000, TICK_S))


async def sleep_until(clock: Clock, due_ms: int) -> None:
    """Return once ``clock`` reads ``due_ms`` or later."""
    while True:
        remaining = due_ms - clock.now_ms()
        if remaining <= 0:
            return
        await asyncio.sleep(real_seconds(clock, remaining))


async def pause(clock: Clock, seconds: float) -> None:
    """Sleep ``seconds`` of clock time."""
    await sleep_until(clock, clock.now_ms() + int(seconds * 1000))
