"""One way to run the real app under uvicorn in a test: on a loopback port or a given socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from tests.conftest import until


@asynccontextmanager
async def uvicorn_serving(
    app: FastAPI, *, port: int | None = None, sock: socket.socket | None = None, **config: Any
) -> AsyncIterator[uvicorn.Server]:
    """Serve ``app`` (lifespan on) until the block ends; the server is started when it is entered."""
    if (port is None) == (sock is None):
        raise ValueError("give a port or a socket")
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    if port is not None:
        options.update(host="127.0.0.1", port=port)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None))
    try:
        await until(lambda: server.started or task.done(), timeout=15, message="the server to start")
        if task.done():
            task.result()  # it failed to start: say why
        yield server
    finally:
        server.should_exit = True
        await task
