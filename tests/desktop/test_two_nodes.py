"""Two nodes follow one centre stream on Redis: each desktop message once, each phone rung once."""

from __future__ import annotations

from collections import Counter

import pytest

from cti.desktop.catalogue import validate_agent_message
from cti.desktop.feed import DesktopFeed
from cti.domain.events import CENTRE_STREAM
from cti.telephony.sim import SimTelephony
from cti.wiring import build_services
from tests.api.conftest import Running
from tests.conftest import until
from tests.desktop.conftest import AGENT, QUEUE, agent_messages, of_type, set_status

CALLS = 12


async def test_each_message_is_published_once_and_each_phone_rung_once(
    desk_redis: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = desk_redis
    first = r.services
    second = await build_services(first.settings)  # another node on the same Redis and PostgreSQL
    try:
        assert isinstance(second.ringer, DesktopFeed) and isinstance(first.ringer, DesktopFeed)
        second.ringer.attach(second)
        commands: Counter[tuple[str, str, str]] = Counter()  # (node, command, call)
        for node, services in (("first", first), ("second", second)):
            sim = services.telephony
            assert isinstance(sim, SimTelephony)

            async def ring(call: str, agent: str, node: str = node) -> None:
                commands[(node, "ring", call)] += 1

            async def stop_ringing(call: str, agent: str, node: str = node) -> None:
                commands[(node, "stop_ringing", call)] += 1

            monkeypatch.setattr(sim, "ring", ring)
            monkeypatch.setattr(sim, "stop_ringing", stop_ringing)

        sup, agent = await r.login("supervisor01"), await r.login(AGENT)
        await set_status(r, agent, "available")
        numbers = await first.records.known_numbers(CALLS)
        calls = []
        for number in numbers:
            call_id = await r.place_call(sup, queue=QUEUE, cli=number)
            calls.append(call_id)

            async def offered(call_id: str = call_id) -> bool:
                return bool(of_type(await agent_messages(first), "offer.created", call_id))

            await until(offered, message="the offer on the agent's stream")
            assert (await r.client.post(f"/api/sim/calls/{call_id}/hangup", headers=sup)).status_code == 204

            async def ended(call_id: str = call_id) -> bool:
                return bool(of_type(await agent_messages(first), "offer.ended", call_id))

            await until(ended, message="the offer's end on the agent's stream")

        centre_last = await first.bus.last_seq(CENTRE_STREAM)
        await until(
            lambda: first.ringer.last_seq >= centre_last and second.ringer.last_seq >= centre_last,
            message="both nodes to follow the whole centre stream",
        )
        events = await agent_messages(first)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        for event in events:
            validate_agent_message(event.to_json())
        for type in ("offer.created", "offer.ended"):
            assert sorted(e.data["contact"] for e in of_type(events, type)) == sorted(calls)
        states = of_type(events, "agent.state")
        assert len(states) == 1 + 2 * CALLS  # available, then offered and released per call
        for call_id in calls:
            rings = {n: commands[(n, "ring", call_id)] for n in ("first", "second")}
            assert sum(rings.values()) == 1, (call_id, rings)
            # Stopped by the node that published the offer's end; the ringing node stops it too if the
            # offer was over when its ring went out (possible here: the caller hangs up as soon as
            # the offer is on the stream, which may be before its ring).
            stops = {n: commands[(n, "stop_ringing", call_id)] for n in ("first", "second")}
            assert 1 <= sum(stops.values()) <= 2, (call_id, stops)
    finally:
        await second.close()
