"""Conversions between the Redis state store's records and the domain model, and its error replies.

A record comes back from the Lua functions as one JSON object (``targets``, ``plan`` and ``attrs``
inlined, the other fields strings) and from HGETALL as a mapping of strings (bytes or str, depending
on the client's ``decode_responses``); absent optional fields mean ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis.exceptions import ResponseError

from cti.domain.errors import Conflict, Forbidden, FrontdoorError, IllegalTransition, NotFound
from cti.domain.model import Agent, Contact, Offer, RoutingPlan, Stage
from cti.domain.states import AgentStatus, ContactState, EngineState, OfferState
from cti.state.redis_script import MACHINES

Raw = bytes | str | Mapping[Any, Any]


def text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def record(raw: Raw) -> dict[str, Any]:
    """A record from a function's JSON reply or from HGETALL."""
    if isinstance(raw, Mapping):
        return {text(k): text(v) for k, v in raw.items()}
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


def records(raw: bytes | str) -> list[dict[str, Any]]:
    """The records of a function's JSON list reply (missing ones, if any, left out)."""
    return [r for r in json.loads(raw) if r]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def str_list(value: Any) -> list[str]:
    """A JSON list, decoded or not (an empty one written by cjson would read ``{}``)."""
    decoded = _json(value)
    return [str(v) for v in decoded] if isinstance(decoded, list) else []


def plan_to_json(plan: RoutingPlan) -> str:
    return json.dumps([[s.after_ms, list(s.targets), s.rule] for s in plan.stages], separators=(",", ":"))


def plan_from_json(value: Any) -> RoutingPlan:
    return RoutingPlan(tuple(Stage(int(a), tuple(t or ()), str(r)) for a, t, r in _json(value)))


def _opt_int(h: dict[str, Any], key: str) -> int | None:
    return int(h[key]) if key in h else None


def contact_from(raw: Raw) -> Contact:
    h = record(raw)
    attrs = _json(h["attrs"])
    return Contact(
        id=h["id"],
        queue=h["queue"],
        priority=int(h["priority"]),
        enqueued_at=int(h["enqueued_at"]),
        state=ContactState(h["state"]),
        targets=str_list(h["targets"]),
        plan=plan_from_json(h["plan"]),
        next_stage=int(h["next_stage"]),
        attrs=attrs if isinstance(attrs, dict) else {},
        offer_id=h.get("offer_id"),
        agent_id=h.get("agent_id"),
        ended_at=_opt_int(h, "ended_at"),
    )


def agent_from(raw: Raw) -> Agent:
    h = record(raw)
    return Agent(
        id=h["id"],
        targets=str_list(h["targets"]),
        status=AgentStatus(h["status"]),
        reason=h.get("reason"),
        engine=EngineState(h["engine"]),
        idle_since=int(h["idle_since"]),
        offer_id=h.get("offer_id"),
        contact_id=h.get("contact_id"),
        status_since=int(h["status_since"]),
    )


def offer_from(raw: Raw) -> Offer:
    h = record(raw)
    return Offer(
        id=h["id"],
        contact_id=h["contact_id"],
        agent_id=h["agent_id"],
        state=OfferState(h["state"]),
        created_at=int(h["created_at"]),
        expires_at=int(h["expires_at"]),
        rule=h["rule"],
    )


_BY_CODE: dict[str, type[FrontdoorError]] = {"FD404": NotFound, "FD403": Forbidden, "FD409": Conflict}


def domain_error(exc: ResponseError) -> FrontdoorError | None:
    """The domain error a script's error reply stands for ("CODE error_id message"), if any."""
    code, _, rest = str(exc).partition(" ")
    if code == "FDILLEGAL":
        machine, current, event = rest.split("|", 2)
        return IllegalTransition(machine, current, event, tuple(str(s) for s in MACHINES[machine][event]))
    cls = _BY_CODE.get(code)
    if cls is None:
        return None
    error_id, _, message = rest.partition(" ")
    return cls(message, error_id=error_id)
