"""Per-request DataLoaders of the audiences feature (built on first use by ``Context.loaders``)."""

from __future__ import annotations

import asyncio

from strawberry.dataloader import DataLoader

from server.audiences import service
from server.audiences.profiles import AudienceSpace
from server.kit.loaders import RunInSession, batch_loader


class AudienceLoaders:
    def __init__(self, run: RunInSession) -> None:
        self._run = run

        self.region: DataLoader[str, service.RegionRow | None] = batch_loader(
            run, service.regions_by_codes
        )
        self.genres: DataLoader[str, list[service.GenreLift]] = batch_loader(
            run, service.genres_of_regions
        )
        self.micro_genres: DataLoader[str, list[service.MicroGenreLift]] = batch_loader(
            run, service.micro_genres_of_regions
        )
        self.cohort: DataLoader[int, service.CohortRow | None] = batch_loader(
            run, service.cohorts_by_ids
        )
        self.cohort_members: DataLoader[int, list[service.RegionRow]] = batch_loader(
            run, service.members_of_cohorts
        )
        self.cohort_children: DataLoader[int, list[service.CohortRow]] = batch_loader(
            run, service.children_of_cohorts
        )
        self.cohort_of_region: DataLoader[str, int | None] = batch_loader(
            run, service.cohort_of_regions
        )
        self.performance: DataLoader[int, list[service.Performance]] = batch_loader(
            run, service.performance_of_titles
        )
        self.travelability: DataLoader[int, service.Travelability | None] = batch_loader(
            run, service.travelability_of_titles
        )
        self._space: asyncio.Task[AudienceSpace] | None = None

    async def space(self) -> AudienceSpace:
        """The audience similarity of every region, computed once per request."""
        if self._space is None:
            self._space = asyncio.ensure_future(self._run(service.load_audience_space))
        return await self._space
