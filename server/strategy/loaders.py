"""Per-request DataLoaders of the strategy feature (built on first use by ``Context.loaders``)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from server.kit.loaders import RunInSession, batch_loader
from server.strategy import batches, service


class StrategyLoaders:
    def __init__(self, run: RunInSession) -> None:
        self.micro_genre_demand: DataLoader[tuple[str, int], service.Gap | None] = batch_loader(
            run, service.stored_micro_genre_demand
        )
        self.title_demand: DataLoader[tuple[int, str], batches.TitleDemand | None] = batch_loader(
            run, batches.demand_of_titles
        )
        self.comparables: DataLoader[int, list[batches.Comparable]] = batch_loader(
            run, batches.comparables_of_titles
        )
        self.travelability: DataLoader[int, batches.Travel | None] = batch_loader(
            run, batches.travelability_of_micro_genres
        )
        self.genre_examples: DataLoader[tuple[str, int], list[int]] = batch_loader(
            run, batches.catalog_examples
        )
