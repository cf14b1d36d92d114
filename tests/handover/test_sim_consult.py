"""The simulator's consult legs: what each handover command does to the caller's and the consult leg."""

from __future__ import annotations

import pytest

from cti.domain.clock import ManualClock
from cti.telephony.port import InboundCall
from cti.telephony.sim import LegState, SimTelephony


class Handler:
    def __init__(self) -> None:
        self.hung_up: list[str] = []

    async def call_arrived(self, call: InboundCall) -> None:
        return None

    async def caller_hung_up(self, call_id: str) -> None:
        self.hung_up.append(call_id)


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
async def sim(handler: Handler) -> SimTelephony:
    telephony = SimTelephony(ManualClock(), seed=1)
    await telephony.start(handler)
    await telephony.place_call(InboundCall("c1", "+447700900123", "+441164960000", "amh_spa"))
    await telephony.ring("c1", "agent14")
    await telephony.connect("c1", "agent14")
    await telephony.hold("c1")
    await telephony.open_consult("c1", "c1.h1", "agent14", "amh_spa")
    return telephony


def state(sim: SimTelephony, call_id: str) -> LegState:
    leg = sim.leg(call_id)
    assert leg is not None
    return leg.state


async def test_a_consult_is_rung_reserved_then_joined(sim: SimTelephony, handler: Handler) -> None:
    consult = sim.leg("c1.h1")
    assert consult is not None
    assert (consult.state, consult.parent, consult.from_agent, consult.has_caller) == (
        LegState.QUEUED,
        "c1",
        "agent14",
        False,
    )
    await sim.ring("c1.h1", "specialist04")
    assert sim.ringing("specialist04") == "c1.h1"
    await sim.connect("c1.h1", "specialist04")
    assert state(sim, "c1.h1") is LegState.RESERVED  # answered; nobody put through yet
    await sim.consult("c1", "c1.h1", "agent14", "specialist04")
    assert state(sim, "c1.h1") is LegState.CONSULTING
    assert state(sim, "c1") is LegState.HELD  # the caller hears hold music throughout

    await sim.complete_transfer("c1", "c1.h1", "agent14", "specialist04")
    caller, consult = sim.leg("c1"), sim.leg("c1.h1")
    assert caller is not None and consult is not None
    assert (caller.state, caller.ended_by, caller.transferred_to) == (LegState.ENDED, "transfer", "c1.h1")
    assert (consult.state, consult.agent, consult.has_caller) == (LegState.CONNECTED, "specialist04", True)
    assert sim.log("c1") == ["ring", "connect", "hold", "open_consult", "consult", "complete_transfer"]
    assert sim.log("c1.h1") == ["open_consult", "ring", "connect", "consult", "complete_transfer"]
    assert all(c.ok for c in consult.commands)

    # The caller hangs up on the number they rang: reported under the contact that carries them now.
    assert await sim.caller_hangs_up("c1")
    assert state(sim, "c1.h1") is LegState.ENDED
    assert handler.hung_up == ["c1.h1"]


async def test_cancel_drops_the_consult_and_the_caller_waits_on_hold(sim: SimTelephony) -> None:
    await sim.connect("c1.h1", "specialist04")
    await sim.consult("c1", "c1.h1", "agent14", "specialist04")
    await sim.cancel_consult("c1", "c1.h1")
    consult = sim.leg("c1.h1")
    assert consult is not None and (consult.state, consult.ended_by) == (LegState.ENDED, "cancelled")
    assert state(sim, "c1") is LegState.HELD
    await sim.resume("c1")
    assert state(sim, "c1") is LegState.CONNECTED
    await sim.hangup("c1")  # no consult open any more: the call ends as usual
    assert state(sim, "c1") is LegState.ENDED


async def test_the_first_agent_leaving_never_drops_a_held_caller(sim: SimTelephony) -> None:
    await sim.hangup("c1")
    caller = sim.leg("c1")
    assert caller is not None and (caller.state, caller.agent) == (LegState.HELD, None)
    # Nobody answered yet: the caller moves onto the consult and waits in its queue.
    await sim.complete_transfer("c1", "c1.h1", "agent14", None)
    consult = sim.leg("c1.h1")
    assert consult is not None and (consult.state, consult.has_caller) == (LegState.QUEUED, True)
    await sim.ring("c1.h1", "specialist06")
    await sim.connect("c1.h1", "specialist06")
    assert state(sim, "c1.h1") is LegState.CONNECTED  # with the caller on it, answering connects


async def test_commands_that_come_too_late_are_logged_not_obeyed(sim: SimTelephony) -> None:
    await sim.consult("c1", "c1.h1", "agent14", "specialist04")  # nobody answered yet
    await sim.complete_transfer("c1", "c1.h1", "agent14", "specialist04")
    consult = sim.leg("c1.h1")
    assert consult is not None and consult.state is LegState.QUEUED
    assert [(c.name, c.ok) for c in consult.commands][-2:] == [
        ("consult", False),
        ("complete_transfer", False),
    ]
    assert state(sim, "c1") is LegState.HELD
