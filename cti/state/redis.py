"""Redis state store: the same semantics as ``MemoryStateStore``, shared by several router processes.

Every operation is one FCALL of a Redis Functions library (``cti/state/lua``, see ``redis_script``):
the state change, the matching that follows and the publication of its events on the centre stream
(the layout of ``cti.bus.port``) happen atomically on the server, in one round trip. Several
processes may use one prefix at once; Redis runs functions one at a time, so no contact is offered
twice and no agent holds two offers. Timers are a sorted set, so they outlive any process;
``fire_due`` claims and fires them in the same call, so each fires exactly once.

Keys, all under ``{prefix}:``: ``c:{id}`` contact hash, ``a:{id}`` agent hash, ``o:{id}`` offer hash,
``co:{contact}`` the contact's offer ids, ``d:{contact}`` its decision log (JSON, newest last),
``wait:{target}`` waiting contacts (score ``order_score``), ``idle:{target}`` idle available agents
(score ``idle_since``), ``queued`` every waiting contact, ``agents`` agent ids, ``timers`` (member
``kind:id``, score due ms), ``offer_seq`` the offer id counter.

Each FCALL replies with the operation's result and the events it appended (seq, type, data; see the
dispatcher in ``timers.lua``); the store hands those to ``on_appended`` (the node's event bus:
``RedisEventBus.deliver_appended``), so this node's followers of the centre stream get them without
reading them back.

A call touches keys it does not declare, so this is for a single Redis server (or a primary with
replicas), not Redis Cluster. The store does not own the client: whoever made it closes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from cti.bus.redis import Appended, counter_key, stream_key
from cti.bus.redis_reader import text_of
from cti.domain.errors import NotFound
from cti.domain.events import CENTRE_STREAM
from cti.domain.model import Agent, Contact, Offer, Policy, RoutingPlan, order_score
from cti.domain.states import STATUS_EVENT, AgentStatus
from cti.state import redis_script
from cti.state.port import NewContact, StateStore
from cti.state.redis_codec import (
    agent_from,
    contact_from,
    domain_error,
    offer_from,
    plan_to_json,
    records,
)

OnAppended = Callable[[str, Appended], None]  # the stream, what was appended to it


def _opt(value: str | None) -> str:
    """An optional string argument for the function: "-" for None, "+text" otherwise."""
    return "-" if value is None else "+" + value


class RedisStateStore(StateStore):
    """``stream_maxlen``/``exact_trim``: how the centre stream is trimmed, as ``RedisEventBus`` does;
    ``on_appended``: given the centre events each call appended, in order."""

    def __init__(
        self,
        client: Redis,
        prefix: str = "fd",
        policy: Policy | None = None,
        *,
        stream_maxlen: int = 100_000,
        exact_trim: bool = False,
        on_appended: OnAppended | None = None,
    ) -> None:
        if stream_maxlen < 1:
            raise ValueError("stream_maxlen must be at least 1")
        self.policy = policy or Policy()
        self.prefix = prefix
        self._r = client
        self.on_appended = on_appended
        p = self.policy
        self._keys = (counter_key(prefix, CENTRE_STREAM).encode(), stream_key(prefix, CENTRE_STREAM).encode())
        settings = (p.offer_timeout_ms, p.wrap_up_timeout_ms, p.decision_log_per_contact, p.retention_ms)
        if min(settings) < 0:
            raise ValueError("policy timings and the decision log size must not be negative")
        trim = "=" if exact_trim else "~"
        # Constant arguments, encoded once (see cti/state/lua/common.lua for the layout).
        self._settings = f"{' '.join(str(v) for v in (*settings, stream_maxlen))} {trim} {prefix}".encode()

    async def setup(self) -> None:
        """Load the function library (idempotent; loaded again on demand if Redis loses it)."""
        await self._r.function_load(redis_script.SOURCE, replace=True)

    async def _call(self, op: str, now: int, *args: str | int) -> Any:
        argv = (*self._keys, op, now, self._settings, *args)
        try:
            try:
                reply = await self._r.fcall(redis_script.FUNCTION, 2, *argv)
            except ResponseError as exc:
                if not str(exc).startswith("Function not found"):
                    raise
                await self.setup()  # Redis lost its functions (restart without persistence, flush)
                reply = await self._r.fcall(redis_script.FUNCTION, 2, *argv)
        except ResponseError as exc:
            mapped = domain_error(exc)
            if mapped is None:
                raise
            raise mapped from None
        if len(reply) > 2 and self.on_appended is not None:
            at = int(reply[1])
            appended = [
                (int(reply[i]), text_of(reply[i + 1]), at, text_of(reply[i + 2]))
                for i in range(2, len(reply), 3)
            ]
            self.on_appended(CENTRE_STREAM, appended)
        return reply[0]

    def _key(self, kind: str, ident: str) -> str:
        return f"{self.prefix}:{kind}:{ident}"

    # --- agents -----------------------------------------------------------------------------------
    async def register_agent(self, agent_id: str, targets: list[str], now: int) -> Agent:
        return agent_from(await self._call("register_agent", now, agent_id, json.dumps(list(targets))))

    async def set_status(
        self,
        agent_id: str,
        status: AgentStatus,
        reason: str | None,
        now: int,
        only_if: AgentStatus | None = None,
    ) -> Agent:
        event = STATUS_EVENT[AgentStatus(status)]
        condition = _opt(None if only_if is None else str(only_if))
        return agent_from(await self._call("set_status", now, agent_id, event, _opt(reason), condition))

    # --- contacts ---------------------------------------------------------------------------------
    async def enqueue(self, contact: NewContact, now: int) -> Contact:
        enqueued_at = contact.enqueued_at if contact.enqueued_at is not None else now
        raw = await self._call(
            "enqueue",
            now,
            contact.id,
            contact.queue,
            contact.priority,
            enqueued_at,
            order_score(contact.priority, enqueued_at),
            plan_to_json(contact.plan),
            json.dumps(contact.attrs, separators=(",", ":")),
        )
        return contact_from(raw)

    async def accept(self, offer_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("accept", now, offer_id, agent_id))

    async def reject(self, offer_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("reject", now, offer_id, agent_id))

    async def hangup(self, contact_id: str, now: int) -> Contact:
        return contact_from(await self._call("hangup", now, contact_id))

    async def hold(self, contact_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("hold", now, contact_id, agent_id))

    async def resume(self, contact_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("resume", now, contact_id, agent_id))

    async def end_call(self, contact_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("end_call", now, contact_id, agent_id))

    async def finish_wrap_up(self, contact_id: str, agent_id: str, now: int) -> Contact:
        return contact_from(await self._call("finish_wrap_up", now, contact_id, agent_id))

    async def move(self, contact_id: str, queue: str, plan: RoutingPlan, now: int) -> Contact:
        return contact_from(await self._call("move", now, contact_id, queue, plan_to_json(plan)))

    async def set_priority(self, contact_id: str, priority: int, now: int) -> Contact:
        # order_score is linear in the enqueue time: the script adds the contact's own to this base.
        base = order_score(priority, 0)
        return contact_from(await self._call("set_priority", now, contact_id, priority, base))

    # --- timers -----------------------------------------------------------------------------------
    async def fire_due(self, now: int, limit: int = 100) -> int:
        return int(await self._call("fire_due", now, limit))

    async def next_due(self) -> int | None:
        top = await self._r.zrange(f"{self.prefix}:timers", 0, 0, withscores=True)
        return int(top[0][1]) if top else None

    # --- reads ------------------------------------------------------------------------------------
    async def get_contact(self, contact_id: str) -> Contact:
        raw = await self._r.hgetall(self._key("c", contact_id))
        if not raw:
            raise NotFound(f"no contact {contact_id}", error_id="contact_not_found")
        return contact_from(raw)

    async def get_agent(self, agent_id: str) -> Agent:
        raw = await self._r.hgetall(self._key("a", agent_id))
        if not raw:
            raise NotFound(f"no agent {agent_id}", error_id="agent_not_found")
        return agent_from(raw)

    async def get_offer(self, offer_id: str) -> Offer:
        raw = await self._r.hgetall(self._key("o", offer_id))
        if not raw:
            raise NotFound(f"no offer {offer_id}", error_id="offer_not_found")
        return offer_from(raw)

    async def agents(self) -> list[Agent]:
        found = [agent_from(r) for r in records(await self._call("agents", 0))]
        return sorted(found, key=lambda a: a.id)

    async def waiting(self, target: str | None = None) -> list[Contact]:
        return [contact_from(r) for r in records(await self._call("waiting", 0, _opt(target)))]

    async def decisions(self, contact_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(await self._call("decisions", 0, contact_id))
        return found

    async def close(self) -> None:
        return None
