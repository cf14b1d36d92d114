"""The desktop-channel bench: offer-to-screen-pop latency with thousands of websockets, three processes.

For each of bare, memory and redis: a server process (``cti.bench.ws_server``: the real app under
uvicorn, or the bare ceiling app) and a load process (``cti.bench.ws_load``) holding every agent and
supervisor websocket; the load places calls at each phase's rate and reports JSON. The bare Redis
ceiling (XADD on one connection, XREAD BLOCK on another, at the same rates) runs here. Nothing is
shared between the runs but the generated centre; a redis run uses its own key prefix, deleted after.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from cti.bench.footprint import delete_prefix
from cti.bench.stats import percentile
from cti.bench.ws_centre import write_centre

START_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class WsSizes:
    agents: int
    supervisors: int
    phases: tuple[tuple[int, int], ...]  # (calls a second, calls): calls in all <= agents


WS_FULL = WsSizes(2000, 50, ((50, 300), (200, 1600)))
WS_QUICK = WsSizes(100, 5, ((50, 25), (200, 60)))


@dataclass
class WsResults:
    sizes: WsSizes
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # bare | memory | redis -> load's JSON
    skipped: dict[str, str] = field(default_factory=dict)
    xread: dict[int, dict[str, float]] = field(default_factory=dict)  # rate -> {"p50", "p99"} ms
    elapsed_s: float = 0.0

    def phase(self, run: str, rate: int) -> dict[str, Any] | None:
        data = self.runs.get(run)
        if data is None:
            return None
        return next((p for p in data["phases"] if int(p["rate"]) == rate), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)  # polling another process's port: nothing to await
    return False


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(text[-lines:])[-400:]


def _run(
    kind: str, sizes: WsSizes, work: Path, server_args: list[str], res: WsResults, redis_port: int = 6379
) -> None:
    port = _free_port()
    log = work / f"{kind}-server.log"
    command = [sys.executable, "-m", "cti.bench.ws_server", "--port", str(port), *server_args]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603 (our own modules)
    try:
        if not _wait_listening(port, server):
            res.skipped[kind] = f"the {kind} server did not start: {_tail(log)}"
            return
        phases = ",".join(f"{rate}:{count}" for rate, count in sizes.phases)
        mode = "bare" if kind == "bare" else "product"
        load_command = [sys.executable, "-m", "cti.bench.ws_load", "--mode", mode, "--port", str(port)]
        load_command += ["--agents", str(sizes.agents), "--supervisors", str(sizes.supervisors)]
        load_command += ["--phases", phases, "--server-pid", str(server.pid), "--redis-port", str(redis_port)]
        load = subprocess.run(  # noqa: S603 (our own modules)
            load_command, capture_output=True, timeout=LOAD_TIMEOUT_S, check=False
        )
        lines = load.stdout.decode(errors="replace").strip().splitlines()
        if load.returncode != 0 or not lines:
            error = load.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            res.skipped[kind] = f"the {kind} load failed: {error[0][-300:]}"
            return
        res.runs[kind] = json.loads(lines[-1])
    except subprocess.TimeoutExpired:
        res.skipped[kind] = f"the {kind} load did not finish in {LOAD_TIMEOUT_S:.0f} s"
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def _read_stamped(reader: aioredis.Redis, key: str, last: Any, n: int, out: list[float]) -> Any:
    """Read ``n`` stamped entries after ``last``; returns the newest entry id."""
    while len(out) < n:
        reply: Any = await reader.xread({key: last}, count=100, block=2000)
        for _, entries in reply or []:
            for entry_id, fields in entries:
                out.append(time.time() * 1000 - float(fields[b"t"]))
                last = entry_id
    return last


async def xadd_xread(
    url: str, prefix: str, phases: tuple[tuple[int, int], ...]
) -> dict[int, dict[str, float]]:
    """Bare Redis Streams latency: XADD (stamped) on one connection, XREAD BLOCK on another."""
    writer, reader = aioredis.Redis.from_url(url), aioredis.Redis.from_url(url)
    key = f"{prefix}:ceiling:stream"
    out: dict[int, dict[str, float]] = {}
    try:
        last: Any = "0-0"
        await reader.ping()
        for rate, count in phases:
            latencies: list[float] = []
            task = asyncio.create_task(_read_stamped(reader, key, last, count, latencies))
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for i in range(count):
                pause = t0 + i / rate - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)
                await writer.xadd(key, {"t": repr(time.time() * 1000)}, maxlen=10_000, approximate=True)
            last = await asyncio.wait_for(task, 30)
            ordered = sorted(latencies)
            out[rate] = {"p50": percentile(ordered, 50), "p99": percentile(ordered, 99)}
    finally:
        await writer.aclose()
        await reader.aclose()
    return out


async def _redis_reachable(url: str) -> str | None:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        return f"Redis is not reachable at {url} ({exc.__class__.__name__})"
    finally:
        await client.aclose()
    return None


async def _cleanup(url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await delete_prefix(client, prefix)
    finally:
        await client.aclose()


def run_ws_bench(redis_url: str, quick: bool) -> WsResults:
    """Run bare, memory and redis one after the other (each in its own pair of processes)."""
    sizes = WS_QUICK if quick else WS_FULL
    res = WsResults(sizes)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fdwsbench-") as tmp:
        work = Path(tmp)
        centre = write_centre(work / "centre", sizes.agents, sizes.supervisors)
        _run("bare", sizes, work, ["--bare"], res)
        common = ["--centre", str(centre)]
        _run("memory", sizes, work, [*common, "--database-url", f"sqlite+aiosqlite:///{work}/memory.db"], res)
        unreachable = asyncio.run(_redis_reachable(redis_url))
        if unreachable:
            res.skipped["redis"] = unreachable
        else:
            prefix = f"fdbench-{uuid.uuid4().hex[:12]}"
            try:
                res.xread = asyncio.run(xadd_xread(redis_url, prefix, sizes.phases))
                args = [
                    *common,
                    "--database-url",
                    f"sqlite+aiosqlite:///{work}/redis.db",
                    "--backend",
                    "redis",
                ]
                redis_args = [*args, "--redis-url", redis_url, "--redis-prefix", prefix]
                _run("redis", sizes, work, redis_args, res, urlsplit(redis_url).port or 6379)
            finally:
                asyncio.run(_cleanup(redis_url, prefix))
    res.elapsed_s = time.perf_counter() - started
    return res
