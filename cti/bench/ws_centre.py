"""A generated centre for the websocket bench: the demo centre with thousands of agents.

Every user shares ONE argon2 hash, made once with the smallest cost argon2 allows, so that loading
the centre and signing 2,000 agents in takes seconds, not minutes (a real centre uses the default
cost; only this throw-away configuration does not). Agents serve the always-open ``amh_spa`` queue;
offers and heartbeats never time out during a run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from argon2 import PasswordHasher

from cti.config.centre import DEMO_DIR

QUEUE = "amh_spa"
SKILL = "AMH"
PASSWORD = "bench-only"  # the throw-away centre's one password (bench accounts only)
ROUTING = {
    "offer_timeout_s": 3600,
    "wrap_up_timeout_s": 120,
    "professional_boost": 2,
    "repeat_caller_boost": 1,
    "repeat_window_days": 7,
    "repeat_threshold": 2,
    "named_worker_first_s": 30,
    "heartbeat_timeout_s": 3600,
}


def agent_name(i: int) -> str:
    return f"bench{i:05d}"


def supervisor_name(i: int) -> str:
    return f"benchsup{i:03d}"


def cheap_hash(password: str = PASSWORD) -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)


def write_centre(folder: Path, agents: int, supervisors: int) -> Path:
    """The demo centre in ``folder`` with ``agents`` agents and ``supervisors`` supervisors."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in DEMO_DIR.glob("*.yaml"):
        if source.name not in ("users.yaml", "routing.yaml"):
            shutil.copy(source, folder / source.name)
    digest = cheap_hash()
    users = [
        {
            "username": agent_name(i),
            "display_name": f"Bench agent {i}",
            "role": "agent",
            "organisation": "City",
            "skills": {SKILL: 1},
            "password_hash": digest,
        }
        for i in range(agents)
    ]
    users += [
        {
            "username": supervisor_name(i),
            "display_name": f"Bench supervisor {i}",
            "role": "supervisor",
            "organisation": "City",
            "password_hash": digest,
        }
        for i in range(supervisors)
    ]
    (folder / "users.yaml").write_text(yaml.safe_dump({"users": users}, sort_keys=False))
    (folder / "routing.yaml").write_text(yaml.safe_dump(ROUTING, sort_keys=False))
    return folder
