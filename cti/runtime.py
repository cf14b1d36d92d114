"""Process settings that the server and its benchmark must share, or the figures would not hold."""

from __future__ import annotations

import gc

# Young collections short, older ones rare. A young collection's pause grows with the objects it
# scans: at 50,000 one took 20-50 ms with 2,000 websockets open and delayed every offer behind it;
# at 5,000 it takes under 10 ms (measured with gc.callbacks at 200 calls/s). The middle generation
# is collected after 200 young collections, so an object must survive the same volume of
# allocations as with (50,000, 20) before it is promoted: no more full collections than before (a
# full one over 2,000 connections takes about 0.3 s). Python's default (700, 10, 10) promotes after
# 7,000 allocations instead of 1,000,000 and spent a quarter of a memory-store decision collecting.
GC_THRESHOLDS = (5_000, 200, 20)


def tune_gc() -> None:
    """Set the collector's thresholds for a serving process (``frontdoor serve``, the bench server)."""
    gc.set_threshold(*GC_THRESHOLDS)
