"""Process settings that the server and its benchmark must share, or the figures would not hold."""

from __future__ import annotations

import gc

# Fewer, larger young collections: the default (700) spends a quarter of a memory-store decision in
# the collector, and a serving process with thousands of websockets keeps many young objects alive.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Set the collector's thresholds for a serving process (``frontdoor serve``, the bench server)."""
    gc.set_threshold(*GC_THRESHOLDS)
