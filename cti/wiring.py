"""Composition root: the only place where adapters are chosen and wired to services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.auth.service import AuthService
from cti.auth.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from cti.bus.memory import MemoryEventBus
from cti.bus.port import EventBus
from cti.bus.redis import RedisEventBus
from cti.calls.recorder import ContactRecorder
from cti.calls.service import CallService
from cti.config.centre import CentreConfig, load_centre
from cti.config.settings import Settings
from cti.desktop.feed import DesktopFeed
from cti.desktop.sources import Sources
from cti.domain.clock import Clock, SystemClock
from cti.domain.model import Policy
from cti.records.engine import create_engine, migrate
from cti.records.repository import Records
from cti.router.service import Router
from cti.state.memory import MemoryStateStore
from cti.state.port import StateStore
from cti.telephony.port import Telephony
from cti.telephony.sim import SimTelephony

log = structlog.get_logger(__name__)


@dataclass
class Services:
    settings: Settings
    centre: CentreConfig
    clock: Clock
    bus: EventBus
    store: StateStore
    router: Router
    engine: AsyncEngine
    records: Records
    telephony: Telephony
    calls: CallService
    recorder: ContactRecorder
    ringer: DesktopFeed  # publishes each offer's screen-pop to the agent's stream, then rings
    auth: AuthService
    redis: aioredis.Redis | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        await self.telephony.stop()
        await self.ringer.stop()
        await self.recorder.stop()
        await self.router.stop()
        await self.store.close()
        await self.bus.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


# A node's Redis connections: commands beyond this many in flight wait for a free connection (up
# to REDIS_WAIT_S) instead of failing, so a burst (2,000 websockets closing at once) loses nothing.
REDIS_CONNECTIONS = 64
REDIS_WAIT_S = 10.0


def redis_client(url: str) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_S
    )
    return aioredis.Redis.from_pool(pool)


def policy_for(centre: CentreConfig) -> Policy:
    return centre.routing.store_policy()


def make_telephony(settings: Settings, clock: Clock, client: aioredis.Redis | None) -> Telephony:
    """The configured telephony adapter (``FRONTDOOR_TELEPHONY``): sim, twilio or asterisk."""
    if settings.telephony == "twilio":
        from cti.twilio import create_telephony as create_twilio

        return create_twilio(settings, clock, client)
    if settings.telephony == "asterisk":
        from cti.asterisk import create_telephony as create_asterisk

        return create_asterisk(settings, clock, client)
    return SimTelephony(clock=clock, seed=settings.sim_seed)


async def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    centre = load_centre(settings.centre_dir)
    policy = policy_for(centre)
    client: aioredis.Redis | None = None
    bus: EventBus
    store: StateStore
    sessions: SessionStore
    if settings.backend == "redis":
        from cti.state.redis import RedisStateStore

        client = redis_client(settings.redis_url)
        redis_bus = RedisEventBus(client, prefix=settings.redis_prefix)
        bus = redis_bus
        # The store's scripts append to the centre stream: this node's followers get those events
        # from the script's reply, as the bus's own publishes are handed over.
        redis_store = RedisStateStore(
            client, prefix=settings.redis_prefix, policy=policy, on_appended=redis_bus.deliver_appended
        )
        await redis_store.setup()
        store = redis_store
        sessions = RedisSessionStore(client, prefix=settings.redis_prefix)
    else:
        memory_bus = MemoryEventBus()
        bus = memory_bus
        store = MemoryStateStore(memory_bus, policy)
        sessions = MemorySessionStore()
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    records = Records(engine)
    router = Router(store, centre, clock)
    telephony = make_telephony(settings, clock, client)
    calls = CallService(router, records, telephony, centre, clock)
    recorder = ContactRecorder(bus, records)
    ringer = DesktopFeed(bus, telephony, Sources(store=store, records=records, centre=centre, clock=clock))
    auth = AuthService(
        centre.users, sessions, clock, idle_s=settings.token_idle_s, absolute_s=settings.token_ttl_s, bus=bus
    )
    services = Services(
        settings=settings,
        centre=centre,
        clock=clock,
        bus=bus,
        store=store,
        router=router,
        engine=engine,
        records=records,
        telephony=telephony,
        calls=calls,
        recorder=recorder,
        ringer=ringer,
        auth=auth,
        redis=client,
    )
    await router.start()
    await recorder.start()
    await ringer.start()
    await telephony.start(calls)
    log.info("frontdoor.started", backend=settings.backend, telephony=telephony.name)
    return services
