"""Handovers in Redis, shared by every node (see ``cti.handover.store`` for ownership and locking).

Keys, under the deployment's prefix ``p``:

- ``p:ho:{id}``: the handover as one JSON document (``cti.handover.codec``); kept ``finished_ttl_s``
  after it ends, with its consult index;
- ``p:ho:active:{contact}``: the active handover of a caller's contact (deleted when it ends);
- ``p:ho:consult:{contact}``: the handover a consult contact belongs to;
- ``p:ho:actives``: the set of active handover ids;
- ``p:ho:claim:{contact}`` and ``p:ho:count:{contact}``: the request being set up, and the numbering;
- ``p:ho:lock:{id}``: the handover's lock (redis-py's lock: a token, an expiry, released only by
  its holder);
- ``p:ho:node:{node}``: a node's lease.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.lock import Lock

from cti.domain.errors import Conflict
from cti.handover import codec
from cti.handover.model import Handover
from cti.handover.store import HandoverStore

_DELETE_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisHandoverStore(HandoverStore):
    def __init__(
        self,
        client: Redis,
        prefix: str,
        *,
        node_id: str | None = None,
        lease_ms: int = 5000,
        lock_timeout_s: float = 30.0,
        finished_ttl_s: int = 24 * 3600,
        claim_ttl_ms: int = 30_000,
    ) -> None:
        super().__init__(node_id)
        self.client = client
        self.prefix = f"{prefix}:ho"
        self.lease_ms = lease_ms
        self.lock_timeout_s = lock_timeout_s
        self.finished_ttl_s = finished_ttl_s
        self.claim_ttl_ms = claim_ttl_ms

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def claim(self, contact_id: str) -> int:
        claimed = await self.client.set(
            self._key("claim", contact_id), self.node_id, nx=True, px=self.claim_ttl_ms
        )
        if not claimed or await self.client.exists(self._key("active", contact_id)):
            if claimed:
                await self.release(contact_id)
            raise Conflict("this caller already has a handover in progress", error_id="handover_in_progress")
        return int(await self.client.incr(self._key("count", contact_id)))

    async def release(self, contact_id: str) -> None:
        await self.client.delete(self._key("claim", contact_id))

    async def save(self, handover: Handover) -> None:
        pipe = self.client.pipeline(transaction=True)
        record = self._key(handover.id)
        pipe.set(record, codec.dumps(handover))
        for consult in handover.consults:
            pipe.set(self._key("consult", consult), handover.id)
        if handover.active:
            pipe.set(self._key("active", handover.contact_id), handover.id)
            pipe.sadd(self._key("actives"), handover.id)
        else:
            # Only this handover's own index entry goes (a newer handover may hold the caller by now).
            pipe.eval(_DELETE_IF_EQUAL, 1, self._key("active", handover.contact_id), handover.id)
            pipe.srem(self._key("actives"), handover.id)
            pipe.expire(record, self.finished_ttl_s)
            for consult in handover.consults:
                pipe.expire(self._key("consult", consult), self.finished_ttl_s)
        await pipe.execute()

    async def find(self, handover_id: str) -> Handover | None:
        raw = await self.client.get(self._key(handover_id))
        return None if raw is None else codec.loads(raw)

    async def _by_index(self, key: str) -> Handover | None:
        handover_id = await self.client.get(key)
        return None if handover_id is None else await self.find(_text(handover_id))

    async def active_for(self, contact_id: str) -> Handover | None:
        return await self._by_index(self._key("active", contact_id))

    async def by_consult(self, consult_contact_id: str) -> Handover | None:
        return await self._by_index(self._key("consult", consult_contact_id))

    async def which(self, contact_id: str) -> str | None:
        active, consult = await self.client.mget(
            [self._key("active", contact_id), self._key("consult", contact_id)]
        )
        found = active if active is not None else consult
        return None if found is None else _text(found)

    async def active(self) -> list[Handover]:
        ids = sorted(_text(i) for i in await self.client.smembers(self._key("actives")))
        if not ids:
            return []
        raws = await self.client.mget([self._key(i) for i in ids])
        return [handover for raw in raws if raw is not None and (handover := codec.loads(raw)).active]

    def lock(self, handover_id: str) -> Lock:
        return self.client.lock(
            self._key("lock", handover_id),
            timeout=self.lock_timeout_s,
            blocking_timeout=self.lock_timeout_s + 5,
        )

    async def heartbeat(self) -> None:
        await self.client.set(self._key("node", self.node_id), "1", px=self.lease_ms)

    async def alive(self, node_id: str) -> bool:
        if node_id == self.node_id:
            return True
        return bool(node_id) and bool(await self.client.exists(self._key("node", node_id)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
