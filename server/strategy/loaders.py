"""Per-request DataLoaders of the strategy feature (built by ``server.graphql.loaders``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.strategy import batches, service

K = TypeVar("K")
T = TypeVar("T")
RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class StrategyLoaders:
    def __init__(self, run: RunInSession) -> None:
        def batch(
            fn: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[T]]],
        ) -> DataLoader[K, T]:
            async def load(keys: list[K]) -> Sequence[T]:
                result: Sequence[T] = await run(lambda session: fn(session, keys))
                return result

            return DataLoader(load_fn=load)

        self.micro_genre_demand: DataLoader[tuple[str, int], service.Gap | None] = batch(
            service.stored_micro_genre_demand
        )
        self.title_demand: DataLoader[tuple[int, str], batches.TitleDemand | None] = batch(
            batches.demand_of_titles
        )
        self.comparables: DataLoader[int, list[batches.Comparable]] = batch(
            batches.comparables_of_titles
        )
        self.travelability: DataLoader[int, batches.Travel | None] = batch(
            batches.travelability_of_micro_genres
        )
        self.genre_examples: DataLoader[tuple[str, int], list[int]] = batch(
            batches.catalog_examples
        )
