"""The load process of the websocket bench: thousands of desktops and wallboards, in a process of their own.

``python -m cti.bench.ws_load --mode product|bare --port P --agents N --supervisors S --phases 50:300,200:1600
[--server-pid PID]`` prints one JSON object. Product mode signs every account in, opens ``/ws/agent`` for
each agent and ``/ws/supervisor`` for each supervisor (with tickets, as a desktop does), makes the agents
available, then places simulated calls (``POST /api/sim/calls``) at each phase's rate on an open-loop
schedule; its websockets opt in to batched frames (``batch=1``: a frame may be an array of events).
Every connection checks its sequence numbers (dense, none twice, no ``resync``); every ``offer.created``
is timed from the offer's ``at`` (epoch ms, whole milliseconds) and from the moment its call was placed.
Bare mode does the same against ``cti.bench.ws_bare`` (whose frames are always single objects).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from cti.bench.stats import percentile, settle_gc
from cti.bench.ws_centre import PASSWORD, QUEUE, agent_name, supervisor_name

TRANSPORT = frozenset({"snapshot", "resync", "heartbeat", "pong", "error"})
PARALLEL = 32  # HTTP requests and handshakes in flight during set-up


@dataclass
class Peer:
    """One websocket and what it has seen."""

    ws: ClientConnection
    cursor: int = 0
    live: asyncio.Event = field(default_factory=asyncio.Event)
    messages: int = 0
    gaps: int = 0
    dups: int = 0
    resyncs: int = 0


@dataclass
class Tally:
    offers: dict[str, float] = field(default_factory=dict)  # contact -> received (epoch ms)
    offer_ms: list[float] = field(default_factory=list)  # received - at
    repeated_offers: int = 0
    sup_ms: list[float] = field(default_factory=list)
    sup_changed: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def connections_to(pid: int | None, port: int) -> int | None:
    """TCP connections the process holds to ``port`` on loopback (e.g. Redis), from /proc."""
    if pid is None:
        return None
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rpartition(":")[2], 16) == port and fields[9] in inodes:
                count += 1
    return count


def cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of the process (all its threads) so far."""
    if pid is None:
        return None
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def follow(peer: Peer, tally: Tally, supervisor: bool) -> None:
    """Read until closed: check seqs, time offers (agents) and agent states (supervisors). A frame is
    one message or (product mode opens with ``batch=1``) a JSON array of them, taken in order."""
    async for raw in peer.ws:
        now = time.time() * 1000
        parsed = json.loads(raw)
        if isinstance(parsed, list):
            for msg in parsed:
                observe(peer, tally, supervisor, msg, now)
        else:
            observe(peer, tally, supervisor, parsed, now)


def observe(peer: Peer, tally: Tally, supervisor: bool, msg: dict[str, Any], now: float) -> None:
    """One server message, received at ``now`` (epoch ms)."""
    kind, seq = msg["type"], msg["seq"]
    if kind in TRANSPORT:
        if kind in ("snapshot", "resync"):
            peer.resyncs += kind == "resync"
            peer.cursor = seq
        elif kind == "heartbeat":
            peer.live.set()
        return
    peer.messages += 1
    if seq <= peer.cursor:
        peer.dups += 1
        return
    peer.gaps += seq - peer.cursor - 1
    peer.cursor = seq
    if supervisor:
        tally.sup_changed.set()
        if kind == "agent.state":
            tally.sup_ms.append(now - msg["at"])
    elif kind == "offer.created":
        contact = msg["data"]["contact"]
        if contact in tally.offers:
            tally.repeated_offers += 1
        tally.offers[contact] = now
        tally.offer_ms.append(now - msg["at"])
        tally.changed.set()


async def limited(jobs: list[Callable[[], Awaitable[Any]]], parallel: int = PARALLEL) -> list[Any]:
    gate = asyncio.Semaphore(parallel)

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(run(job) for job in jobs))


def _ms(values: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p99": None, "n": 0}
    return {"p50": percentile(ordered, 50), "p99": percentile(ordered, 99), "n": len(ordered)}


async def _wait(tally: Tally, expected: int, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while len(tally.offers) < expected and time.monotonic() < end:
        tally.changed.clear()
        try:
            async with asyncio.timeout(max(0.01, end - time.monotonic())):
                await tally.changed.wait()
        except TimeoutError:
            return


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.base = f"127.0.0.1:{args.port}"
        self.tally = Tally()
        self.agents: list[Peer] = []
        self.supervisors: list[Peer] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.phases = [(float(r), int(c)) for r, c in (p.split(":") for p in args.phases.split(","))]

    async def open(self, path: str, supervisor: bool) -> Peer:
        ws = await connect(
            f"ws://{self.base}{path}", compression=None, ping_interval=None, max_size=2**22, open_timeout=60
        )
        peer = Peer(ws)
        self.tasks.append(asyncio.create_task(follow(peer, self.tally, supervisor)))
        return peer

    def peers(self) -> list[Peer]:
        return [*self.agents, *self.supervisors]

    def checks(self) -> dict[str, Any]:
        peers = self.peers()
        sup = [p.cursor for p in self.supervisors]
        return {
            "gaps": sum(p.gaps for p in peers),
            "dups": sum(p.dups for p in peers),
            "resyncs": sum(p.resyncs for p in peers),
            "repeated_offers": self.tally.repeated_offers,
            "agent_messages": sum(p.messages for p in self.agents),
            "supervisor_messages": sum(p.messages for p in self.supervisors),
            "supervisors_agree": len(set(sup)) <= 1,
            "connected": sum(1 for p in peers if p.ws.close_code is None),
        }

    async def settle_supervisors(self, deadline_s: float = 10.0) -> None:
        """Until every wallboard has the same newest seq (they all follow one stream)."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and len({p.cursor for p in self.supervisors}) > 1:
            self.tally.sup_changed.clear()
            try:
                async with asyncio.timeout(max(0.01, end - time.monotonic())):
                    await self.tally.sup_changed.wait()
            except TimeoutError:
                return

    async def close(self) -> None:
        await limited([p.ws.close for p in self.peers()], 200)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def product(load: Load) -> dict[str, Any]:
    args = load.args
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=f"http://{load.base}", limits=httpx.Limits(max_connections=PARALLEL), timeout=60
    ) as http:

        async def login(user: str) -> dict[str, str]:
            r = await http.post("/api/login", json={"username": user, "password": PASSWORD})
            r.raise_for_status()
            return {"authorization": f"Bearer {r.json()['access_token']}"}

        async def join(headers: dict[str, str], path: str, supervisor: bool) -> Peer:
            r = await http.post("/api/ws-ticket", headers=headers)
            r.raise_for_status()
            return await load.open(f"{path}?ticket={r.json()['ticket']}&batch=1", supervisor)

        def signer(user: str) -> Callable[[], Awaitable[dict[str, str]]]:
            return lambda: login(user)

        agent_auth = await limited([signer(agent_name(i)) for i in range(args.agents)])
        sup_auth = await limited([signer(supervisor_name(i)) for i in range(args.supervisors)])

        def joiner(h: dict[str, str], path: str, sup: bool) -> Callable[[], Awaitable[Peer]]:
            return lambda: join(h, path, sup)

        load.agents = await limited([joiner(h, "/ws/agent", False) for h in agent_auth])
        load.supervisors = await limited([joiner(h, "/ws/supervisor", True) for h in sup_auth])
        await asyncio.gather(*(p.live.wait() for p in load.peers()))

        async def available(headers: dict[str, str]) -> None:
            r = await http.put("/api/agents/me/status", json={"status": "available"}, headers=headers)
            r.raise_for_status()

        await limited([lambda h=h: available(h) for h in agent_auth])  # type: ignore[misc]
        setup_s = time.perf_counter() - started
        print(f"ws_load: {len(load.peers())} connected in {setup_s:.1f} s", file=sys.stderr, flush=True)
        quiet_collector()
        rss_connected = rss_mb(args.server_pid)
        redis_connections = connections_to(args.server_pid, args.redis_port)
        placed: dict[str, float] = {}
        failures = [0]
        boss = sup_auth[0]

        async def call(i: int) -> None:
            body = {"queue": QUEUE, "cli": f"+447700900{i % 1000:03d}"}
            sent = time.time() * 1000
            try:
                r = await http.post("/api/sim/calls", json=body, headers=boss)
            except httpx.HTTPError:
                failures[0] += 1
                return
            if r.status_code != 201:
                failures[0] += 1
                return
            placed[r.json()["call_id"]] = sent

        phases = []
        number = 0
        for rate, count in load.phases:
            first_offer = len(load.tally.offer_ms)
            before, failed = len(load.tally.offers), failures[0]
            mark = len(placed)
            cpu_before, wall = cpu_s(args.server_pid), time.perf_counter()
            own_before = time.process_time()
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            calls = []
            for i in range(count):
                pause = t0 + i / rate - loop.time()  # open loop: on schedule, whatever the replies
                if pause > 0:
                    await asyncio.sleep(pause)
                calls.append(asyncio.create_task(call(number)))
                number += 1
            await asyncio.gather(*calls)
            await _wait(load.tally, before + count - (failures[0] - failed), 30.0)
            cpu_after, wall = cpu_s(args.server_pid), time.perf_counter() - wall
            busy = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / wall
            own = (time.process_time() - own_before) / wall
            mine = list(placed)[mark:]
            call_ms = [load.tally.offers[c] - placed[c] for c in mine if c in load.tally.offers]
            phases.append(
                {
                    "rate": rate,
                    "calls": count,
                    "offers": len(load.tally.offers) - before,
                    "offer_to_pop": _ms(load.tally.offer_ms[first_offer:]),
                    "call_to_pop": _ms(call_ms),
                    "call_failures": failures[0] - failed,
                    "server_cpu": busy,
                    "load_cpu": own,
                }
            )
        await load.settle_supervisors()
        result = {
            "setup_s": setup_s,
            "rss_connected_mb": rss_connected,
            "rss_end_mb": rss_mb(args.server_pid),
            "server_redis_connections": redis_connections,
            "phases": phases,
            "supervisor_agent_state": _ms(load.tally.sup_ms),
            **load.checks(),
        }
    await load.close()
    return result


def quiet_collector() -> None:
    """The load process is the measuring instrument: a collection over its 2,000 websockets pauses it
    for 50-70 ms on this machine (measured with ``gc.callbacks``), and every offer it receives during
    the pause would count as server latency. Its set-up objects are frozen and the collector is off
    while calls are placed (a few tens of seconds; the process exits at the end)."""
    settle_gc()
    gc.disable()


async def bare(load: Load) -> dict[str, Any]:
    args = load.args
    load.agents = await limited([lambda: load.open("/ws/agent", False) for _ in range(args.agents)], 64)
    load.supervisors = await limited(
        [lambda: load.open("/ws/supervisor", True) for _ in range(args.supervisors)], 64
    )
    quiet_collector()
    for peer in load.peers():
        peer.live.set()
    rss_connected = rss_mb(args.server_pid)
    phases = []
    async with connect(f"ws://{load.base}/ws/ctl", compression=None, ping_interval=None) as ctl:
        for rate, count in load.phases:
            first = len(load.tally.offer_ms)
            before = len(load.tally.offers)
            await ctl.send(json.dumps({"rate": rate, "count": count}))
            await ctl.recv()
            await _wait(load.tally, before + count, 30.0)
            phases.append(
                {
                    "rate": rate,
                    "calls": count,
                    "offers": len(load.tally.offers) - before,
                    "offer_to_pop": _ms(load.tally.offer_ms[first:]),
                }
            )
    await load.settle_supervisors()
    result = {
        "rss_connected_mb": rss_connected,
        "phases": phases,
        "supervisor_agent_state": _ms(load.tally.sup_ms),
        **load.checks(),
    }
    await load.close()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cti.bench.ws_load")
    parser.add_argument("--mode", choices=("product", "bare"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--agents", type=int, required=True)
    parser.add_argument("--supervisors", type=int, required=True)
    parser.add_argument("--phases", required=True)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--redis-port", type=int, default=6379)
    args = parser.parse_args(argv)
    import uvloop

    load = Load(args)
    runner = product if args.mode == "product" else bare
    print(json.dumps(uvloop.run(runner(load))), flush=True)


if __name__ == "__main__":
    main()
