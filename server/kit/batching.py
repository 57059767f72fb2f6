"""The shape a batched (DataLoader) read returns: one result per requested key, in order."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def grouped(pairs: Iterable[tuple[K, V]]) -> dict[K, list[V]]:
    """The values of ``(key, value)`` pairs grouped per key, in the order they came: rows of a
    child table read in one statement (ordered by parent) and handed out per parent, instead of
    a correlated subquery per parent."""
    groups: dict[K, list[V]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


def lists_by_key(pairs: Iterable[tuple[K, V]], keys: Sequence[K]) -> list[list[V]]:
    """The values of ``(key, value)`` pairs grouped per key, in the order they came, one list
    per requested key (empty when it has none)."""
    groups = grouped(pairs)
    return [groups.get(key, []) for key in keys]
