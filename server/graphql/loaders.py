"""DataLoaders built per request; each batch is one ``IN (…)`` query returning rows in key order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.audiences.loaders import AudienceLoaders
from server.catalog import service as catalog
from server.models.catalog import Title
from server.scenes.loaders import SceneLoaders
from server.similarity import service as similarity
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.strategy.loaders import StrategyLoaders

T = TypeVar("T")
RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class Loaders:
    def __init__(self, run: RunInSession) -> None:
        def batch(
            fn: Callable[[AsyncSession, Sequence[int]], Awaitable[Sequence[T]]],
        ) -> DataLoader[int, T]:
            async def load(keys: list[int]) -> Sequence[T]:
                result: Sequence[T] = await run(lambda session: fn(session, keys))
                return result

            return DataLoader(load_fn=load)

        self.title: DataLoader[int, Title | None] = batch(catalog.titles_by_ids)
        self.tags: DataLoader[int, list[catalog.TagOnTitle]] = batch(catalog.tags_of_titles)
        self.credits: DataLoader[int, catalog.CreditsOfTitle] = batch(catalog.credits_of_titles)
        self.countries: DataLoader[int, list[catalog.CountryRow]] = batch(
            catalog.countries_of_titles
        )
        self.micro_genres = MicroGenreLoaders(run)
        self.scenes = SceneLoaders(run)
        self.audiences = AudienceLoaders(run)
        self.strategy = StrategyLoaders(run)

        async def load_similar(
            keys: list[tuple[int, int]],
        ) -> list[list[similarity.Neighbour] | BaseException]:
            # One statement for every (title, first) key: a LATERAL nearest-neighbour scan per
            # title at the largest `first`, trimmed per key. Default facet weights, no filter.
            ids = list(dict.fromkeys(title_id for title_id, _ in keys))
            depth = max(first for _, first in keys)
            found = await run(lambda session: similarity.similar_for_titles(session, ids, depth))
            return [
                found[title_id][:first]
                if title_id in found
                else similarity.TitleNotEmbedded(title_id)
                for title_id, first in keys
            ]

        self.similar: DataLoader[tuple[int, int], list[similarity.Neighbour]] = DataLoader(
            load_fn=load_similar
        )
