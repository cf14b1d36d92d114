"""Two router processes on one Redis prefix: no double offers, no lost contacts.

Each process (``tests/state/_worker.py``, its own interpreter, event loop and connection) enqueues 500
contacts and drives 50 agents that serve the same queues as the other's, so offers cross processes
and both fire the same timers. Afterwards the whole centre stream is replayed and checked against the
store.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import redis.asyncio as aioredis

from cti.bus.redis import RedisEventBus
from cti.state.redis import RedisStateStore
from tests.state._worker import POLICY, STREAM_MAXLEN, audit, read_all, replay

WORKER = Path(__file__).with_name("_worker.py")
ROOT = Path(__file__).resolve().parents[2]
CONTACTS, AGENTS = 500, 50


async def _run_workers(redis_url: str, prefix: str, peers: int) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            redis_url,
            prefix,
            str(w),
            f"--peers={peers}",
            f"--contacts={CONTACTS}",
            f"--agents={AGENTS}",
            "--seed=7",
            "--deadline-s=90",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for w in range(peers)
    ]
    reports = []
    for proc in procs:
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=150)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode == 0, err.decode()
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    return reports


async def test_two_router_processes_never_double_offer_and_lose_nothing(
    redis_url: str, redis_prefix: str
) -> None:
    reports = await _run_workers(redis_url, redis_prefix, peers=2)
    enqueued = [cid for r in reports for cid in r["enqueued"]]  # type: ignore[attr-defined]
    assert len(enqueued) == 2 * CONTACTS
    assert all(r["done"] for r in reports), reports  # every contact ended, every agent logged out

    client = aioredis.Redis.from_url(redis_url)
    store = RedisStateStore(client, prefix=redis_prefix, policy=POLICY, stream_maxlen=STREAM_MAXLEN)
    bus = RedisEventBus(client, prefix=redis_prefix)
    try:
        events = await read_all(bus)
        seen = replay(events)
        assert seen.violations == []
        assert seen.offers_created > len(enqueued)  # rejects and ring-outs re-offered contacts
        assert seen.offers_created == seen.offers_ended  # nothing left ringing
        assert await audit(store, enqueued, seen) == []
        # both processes acted on each other's contacts
        crossed = [
            e for e in events if e.type == "offer.accepted" and e.data["contact"][:2] != e.data["agent"][:2]
        ]
        assert crossed
        assert await store.next_due() is not None  # purge timers of the ended contacts remain
    finally:
        await bus.close()
        await store.close()
        await client.aclose()
