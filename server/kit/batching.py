"""The shape a batched (DataLoader) read returns: one result per requested key, in order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def lists_by_key(pairs: Iterable[tuple[K, V]], keys: Sequence[K]) -> list[list[V]]:
    """The values of ``(key, value)`` pairs grouped per key, in the order they came, one list
    per requested key (empty when it has none)."""
    grouped: dict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return [grouped.get(key, []) for key in keys]
