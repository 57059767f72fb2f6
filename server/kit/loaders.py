"""The one way a per-request DataLoader runs a batch function in the request's session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

K = TypeVar("K")
T = TypeVar("T")
RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
"""``Context.db``: runs a function of the request's session, serialised with its other uses."""


def batch_loader(
    run: RunInSession, fn: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[T]]]
) -> DataLoader[K, T]:
    """A DataLoader whose batches call ``fn(session, keys)`` (results in key order)."""

    async def load(keys: list[K]) -> Sequence[T]:
        result: Sequence[T] = await run(lambda session: fn(session, keys))
        return result

    return DataLoader(load_fn=load)
