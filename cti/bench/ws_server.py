"""The server process of the websocket bench: the real app (``create_app``) under uvicorn, as
``frontdoor serve`` runs it (uvloop, no per-message deflate, the same gc thresholds).

Run by the bench as ``python -m cti.bench.ws_server --port P --centre DIR --database-url URL
[--backend redis --redis-url URL --redis-prefix PREFIX]``; ``--bare`` serves the bare ceiling app
(``cti.bench.ws_bare``) instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from cti.runtime import tune_gc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cti.bench.ws_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--centre", type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--backend", choices=("memory", "redis"), default="memory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-prefix", default="fd")
    args = parser.parse_args(argv)
    tune_gc()
    from cti.ws import UVICORN_WS_OPTIONS

    if args.bare:
        from cti.bench.ws_bare import app as bare_app

        uvicorn.run(
            bare_app,
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            loop="uvloop",
            **UVICORN_WS_OPTIONS,
        )
        return
    from cti import logs
    from cti.app import create_app
    from cti.config.settings import load_settings

    settings = load_settings(
        None,
        backend=args.backend,
        redis_url=args.redis_url,
        redis_prefix=args.redis_prefix,
        database_url=args.database_url,
        centre_dir=args.centre,
        host="127.0.0.1",
        port=args.port,
        log_level="WARNING",
    )
    logs.configure(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        loop="uvloop",
        **UVICORN_WS_OPTIONS,
    )


if __name__ == "__main__":
    main()
