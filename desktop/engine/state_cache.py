"""A small LRU of saved llama.cpp states, so returning to a recent chat skips reprocessing."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class StateCache:
    """Keyed by conversation; bounded by total bytes, oldest dropped first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, list[int], int]] = OrderedDict()
        self.bytes_used = 0

    def put(self, key: str, state: Any, tokens: list[int], size: int) -> None:
        self.discard(key)
        if size > self.max_bytes:
            return
        self._items[key] = (state, tokens, size)
        self.bytes_used += size
        while self.bytes_used > self.max_bytes and self._items:
            _, (_, _, old_size) = self._items.popitem(last=False)
            self.bytes_used -= old_size

    def get(self, key: str) -> tuple[Any, list[int]] | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0], item[1]

    def discard(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.bytes_used -= item[2]

    def clear(self) -> None:
        self._items.clear()
        self.bytes_used = 0

    def __len__(self) -> int:
        return len(self._items)


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
