"""Per-request DataLoaders of the audiences feature (built by ``server.graphql.loaders``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.audiences import service
from server.audiences.profiles import AudienceSpace

K = TypeVar("K")
T = TypeVar("T")
RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class AudienceLoaders:
    def __init__(self, run: RunInSession) -> None:
        self._run = run

        def batch(
            fn: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[T]]],
        ) -> DataLoader[K, T]:
            async def load(keys: list[K]) -> Sequence[T]:
                result: Sequence[T] = await run(lambda session: fn(session, keys))
                return result

            return DataLoader(load_fn=load)

        self.region: DataLoader[str, service.RegionRow | None] = batch(service.regions_by_codes)
        self.genres: DataLoader[str, list[service.GenreLift]] = batch(service.genres_of_regions)
        self.micro_genres: DataLoader[str, list[service.MicroGenreLift]] = batch(
            service.micro_genres_of_regions
        )
        self.cohort: DataLoader[int, service.CohortRow | None] = batch(service.cohorts_by_ids)
        self.cohort_members: DataLoader[int, list[service.RegionRow]] = batch(
            service.members_of_cohorts
        )
        self.cohort_children: DataLoader[int, list[service.CohortRow]] = batch(
            service.children_of_cohorts
        )
        self.cohort_of_region: DataLoader[str, int | None] = batch(service.cohort_of_regions)
        self.performance: DataLoader[int, list[service.Performance]] = batch(
            service.performance_of_titles
        )
        self.travelability: DataLoader[int, service.Travelability | None] = batch(
            service.travelability_of_titles
        )
        self._space: asyncio.Task[AudienceSpace] | None = None

    async def space(self) -> AudienceSpace:
        """The audience similarity of every region, computed once per request."""
        if self._space is None:
            self._space = asyncio.ensure_future(self._run(service.load_audience_space))
        return await self._space
