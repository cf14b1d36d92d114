"""The feed on its own (memory bus and store, no server): planning, failures, the ring-only mode."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from cti.bus.memory import MemoryEventBus
from cti.config.centre import DEMO_DIR, load_centre
from cti.desktop.catalogue import agent_stream, validate_agent_message
from cti.desktop.feed import FANOUT, DesktopFeed, plan
from cti.desktop.schemas import ScreenPop
from cti.desktop.sources import Sources
from cti.domain.clock import ManualClock
from cti.domain.events import CENTRE_STREAM, Event
from cti.domain.model import RoutingPlan, Stage
from cti.domain.states import AgentStatus
from cti.records.engine import create_engine
from cti.records.repository import Records
from cti.state.memory import MemoryStateStore
from cti.state.port import NewContact
from cti.telephony.sim import SimTelephony
from tests.conftest import until

AT = 1_767_780_000_000
OFFER = {
    "offer": "c1.o1",
    "contact": "c1",
    "agent": "a1",
    "queue": "amh_spa",
    "expires_at": AT + 20_000,
    "decision": {"rule": "longest_idle_agent", "target": "amh_spa", "winner": "a1", "offer": "c1.o1"},
}


class Phone(SimTelephony):
    """Records ring commands; ``fail`` makes them raise (a provider outage)."""

    def __init__(self, fail: bool = False, hold: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(ManualClock(AT))
        self.fail = fail
        self.hold = hold  # awaited before a ring goes out (a slow provider)
        self.commands: list[tuple[str, str, str]] = []

    async def ring(self, call_id: str, agent_id: str) -> None:
        if self.hold is not None:
            await self.hold()
        self.commands.append(("ring", call_id, agent_id))
        if self.fail:
            raise ConnectionError("provider unreachable")

    async def stop_ringing(self, call_id: str, agent_id: str) -> None:
        self.commands.append(("stop_ringing", call_id, agent_id))


@dataclass
class Rig:
    bus: MemoryEventBus
    store: MemoryStateStore
    sources: Sources

    async def call(self, contact: str = "c1") -> None:
        """A caller joins the queue; the available agent a1 is offered the call at once."""
        plan = RoutingPlan((Stage(0, ("amh_spa",), "queue"),))
        attrs = {"withheld": True, "service": "amh_spa", "caller_type": "public"}
        await self.store.enqueue(NewContact(contact, "amh_spa", 5, plan, attrs), AT)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    bus = MemoryEventBus(json_roundtrip=True)
    store = MemoryStateStore(bus)
    await store.register_agent("a1", ["amh_spa"], AT)
    await store.set_status("a1", AgentStatus.AVAILABLE, None, AT)
    engine = create_engine("sqlite+aiosqlite://")  # no tables: every records query fails
    async with engine.connect():  # its one connection made now, not by two pops at once
        pass
    yield Rig(bus, store, Sources(store, Records(engine), load_centre(DEMO_DIR), ManualClock(AT)))
    await bus.close()
    await engine.dispose()


def event(type: str, seq: int = 1, **data: object) -> Event:
    return Event(CENTRE_STREAM, seq, type, AT, dict(data))


def test_what_each_centre_event_gives_its_agent() -> None:
    assert plan(event("offer.created", **OFFER)) == ["offer.created", "agent.state"]
    assert plan(event("agent.status", agent="a1")) == ["agent.state"]
    assert plan(event("agent.engine", agent="a1")) == ["agent.state"]
    assert plan(event("offer.timed_out", agent="a1")) == ["offer.ended"]
    assert plan(event("offer.accepted", agent="a1")) == ["contact.updated", "agent.state"]
    assert plan(event("contact.held", agent="a1")) == ["contact.updated"]
    assert plan(event("contact.wrap_up", agent="a1")) == ["contact.updated", "agent.state"]
    assert plan(event("contact.closed", agent="a1")) == ["contact.updated"]
    assert plan(event("handover.note_added", agent="a1")) == ["event"]
    assert plan(event("contact.queued", contact="c1")) == []
    assert plan(event("contact.queued", agent=["a1"])) == []  # only a top-level agent id counts
    longest = max(
        len(plan(event(t, agent="a1"))) for t in ("offer.created", "offer.accepted", "contact.wrap_up")
    )
    assert longest < FANOUT


async def messages(rig: Rig) -> list[Event]:
    published = await rig.bus.read_after(agent_stream("a1"), 0)
    assert isinstance(published, list)
    for message in published:
        validate_agent_message(message.to_json())
    return published


async def test_a_records_failure_still_pops_the_call_and_asks_identity_questions(rig: Rig) -> None:
    phone = Phone()
    feed = DesktopFeed(rig.bus, phone, rig.sources)
    await feed.start()
    try:
        await rig.call()
        await until(lambda: phone.commands == [("ring", "c1", "a1")], message="the ring")
    finally:
        await feed.stop()
    published = await messages(rig)
    assert [e.type for e in published] == ["offer.created", "agent.state"]
    pop = ScreenPop.model_validate(published[0].data["screen_pop"])
    assert (pop.contact.queue_name, pop.contact.withheld, pop.caller.match) == (
        "Adult mental health",
        True,
        "unavailable",
    )
    assert pop.caller.prompt == "Ask identity questions: caller records unavailable"


async def test_a_pop_not_built_in_time_is_replaced_and_the_phone_still_rings(rig: Rig) -> None:
    phone = Phone()
    feed = DesktopFeed(rig.bus, phone, rig.sources, pop_timeout_s=0)
    await feed.start()
    try:
        await rig.call()
        await until(lambda: phone.commands == [("ring", "c1", "a1")], message="the ring")
    finally:
        await feed.stop()
    pop = ScreenPop.model_validate((await messages(rig))[0].data["screen_pop"])
    assert (pop.contact.id, pop.contact.queue, pop.contact.priority) == ("c1", "amh_spa", None)
    assert pop.caller.match == "unavailable"


async def test_an_offer_over_before_its_ring_is_stopped_once(rig: Rig) -> None:
    phone = Phone()
    feed = DesktopFeed(rig.bus, phone, rig.sources)
    await feed.start()
    try:
        await rig.call()
        await rig.store.hangup("c1", AT + 1)  # before the feed has even seen the offer
        await until(lambda: len(phone.commands) == 2, message="the ring and the stop")
        centre = await rig.bus.last_seq(CENTRE_STREAM)
        await until(lambda: feed.last_seq == centre, message="every event handled")
    finally:
        await feed.stop()
    assert phone.commands == [("ring", "c1", "a1"), ("stop_ringing", "c1", "a1")]
    assert [e.type for e in await messages(rig)] == [
        "offer.created",
        "agent.state",
        "offer.ended",
        "agent.state",
    ]


async def test_the_ringing_node_stops_its_ring_when_another_node_published_the_end(rig: Rig) -> None:
    async def ended() -> bool:
        published = await rig.bus.read_after(agent_stream("a1"), 0)
        return isinstance(published, list) and any(e.type == "offer.ended" for e in published)

    async def ended_on_the_agents_stream() -> None:
        await until(ended, message="the other node to publish the offer's end")

    # Two nodes; whichever publishes the offer rings, and its ring is slow: it goes out only once
    # the other node has published the offer's end (and stopped the ringing it saw no ring for).
    phones = [Phone(hold=ended_on_the_agents_stream), Phone(hold=ended_on_the_agents_stream)]
    feeds = [DesktopFeed(rig.bus, phone, rig.sources) for phone in phones]
    for feed in feeds:
        await feed.start()
    try:
        await rig.call()
        await rig.store.hangup("c1", AT + 1)
        await until(lambda: sum(len(p.commands) for p in phones) == 3, message="one ring and two stops")
        centre = await rig.bus.last_seq(CENTRE_STREAM)
        await until(lambda: all(f.last_seq == centre for f in feeds), message="every event handled")
    finally:
        for feed in feeds:
            await feed.stop()
    ringer, other = sorted(phones, key=lambda p: p.commands[0][0] != "ring")
    assert ringer.commands == [("ring", "c1", "a1"), ("stop_ringing", "c1", "a1")]
    assert other.commands == [("stop_ringing", "c1", "a1")]


async def test_a_telephony_failure_does_not_stop_the_agents_messages(rig: Rig) -> None:
    phone = Phone(fail=True)
    feed = DesktopFeed(rig.bus, phone, rig.sources)
    await feed.start()
    try:
        await rig.call()
        await until(lambda: bool(phone.commands), message="the ring")
        centre = await rig.bus.last_seq(CENTRE_STREAM)
        await until(lambda: feed.last_seq == centre, message="the offer to be handled")
    finally:
        await feed.stop()
    published = await messages(rig)
    assert [e.type for e in published] == ["offer.created", "agent.state"]
    assert published[1].data == {"status": "available", "reason": None, "engine": "offered", "since": AT}


async def test_without_pop_sources_it_only_rings(rig: Rig) -> None:
    phone = Phone()
    feed = DesktopFeed(rig.bus, phone)
    await feed.start()
    try:
        await rig.call()
        await rig.store.hangup("c1", AT + 1)
        await until(lambda: len(phone.commands) == 2, message="ring and stop")
        assert phone.commands == [("ring", "c1", "a1"), ("stop_ringing", "c1", "a1")]
        assert await rig.bus.last_seq(agent_stream("a1")) == 0
        feed.attach(rig.sources)  # from now on: messages first, then the phone
        await rig.call("c2")
        await until(lambda: len(phone.commands) == 3, message="the second ring")
        assert [e.type for e in await messages(rig)] == ["offer.created", "agent.state"]
    finally:
        await feed.stop()
