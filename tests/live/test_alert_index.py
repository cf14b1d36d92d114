"""The alert indexes give exactly what a walk over every waiting contact and every agent gives.

``current_alerts`` and ``next_crossing`` read per-queue orderings kept beside the projection; here a
random day of queueing, moves, answers, hang-ups and lost heartbeats is checked, after every event and
at instants around every crossing, against the plain definitions written out below.
"""

from __future__ import annotations

import random

from cti.live.alerts import WARN_RATIO, Alert, contact_alert, crossings, current_alerts, next_crossing
from cti.live.stats import UNREACHABLE, LiveStats
from tests.live.events import T0, TARGETS, Centre


def alerts_by_walking(stats: LiveStats, now: int) -> dict[str, Alert]:
    out: dict[str, Alert] = {}
    for waiting in stats.waiting.values():
        alert = contact_alert(stats, waiting, now, WARN_RATIO)
        if alert is not None:
            out[alert.id] = alert
    for agent in stats.agents.values():
        if agent.reason == UNREACHABLE:
            alert_id = f"agent_unreachable:{agent.agent}"
            out[alert_id] = Alert(
                alert_id, "agent_unreachable", agent.since, "no heartbeat from the desktop", agent=agent.agent
            )
    return dict(sorted(out.items()))


def crossing_by_walking(stats: LiveStats, after: int) -> int | None:
    ahead = [i for w in stats.waiting.values() for i in crossings(stats, w, WARN_RATIO) if i > after]
    return min(ahead, default=None)


def random_day(seed: int, events: int) -> Centre:
    rng = random.Random(seed)
    c = Centre()
    waiting: dict[str, str] = {}
    at = 0
    for n in range(events):
        at += rng.randrange(0, 4_000)
        roll = rng.random()
        if roll < 0.4 or not waiting:
            contact, queue = f"c{n}", rng.choice(["q1", "q2", "q3"])
            # sometimes joined earlier than the event says (a contact carried over from the IVR)
            c.queued(contact, queue, at, enqueued_ms=at - rng.choice([0, 0, 5_000, 30_000]))
            waiting[contact] = queue
        elif roll < 0.55:
            contact = rng.choice(sorted(waiting))
            queue = rng.choice(["q1", "q2", "q3"])
            c.ev("contact.moved", at, contact=contact, queue=queue)
            waiting[contact] = queue
        elif roll < 0.7:
            contact = rng.choice(sorted(waiting))
            c.answered(contact, f"a{n % 5}", waiting.pop(contact), at, 1_000)
        elif roll < 0.8:
            contact = rng.choice(sorted(waiting))
            c.abandoned(contact, waiting.pop(contact), at, 1_000)
        else:
            reason = UNREACHABLE if rng.random() < 0.5 else None
            c.status(f"a{rng.randrange(5)}", "not_ready" if reason else "available", at, reason)
    return c


def test_indexed_alerts_and_crossings_equal_the_walk_after_every_event() -> None:
    for seed in range(6):
        stats = LiveStats.for_queues(TARGETS)
        for event in random_day(seed, 300).events:
            stats.apply(event)
            now = stats.time
            for probe in (now, now + 1, now + 15_999, now + 16_000, now + 48_000, now + 60_001):
                assert current_alerts(stats, probe) == alerts_by_walking(stats, probe)
                assert next_crossing(stats, probe) == crossing_by_walking(stats, probe)
            queue_sizes = {q: len(stats.waiting_in(q)) for q in ("q1", "q2", "q3")}
            assert queue_sizes == {
                q: sum(1 for w in stats.waiting.values() if w.queue == q) for q in ("q1", "q2", "q3")
            }


def test_a_projection_restored_from_its_checkpoint_has_the_same_alerts() -> None:
    stats = LiveStats.for_queues(TARGETS)
    for event in random_day(99, 200).events:
        stats.apply(event)
    restored = LiveStats.from_json(stats.to_json(), TARGETS)
    later = stats.time + 40_000
    assert current_alerts(restored, later) == current_alerts(stats, later) != {}
    assert next_crossing(restored, stats.time) == next_crossing(stats, stats.time)
    assert restored.queue_figures("q1", later) == stats.queue_figures("q1", later)


def test_the_longest_wait_is_the_earliest_joiner_still_waiting() -> None:
    c = Centre()
    c.queued("early", "q1", 10_000, enqueued_ms=0)
    c.queued("late", "q1", 20_000)
    stats = LiveStats.for_queues(TARGETS)
    for event in c.events:
        stats.apply(event)
    assert stats.queue_figures("q1", T0 + 30_000)["longest_wait_s"] == 30
    stats.apply(c.abandoned("early", "q1", 31_000, 31_000))
    assert stats.queue_figures("q1", T0 + 31_000)["longest_wait_s"] == 11
