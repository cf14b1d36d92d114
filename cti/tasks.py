"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end. On Python 3.11 redis-py can swallow a cancel (a reply
    that was ready at the same moment wins), after which the task would go on; so insist until done."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.05)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()  # retrieved: an error was already logged where it happened
