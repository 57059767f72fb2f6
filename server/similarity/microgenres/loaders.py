"""Per-request DataLoaders of micro-genres (built by ``server.graphql.loaders.Loaders``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.models.catalog import Title
from server.similarity.microgenres import service as service
from server.similarity.microgenres.service import MicroGenreRow

RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class MicroGenreLoaders:
    def __init__(self, run: RunInSession) -> None:
        async def of_titles(keys: list[int]) -> list[list[MicroGenreRow]]:
            result: list[list[MicroGenreRow]] = await run(
                lambda s: service.micro_genres_of_titles(s, keys)
            )
            return result

        async def by_ids(keys: list[int]) -> list[MicroGenreRow | None]:
            result: list[MicroGenreRow | None] = await run(
                lambda s: service.micro_genres_by_ids(s, keys)
            )
            return result

        async def titles(keys: list[tuple[int, int]]) -> list[list[Title]]:
            # One statement for every (micro-genre, first) key, at the largest `first`.
            ids = list(dict.fromkeys(mg for mg, _ in keys))
            depth = max(first for _, first in keys)
            found: dict[int, list[Title]] = await run(
                lambda s: service.titles_of_micro_genres(s, ids, depth)
            )
            return [found.get(mg, [])[:first] for mg, first in keys]

        self.of_title: DataLoader[int, list[MicroGenreRow]] = DataLoader(load_fn=of_titles)
        self.by_id: DataLoader[int, MicroGenreRow | None] = DataLoader(load_fn=by_ids)
        self.titles: DataLoader[tuple[int, int], list[Title]] = DataLoader(load_fn=titles)
