"""Per-request DataLoaders of the catalog: titles and what hangs off them (built on first use
by ``Context.loaders``)."""

from __future__ import annotations

from functools import cached_property

from strawberry.dataloader import DataLoader

from server.catalog import service
from server.kit.loaders import RunInSession, batch_loader


class CatalogLoaders:
    def __init__(self, run: RunInSession) -> None:
        self._run = run

    @cached_property
    def title(self) -> DataLoader[int, service.TitleColumns | None]:
        return batch_loader(self._run, service.titles_by_ids)

    @cached_property
    def tags(self) -> DataLoader[int, list[service.TagOnTitle]]:
        return batch_loader(self._run, service.tags_of_titles)

    @cached_property
    def credits(self) -> DataLoader[int, service.CreditsOfTitle]:
        return batch_loader(self._run, service.credits_of_titles)

    @cached_property
    def countries(self) -> DataLoader[int, list[service.CountryRow]]:
        return batch_loader(self._run, service.countries_of_titles)
