"""Per-target heaps with lazy deletion, for the in-memory store.

An entry carries the epoch of the thing it points at; when the contact or agent moves on, its epoch
changes and old entries are skipped (and dropped) when they reach the top. This keeps every update
O(log n) instead of searching heaps to remove entries.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

Entry = tuple[int, str, int]  # (order key, id, epoch)


class TargetHeaps:
    def __init__(self, is_current: Callable[[str, int], bool]) -> None:
        self._heaps: dict[str, list[Entry]] = {}
        self._is_current = is_current

    def push(self, target: str, key: int, item_id: str, epoch: int) -> None:
        heapq.heappush(self._heaps.setdefault(target, []), (key, item_id, epoch))

    def top(self, target: str) -> Entry | None:
        heap = self._heaps.get(target)
        while heap:
            _key, item_id, epoch = heap[0]
            if self._is_current(item_id, epoch):
                return heap[0]
            heapq.heappop(heap)
        return None

    def best(self, targets: list[str]) -> tuple[Entry | None, str | None, list[tuple[str, Entry]]]:
        """The lowest entry across ``targets``, its target, and each target's top (the candidates)."""
        best: Entry | None = None
        best_target: str | None = None
        tops: list[tuple[str, Entry]] = []
        for target in targets:
            entry = self.top(target)
            if entry is None:
                continue
            tops.append((target, entry))
            if best is None or entry[:2] < best[:2]:
                best, best_target = entry, target
        return best, best_target, tops

    def current(self, target: str) -> list[Entry]:
        """Live entries of one target, in order (for listings, not the hot path)."""
        heap = self._heaps.get(target, [])
        seen: set[str] = set()
        out = []
        for entry in sorted(heap):
            if entry[1] not in seen and self._is_current(entry[1], entry[2]):
                seen.add(entry[1])
                out.append(entry)
        return out
