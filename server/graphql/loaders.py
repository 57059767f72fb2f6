"""DataLoaders built per request; each batch is one ``IN (…)`` query returning rows in key order.

Each loader (and each feature's container of loaders) is built on first use: most requests
use one or two of the ~40, and building them all took ~0.1 ms per request, ``__typename``
included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.audiences.loaders import AudienceLoaders
from server.catalog import service as catalog
from server.scenes.loaders import SceneLoaders
from server.similarity import service as similarity
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.strategy.loaders import StrategyLoaders

K = TypeVar("K")
T = TypeVar("T")
RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class Loaders:
    def __init__(self, run: RunInSession) -> None:
        self._run = run

    def _batch(
        self, fn: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[T]]]
    ) -> DataLoader[K, T]:
        run = self._run

        async def load(keys: list[K]) -> Sequence[T]:
            result: Sequence[T] = await run(lambda session: fn(session, keys))
            return result

        return DataLoader(load_fn=load)

    @cached_property
    def title(self) -> DataLoader[int, catalog.TitleColumns | None]:
        return self._batch(catalog.titles_by_ids)

    @cached_property
    def tags(self) -> DataLoader[int, list[catalog.TagOnTitle]]:
        return self._batch(catalog.tags_of_titles)

    @cached_property
    def credits(self) -> DataLoader[int, catalog.CreditsOfTitle]:
        return self._batch(catalog.credits_of_titles)

    @cached_property
    def countries(self) -> DataLoader[int, list[catalog.CountryRow]]:
        return self._batch(catalog.countries_of_titles)

    @cached_property
    def micro_genres(self) -> MicroGenreLoaders:
        return MicroGenreLoaders(self._run)

    @cached_property
    def scenes(self) -> SceneLoaders:
        return SceneLoaders(self._run)

    @cached_property
    def audiences(self) -> AudienceLoaders:
        return AudienceLoaders(self._run)

    @cached_property
    def strategy(self) -> StrategyLoaders:
        return StrategyLoaders(self._run)

    @cached_property
    def similar(self) -> DataLoader[tuple[int, int, bool], list[similarity.Neighbour]]:
        run = self._run

        async def load_similar(
            keys: list[tuple[int, int, bool]],
        ) -> list[list[similarity.Neighbour] | BaseException]:
            # One statement for every (title, first, explain) key: a LATERAL nearest-neighbour
            # scan per title at the largest `first`, trimmed per key, with the explanations
            # when any key wants them. Default facet weights, no filter.
            ids = list(dict.fromkeys(title_id for title_id, _, _ in keys))
            depth = max(first for _, first, _ in keys)
            explain = any(explain for _, _, explain in keys)
            found = await run(
                lambda session: similarity.similar_for_titles(session, ids, depth, explain=explain)
            )
            return [
                found[title_id][:first]
                if title_id in found
                else similarity.TitleNotEmbedded(title_id)
                for title_id, first, _ in keys
            ]

        return DataLoader(load_fn=load_similar)
