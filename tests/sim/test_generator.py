from __future__ import annotations

import re
import statistics
from collections import Counter
from itertools import islice

import pytest

from cti.domain.codes import OUTCOME_CODES, REASON_CODES
from cti.sim.generator import (
    ACCESS_QUEUES,
    ACCESS_WEIGHTS,
    FRONT_DOOR,
    PROFESSIONAL_LINE,
    PROFESSIONAL_MENU,
    PUBLIC_MENU,
    Arrival,
    CallerGenerator,
)
from cti.sim.outcomes import DISPOSITIONS

KNOWN = [f"+447700900{n:03d}" for n in range(100, 140)]
REFERRERS = [f"+441632960{n:03d}" for n in range(10, 20)]


def take(n: int, seed: int = 7, rate: float = 6.0) -> list[Arrival]:
    return list(islice(CallerGenerator(seed, rate, KNOWN, REFERRERS), n))


def test_same_seed_gives_the_same_callers() -> None:
    assert take(300) == take(300)
    assert take(300) != take(300, seed=8)


def test_the_generator_can_be_iterated_again_from_the_start() -> None:
    generator = CallerGenerator(3, 10.0, KNOWN)
    assert list(islice(generator, 50)) == list(islice(generator, 50))


def test_arrivals_follow_the_rate_in_time_order() -> None:
    arrivals = take(2000, rate=12.0)
    offsets = [a.offset_s for a in arrivals]
    assert offsets == sorted(offsets)
    gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
    assert statistics.mean(gaps) == pytest.approx(5.0, rel=0.1)  # 12 a minute
    assert [a.seq for a in arrivals] == list(range(1, 2001))


def test_mix_matches_the_benefit_shares() -> None:
    arrivals = take(2000)
    by_access = Counter(a.access for a in arrivals)
    total = sum(ACCESS_WEIGHTS.values())
    for access, weight in ACCESS_WEIGHTS.items():
        assert by_access[access] / 2000 == pytest.approx(weight / total, abs=0.03), access
    expected: dict[str, float] = {}
    for access, weight in ACCESS_WEIGHTS.items():
        for queue, share in ACCESS_QUEUES[access].items():
            expected[queue] = expected.get(queue, 0.0) + weight / total * share
    by_queue = Counter(a.queue for a in arrivals)
    assert set(by_queue) == set(expected)
    for queue, share in expected.items():
        assert by_queue[queue] / 2000 == pytest.approx(share, abs=0.03), queue


def test_callers_use_the_menus_and_numbers_of_their_type() -> None:
    arrivals = take(2000)
    types = Counter(a.caller_type for a in arrivals)
    assert 0.35 < types["professional"] / 2000 < 0.5
    assert types["carer"] > 0
    assert types["public"] > types["carer"]
    for a in arrivals:
        professional = a.caller_type == "professional"
        assert a.ivr["menu"] == (PROFESSIONAL_MENU if professional else PUBLIC_MENU)[a.queue]
        assert a.dialled in (FRONT_DOOR, PROFESSIONAL_LINE)
        if a.dialled == PROFESSIONAL_LINE:
            assert professional
            assert "caller" not in a.ivr
        else:
            assert a.ivr["caller"] == ("1" if professional else "2")
        if a.queue in ("bed_bureau", "chs_spa", "icrs_rapid_response"):
            assert professional


def test_callers_ring_from_known_or_drama_range_numbers() -> None:
    arrivals = take(2000)
    withheld = sum(a.cli is None for a in arrivals)
    assert withheld / 2000 == pytest.approx(0.05, abs=0.02)
    known = [a for a in arrivals if a.cli in KNOWN or a.cli in REFERRERS]
    assert len(known) / 2000 == pytest.approx(0.80, abs=0.04)
    for a in arrivals:
        if a.cli is None:
            continue
        assert re.fullmatch(r"\+44(7700900|1632960)\d{3}", a.cli), a.cli
        if a.cli in REFERRERS:
            assert a.caller_type == "professional"


def test_professionals_are_more_patient() -> None:
    arrivals = take(2000)
    pro = [a.patience_s for a in arrivals if a.caller_type == "professional"]
    public = [a.patience_s for a in arrivals if a.caller_type != "professional"]
    assert statistics.mean(public) == pytest.approx(120, rel=0.15)
    assert statistics.mean(pro) > 1.5 * statistics.mean(public)
    assert all(5 <= p <= 1800 for p in pro + public)
    quitters = [a for a in arrivals if a.hangs_up_after_s is not None]
    assert 0.05 < len(quitters) / 2000 < 0.15


def test_without_known_numbers_every_caller_is_unknown_or_withheld() -> None:
    arrivals = list(islice(CallerGenerator(1, 6.0), 200))
    assert all(a.cli is None or a.cli.startswith(("+447700900", "+441632960")) for a in arrivals)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        CallerGenerator(1, 0)


def test_wrap_up_tables_use_known_codes() -> None:
    for queue, options in DISPOSITIONS.items():
        for option in options:
            assert option.outcome in OUTCOME_CODES, queue
            assert all(code in REASON_CODES for code in option.reasons), queue
    assert any("progress_chase" in o.reasons for o in DISPOSITIONS["status_enquiry"])
