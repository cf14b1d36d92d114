"""Small statistics for the benchmark: nearest-rank percentiles over a sorted list."""

from __future__ import annotations

import gc
import math
import statistics
from dataclasses import dataclass

from cti import runtime


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of an already sorted, non-empty list."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    """Per-operation latency in milliseconds and the throughput of the same run."""

    p50_ms: float
    p99_ms: float
    ops_per_s: float
    samples: int

    @classmethod
    def of(cls, durations_ns: list[int], elapsed_s: float) -> Latency:
        ordered = sorted(d / 1e6 for d in durations_ns)
        return cls(percentile(ordered, 50), percentile(ordered, 99), len(ordered) / elapsed_s, len(ordered))


def median(values: list[float]) -> float:
    return statistics.median(values)


# The serving process's thresholds (``cti.runtime``): the bench runs with what ``frontdoor serve`` uses.
GC_THRESHOLDS = runtime.GC_THRESHOLDS


def settle_gc() -> None:
    """Collect, then freeze: the objects built so far are never scanned again by a collection, so a
    full collection cannot stall a timed loop (see performance.md)."""
    gc.collect()
    gc.freeze()
