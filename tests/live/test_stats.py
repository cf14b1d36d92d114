"""The projection on synthetic events with explicit times: domain.md's definitions, worked through."""

from __future__ import annotations

from cti.live.stats import LiveStats, day_bounds
from tests.live.events import T0, TARGETS, Centre, london_ms


def fold(centre: Centre, stats: LiveStats | None = None) -> LiveStats:
    stats = stats or LiveStats.for_queues(TARGETS)
    for event in centre.events:
        stats.apply(event)
    return stats


def test_service_level_abandon_rate_and_asa_worked_example() -> None:
    # q1: threshold 60 s, abandon threshold 30 s. 10 offered: 6 answered within 60 s, 2 after,
    # 1 abandoned at 10 s (before the abandon threshold), 1 abandoned at 45 s (after it).
    c = Centre()
    waits = [5_000, 10_000, 20_000, 30_000, 59_000, 60_000, 61_000, 120_000]
    for i, waited in enumerate(waits):
        c.queued(f"a{i}", "q1", 0)
        c.answered(f"a{i}", f"agent{i}", "q1", waited, waited)
    c.queued("x1", "q1", 0)
    c.abandoned("x1", "q1", 10_000, 10_000)
    c.queued("x2", "q1", 0)
    c.abandoned("x2", "q1", 45_000, 45_000)
    figures = fold(c).queue_figures("q1", T0 + 200_000)
    assert figures["offered"] == 10
    assert (figures["answered"], figures["answered_within"]) == (8, 6)  # 60 000 ms is within
    assert (figures["abandoned"], figures["abandoned_after"]) == (2, 1)
    assert figures["service_level"] == round(6 / (8 + 1), 4) == 0.6667
    assert figures["abandon_rate"] == 0.2
    assert figures["asa_s"] == round(sum(waits) / 8 / 1000, 1) == 45.6
    assert figures["waiting"] == 0 and figures["longest_wait_s"] == 0
    assert (figures["threshold_s"], figures["target"]) == (60, 0.8)


def test_no_calls_means_no_ratio_rather_than_zero() -> None:
    figures = LiveStats.for_queues(TARGETS).queue_figures("q1", T0)
    assert figures["service_level"] is None and figures["abandon_rate"] is None and figures["asa_s"] is None


def test_abandoned_exactly_at_the_abandon_threshold_is_not_after_it() -> None:
    c = Centre()
    c.queued("x", "q1", 0)
    c.abandoned("x", "q1", 30_000, 30_000)
    c.queued("y", "q1", 0)
    c.abandoned("y", "q1", 30_001, 30_001)
    figures = fold(c).queue_figures("q1", T0 + 40_000)
    assert (figures["abandoned"], figures["abandoned_after"]) == (2, 1)
    assert figures["service_level"] == 0.0  # nobody answered, one abandoned after the threshold


def test_hanging_up_in_the_ivr_is_not_an_abandoned_queue_call() -> None:
    c = Centre()
    c.abandoned("ivr1", "q1", 5_000, 5_000, was="ivr")
    assert fold(c).queue_figures("q1", T0 + 6_000)["abandoned"] == 0


def test_waiting_and_longest_wait_are_measured_at_read_time_from_enqueue_times() -> None:
    c = Centre()
    c.queued("early", "q1", 10_000, enqueued_ms=-50_000)  # a callback keeps its original place
    c.queued("late", "q1", 20_000)
    c.offered("late", "agent1", "q1", 21_000)  # ringing: the caller is still waiting
    stats = fold(c)
    assert stats.queue_figures("q1", T0 + 30_000)["waiting"] == 2
    assert stats.queue_figures("q1", T0 + 30_000)["longest_wait_s"] == 80
    assert stats.queue_figures("q1", T0 + 30_999)["longest_wait_s"] == 80
    assert stats.queue_figures("q1", T0 + 31_000)["longest_wait_s"] == 81
    assert stats.queue_figures("q2", T0 + 30_000)["waiting"] == 0


def test_a_moved_contact_waits_in_its_new_queue_and_counts_as_offered_there() -> None:
    c = Centre()
    c.queued("m", "q1", 0)
    c.ev("contact.moved", 5_000, contact="m", queue="q2", targets=["q2"])
    c.ev("contact.priority", 6_000, contact="m", priority=9)
    stats = fold(c)
    assert stats.queue_figures("q1", T0 + 7_000)["waiting"] == 0
    assert stats.queue_figures("q2", T0 + 7_000)["waiting"] == 1
    assert stats.queue_figures("q2", T0 + 7_000)["offered"] == 1
    assert stats.waiting["m"].priority == 9


def test_agent_status_reason_engine_since_and_contact() -> None:
    c = Centre()
    c.status("agent1", "available", 0)
    c.queued("k", "q1", 1_000)
    c.offered("k", "agent1", "q1", 1_000)
    c.answered("k", "agent1", "q1", 3_000, 2_000)
    c.ev("contact.held", 4_000, contact="k", agent="agent1")  # no change of state for the view
    c.ev("contact.wrap_up", 9_000, contact="k", agent="agent1", queue="q1", by="agent", wrap_up_until=0)
    stats = fold(c)
    assert stats.agents["agent1"].figures() == {
        "agent": "agent1",
        "status": "available",
        "reason": None,
        "engine": "wrap_up",
        "since": T0 + 9_000,
        "contact": "k",
    }
    c.ev("contact.closed", 12_000, contact="k", agent="agent1", queue="q1", by="agent")
    c.ev("agent.engine", 12_000, agent="agent1", engine="idle", status="available")
    c.status("agent1", "not_ready", 15_000, reason="break")
    stats = fold(c, stats)
    view = stats.agents["agent1"]
    assert (view.status, view.reason, view.engine, view.contact, view.since) == (
        "not_ready",
        "break",
        "idle",
        None,
        T0 + 15_000,
    )


def test_an_event_already_reflected_is_ignored() -> None:
    c = Centre()
    c.queued("k", "q1", 0)
    stats = fold(c)
    stats.apply(c.events[0])
    assert stats.queue_figures("q1", T0)["offered"] == 1


def test_day_rollover_resets_the_counters_at_london_midnight_and_keeps_who_is_waiting() -> None:
    # Summer time: London midnight is 23:00 UTC.
    evening = london_ms(2026, 7, 1, 23, 59, 0)
    c = Centre(evening)
    c.queued("a", "q1", 0)
    c.answered("a", "agent1", "q1", 10_000, 10_000)
    c.queued("b", "q1", 20_000)
    stats = fold(c)
    assert stats.day == "2026-07-01" and stats.queue_figures("q1", evening + 30_000)["answered"] == 1
    assert day_bounds(evening) == ("2026-07-01", london_ms(2026, 7, 2, 0, 0, 0))
    assert london_ms(2026, 7, 2, 0, 0, 0) % 86_400_000 == 23 * 3_600_000

    c.abandoned("b", "q1", 65_000, 45_000)  # 00:00:05 the next day
    stats = fold(c, stats)
    figures = stats.queue_figures("q1", evening + 70_000)
    assert stats.day == "2026-07-02"
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (0, 0, 1)
    assert figures["abandon_rate"] is None  # offered yesterday, abandoned today
    assert figures["day"] == "2026-07-02"


def test_moving_time_alone_rolls_the_day_over() -> None:
    c = Centre(london_ms(2026, 3, 28, 23, 0, 0))  # the night the clocks go forward
    c.queued("w", "q1", 0)
    stats = fold(c)
    assert not stats.move_to(london_ms(2026, 3, 28, 23, 59, 59))
    assert stats.move_to(london_ms(2026, 3, 29, 0, 0, 0))
    assert stats.day == "2026-03-29" and stats.daily == {} and "w" in stats.waiting
    assert stats.day_end - london_ms(2026, 3, 29, 0, 0, 0) == 23 * 3_600_000  # a 23-hour day


def test_time_never_goes_back_for_an_event_stamped_earlier() -> None:
    c = Centre()
    c.queued("a", "q1", 10_000)
    c.status("agent1", "available", 5_000)  # another node's clock is behind
    stats = fold(c)
    assert stats.time == T0 + 10_000 and stats.agents["agent1"].since == T0 + 10_000


def test_checkpoint_round_trip_gives_the_same_figures() -> None:
    c = Centre()
    c.status("agent1", "available", 0)
    c.queued("a", "q1", 0)
    c.answered("a", "agent1", "q1", 70_000, 70_000)
    c.queued("b", "q2", 80_000)
    stats = fold(c)
    again = LiveStats.from_json(stats.to_json(), TARGETS)
    assert again == stats
    now = T0 + 90_000
    assert [again.queue_figures(q, now) for q in TARGETS] == [stats.queue_figures(q, now) for q in TARGETS]
