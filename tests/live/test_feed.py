"""The supervisor feed: alerts over time, throttled figures, and the same messages however time moves."""

from __future__ import annotations

from typing import Any

from cti.live.alerts import current_alerts
from cti.live.feed import SLOT, Message, SupervisorFeed
from cti.live.messages import validate_supervisor_message
from tests.live.events import T0, TARGETS, Centre


def run(centre: Centre, feed: SupervisorFeed | None = None, until_ms: int | None = None) -> list[Message]:
    feed = feed or SupervisorFeed.for_queues(TARGETS)
    out: list[Message] = []
    for event in centre.events:
        out += feed.apply(event)
    if until_ms is not None:
        out += feed.advance(T0 + until_ms)
    return out


def alerts_of(messages: list[Message]) -> list[tuple[str, str, int, str]]:
    return [
        (m.type, m.data["id"], m.data["at"] - T0, m.data["detail"]) for m in messages if "alert" in m.type
    ]


def test_potential_breach_then_breach_then_cleared_when_answered() -> None:
    c = Centre()
    c.status("agent1", "available", 0)
    c.queued("k", "q1", 0)  # threshold 60 s: potential breach at 48 s, breach after 60 s
    feed = SupervisorFeed.for_queues(TARGETS)
    messages = run(c, feed, until_ms=47_999)
    assert alerts_of(messages) == []
    messages = feed.advance(T0 + 48_000)
    assert alerts_of(messages) == [
        ("alert.raised", "potential_breach:k", 48_000, "waited 80% of the 60 s threshold")
    ]
    raised = next(m for m in messages if m.type == "alert.raised")
    assert raised.data == {
        "id": "potential_breach:k",
        "kind": "potential_breach",
        "queue": "q1",
        "contact": "k",
        "at": T0 + 48_000,
        "detail": "waited 80% of the 60 s threshold",
    }
    assert alerts_of(feed.advance(T0 + 60_000)) == []  # exactly the threshold is still within it
    assert alerts_of(feed.advance(T0 + 75_000)) == [
        ("alert.cleared", "potential_breach:k", 60_001, "escalated to breach"),
        ("alert.raised", "breach:k", 60_001, "waited longer than the 60 s threshold"),
    ]
    c.answered("k", "agent1", "q1", 80_000, 80_000)
    assert alerts_of(feed.apply(c.events[-1])) == [("alert.cleared", "breach:k", 80_000, "answered")]
    assert feed.alerts == {}


def test_alerts_at_a_given_now_are_a_function_of_the_projection() -> None:
    c = Centre()
    c.queued("k", "q2", 0)  # threshold 20 s
    stats = SupervisorFeed.for_queues(TARGETS).stats
    for event in c.events:
        stats.apply(event)
    assert current_alerts(stats, T0 + 15_999) == {}
    (warn,) = current_alerts(stats, T0 + 16_000).values()
    assert (warn.kind, warn.at, warn.queue) == ("potential_breach", T0 + 16_000, "q2")
    (breach,) = current_alerts(stats, T0 + 99_000).values()
    assert (breach.kind, breach.at) == ("breach", T0 + 20_001)  # the crossing, not the look


def test_abandoning_clears_the_alert() -> None:
    c = Centre()
    c.queued("k", "q2", 0)
    c.abandoned("k", "q2", 17_000, 17_000)
    assert alerts_of(run(c)) == [
        ("alert.raised", "potential_breach:k", 16_000, "waited 80% of the 20 s threshold"),
        ("alert.cleared", "potential_breach:k", 17_000, "abandoned"),
    ]


def test_agent_unreachable_raised_and_cleared_when_the_agent_is_back() -> None:
    c = Centre()
    c.status("agent1", "available", 0)
    c.status("agent1", "not_ready", 30_000, reason="unreachable")
    c.status("agent1", "available", 90_000)
    messages = run(c)
    assert alerts_of(messages) == [
        ("alert.raised", "agent_unreachable:agent1", 30_000, "no heartbeat from the desktop"),
        ("alert.cleared", "agent_unreachable:agent1", 90_000, "agent status changed"),
    ]
    raised = next(m for m in messages if m.type == "alert.raised")
    assert raised.data["agent"] == "agent1" and "queue" not in raised.data
    states = [m.data for m in messages if m.type == "agent.state"]
    assert [(s["status"], s["reason"], s["since"] - T0) for s in states] == [
        ("available", None, 0),
        ("not_ready", "unreachable", 30_000),
        ("available", None, 90_000),
    ]


def test_queue_stats_at_most_once_a_second_per_queue() -> None:
    c = Centre()
    for i in range(5):
        c.queued(f"k{i}", "q1", i * 100)  # five in half a second
    c.queued("other", "q2", 500)
    messages = run(c, until_ms=3_500)
    stats = [(m.data["queue"], m.at - T0, m.data["waiting"]) for m in messages if m.type == "queue.stats"]
    assert stats == [
        ("q1", 0, 1),
        ("q2", 500, 1),
        ("q1", 1_000, 5),
        ("q2", 1_500, 1),
        ("q1", 2_000, 5),
        ("q2", 2_500, 1),
        ("q1", 3_000, 5),
        ("q2", 3_500, 1),
    ]  # and every second while contacts wait, because the longest wait grows


def scenario() -> Centre:
    c = Centre()
    c.status("agent1", "available", 0)
    c.status("agent2", "available", 500)
    c.queued("a", "q1", 1_000)
    c.offered("a", "agent1", "q1", 1_000)
    c.answered("a", "agent1", "q1", 4_000, 3_000)
    c.queued("b", "q2", 5_000)
    c.queued("c", "q1", 6_000)
    c.status("agent2", "not_ready", 30_000, reason="unreachable")
    c.abandoned("b", "q2", 40_000, 35_000)
    c.ev("contact.wrap_up", 50_000, contact="a", agent="agent1", queue="q1", by="agent", wrap_up_until=0)
    c.ev("contact.closed", 60_000, contact="a", agent="agent1", queue="q1", by="agent")
    c.ev("agent.engine", 60_000, agent="agent1", engine="idle", status="available")
    c.offered("c", "agent1", "q1", 60_000)
    c.answered("c", "agent1", "q1", 95_000, 89_000)
    return c


def test_the_same_messages_however_time_is_moved_and_across_a_checkpoint() -> None:
    c = scenario()
    whole = run(c, until_ms=120_000)

    ticked = SupervisorFeed.for_queues(TARGETS)
    pieces: list[Message] = []
    for event in c.events:
        for t in range(ticked.stats.time or event.at - 1, event.at, 333):
            pieces += ticked.advance(t)
        pieces += ticked.apply(event)
        if event.seq == 7:  # restart mid-way from a checkpoint
            ticked = SupervisorFeed.from_json(ticked.to_json(), TARGETS)
    pieces += ticked.advance(T0 + 120_000)
    assert pieces == whole

    keys = [m.key for m in whole]
    assert keys == sorted(set(keys)) and keys[0] > 0
    assert all(m.key // SLOT <= len(c.events) for m in whole)
    for m in whole:
        validate_supervisor_message({"type": m.type, "data": m.data})
    kinds: dict[str, Any] = {}
    for m in whole:
        kinds[m.type] = kinds.get(m.type, 0) + 1
    assert set(kinds) == {"agent.state", "queue.stats", "alert.raised", "alert.cleared"}


def test_midnight_sends_the_reset_figures() -> None:
    c = Centre(T0)
    c.queued("a", "q1", 0)
    c.answered("a", "agent1", "q1", 2_000, 2_000)
    feed = SupervisorFeed.for_queues(TARGETS)
    run(c, feed, until_ms=10_000)
    midnight = feed.stats.day_end
    messages = feed.advance(midnight + 5_000)
    (reset,) = [m for m in messages if m.type == "queue.stats"]
    assert reset.at == midnight and reset.data["answered"] == 0 and reset.data["day"] == "2026-01-15"
