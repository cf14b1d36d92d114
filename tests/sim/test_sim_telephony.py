from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from cti.domain.clock import ManualClock
from cti.domain.errors import Conflict, InvalidInput
from cti.telephony.port import InboundCall
from cti.telephony.sim import LegState, Ring, SimTelephony

CLI = "+447700900123"


class Handler:
    def __init__(self, fail: bool = False) -> None:
        self.arrived: list[str] = []
        self.hung_up: list[str] = []
        self.fail = fail

    async def call_arrived(self, call: InboundCall) -> None:
        if self.fail:
            raise InvalidInput("unknown queue", error_id="unknown_queue")
        self.arrived.append(call.call_id)

    async def caller_hung_up(self, call_id: str) -> None:
        self.hung_up.append(call_id)


def inbound(call_id: str = "c1", cli: str | None = CLI) -> InboundCall:
    return InboundCall(call_id=call_id, cli=cli, dialled="+441164960000", queue="asc_triage")


@pytest.fixture
async def sim() -> SimTelephony:
    telephony = SimTelephony(ManualClock(), seed=1)
    return telephony


async def test_records_the_commands_the_domain_gives(sim: SimTelephony) -> None:
    handler = Handler()
    await sim.start(handler)
    rings: list[Ring] = []
    unsubscribe = sim.on_ring("agent01", rings.append)
    await sim.place_call(inbound())
    assert handler.arrived == ["c1"]
    queued = sim.leg("c1")
    assert queued is not None
    assert queued.state is LegState.QUEUED

    await sim.ring("c1", "agent01")
    assert sim.ringing("agent01") == "c1"
    assert [r.call_id for r in rings] == ["c1"]
    await sim.stop_ringing("c1", "agent01")
    assert sim.ringing("agent01") is None
    await sim.ring("c1", "agent02")
    await sim.connect("c1", "agent02")
    await sim.hold("c1")
    await sim.resume("c1")
    await sim.hangup("c1")

    assert sim.log("c1") == ["ring", "stop_ringing", "ring", "connect", "hold", "resume", "hangup"]
    leg = sim.leg("c1")
    assert leg is not None
    assert leg.state is LegState.ENDED
    assert leg.ended_by == "agent"
    assert leg.agent == "agent02"
    assert all(c.ok for c in leg.commands)
    assert sim.calls() == []
    assert [v.call_id for v in sim.legs()] == ["c1"]
    unsubscribe()
    assert sim._listeners == {}


async def test_a_caller_hanging_up_leaves_the_agent_phone_to_the_domain(sim: SimTelephony) -> None:
    handler = Handler()
    await sim.start(handler)
    await sim.place_call(inbound())
    await sim.ring("c1", "agent01")
    assert await sim.caller_hangs_up("c1") is True
    assert handler.hung_up == ["c1"]
    # The agent's phone is its own leg: it rings until the domain cancels the offer.
    assert sim.ringing("agent01") == "c1"
    await sim.stop_ringing("c1", "agent01")
    assert sim.ringing("agent01") is None
    await sim.connect("c1", "agent01")  # a late command on an ended leg is logged, not carried out
    leg = sim.leg("c1")
    assert leg is not None
    assert leg.state is LegState.ENDED
    assert leg.ended_by == "caller"
    done = [(c.name, c.ok) for c in leg.commands]
    assert done == [("ring", True), ("stop_ringing", True), ("connect", False)]
    assert await sim.caller_hangs_up("c1") is False
    assert handler.hung_up == ["c1"]


async def test_transfer_out_ends_the_leg(sim: SimTelephony) -> None:
    await sim.start(Handler())
    await sim.place_call(inbound())
    await sim.transfer_out("c1", "111")
    leg = sim.leg("c1")
    assert leg is not None
    assert leg.ended_by == "transfer"
    assert leg.commands[-1].target == "111"


async def test_commands_for_unknown_calls_are_ignored(sim: SimTelephony) -> None:
    await sim.start(Handler())
    await sim.ring("nope", "agent01")
    await sim.hangup("nope")
    assert sim.legs() == []
    assert sim.log("nope") == []


async def test_refuses_calls_before_start_twice_or_beyond_its_lines() -> None:
    sim = SimTelephony(ManualClock(), max_live_legs=2)
    with pytest.raises(Conflict) as not_started:
        await sim.place_call(inbound())
    assert not_started.value.error_id == "telephony_not_started"
    await sim.start(Handler())
    await sim.place_call(inbound("a"))
    with pytest.raises(Conflict) as twice:
        await sim.place_call(inbound("a"))
    assert twice.value.error_id == "call_exists"
    await sim.place_call(inbound("b"))
    with pytest.raises(Conflict) as busy:
        await sim.place_call(inbound("c"))
    assert busy.value.error_id == "sim_lines_busy"


async def test_a_call_the_domain_refuses_ends_its_leg(sim: SimTelephony) -> None:
    await sim.start(Handler(fail=True))
    with pytest.raises(InvalidInput):
        await sim.place_call(inbound())
    leg = sim.leg("c1")
    assert leg is not None
    assert leg.state is LegState.ENDED
    assert leg.ended_by == "failed"


async def test_ended_legs_are_pruned() -> None:
    clock = ManualClock()
    sim = SimTelephony(clock, keep_ended_ms=1000, max_ended_legs=3)
    await sim.start(Handler())
    for n in range(5):
        await sim.place_call(inbound(f"c{n}"))
        await sim.caller_hangs_up(f"c{n}")
    await sim.place_call(inbound("c5"))
    assert [v.call_id for v in sim.legs()] == ["c2", "c3", "c4", "c5"]
    clock.advance(1001)
    await sim.place_call(inbound("c6"))
    assert [v.call_id for v in sim.legs()] == ["c5", "c6"]


async def test_call_ids_are_unique_per_run() -> None:
    first = SimTelephony(ManualClock(1_000), seed=1)
    second = SimTelephony(ManualClock(2_000), seed=1)
    ids = {first.new_call_id(), first.new_call_id(), second.new_call_id()}
    assert len(ids) == 3
    assert all(i.startswith("sim-") and len(i) <= 64 for i in ids)


async def test_wait_change_wakes_on_a_change(sim: SimTelephony) -> None:
    await sim.start(Handler())
    await sim.place_call(inbound())
    leg = sim.leg("c1")
    assert leg is not None
    assert await sim.wait_change("c1", leg.version, 0.0) == leg.version  # timed out
    assert await sim.wait_change("c1", leg.version - 1, 5.0) == leg.version  # already changed
    await sim.ring("c1", "agent01")
    assert await sim.wait_change("c1", leg.version, 5.0) == leg.version + 1
    assert await sim.wait_change("gone", 0, 5.0) == -1


async def test_never_logs_the_callers_number(sim: SimTelephony) -> None:
    await sim.start(Handler())
    with capture_logs() as logs:
        await sim.place_call(inbound())
        await sim.ring("c1", "agent01")
        await sim.caller_hangs_up("c1")
        await sim.connect("c1", "agent01")
    assert logs
    assert CLI not in repr(logs)
    assert CLI not in repr(sim.legs())
    assert sim.leg("c1").withheld is False  # type: ignore[union-attr]


async def test_a_failing_ring_listener_does_not_stop_the_ring(sim: SimTelephony) -> None:
    await sim.start(Handler())

    def broken(ring: Ring) -> None:
        raise RuntimeError("boom")

    sim.on_ring("agent01", broken)
    await sim.place_call(inbound())
    with capture_logs() as logs:
        await sim.ring("c1", "agent01")
    assert sim.ringing("agent01") == "c1"
    assert any(entry["event"] == "sim.ring_listener_failed" for entry in logs)
