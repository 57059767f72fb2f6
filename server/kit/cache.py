"""A least-recently-used cache bounded by the bytes of what it holds, not by its entries.

Caches keyed by client text (query documents, persisted queries) must not let a client grow
memory by sending many large distinct texts: an entry count bounds nothing when each entry
may be a megabyte. Here every entry declares its size; past ``max_bytes`` the oldest go, and
an entry larger than ``max_entry_bytes`` is not kept at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes if max_entry_bytes is None else max_entry_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, size: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_entry_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


class ByIdentity(Generic[V]):
    """Values kept per object, by identity: for objects that are not hashable or whose
    equality costs (graphql-core's parsed documents and schema fields). An entry holds its
    objects, so their ids cannot be reused by others while it lives; past ``max_entries``
    all entries go at once (they are rebuilt on demand)."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[object, ...], tuple[tuple[object, ...], V]] = {}

    def get(self, owners: tuple[object, ...], extra: Hashable = None) -> V | None:
        """The value kept for these objects (and ``extra``), or None."""
        entry = self._entries.get((*map(id, owners), extra))
        if entry is None or any(a is not b for a, b in zip(entry[0], owners, strict=True)):
            return None
        return entry[1]

    def put(self, owners: tuple[object, ...], value: V, extra: Hashable = None) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(*map(id, owners), extra)] = (owners, value)
