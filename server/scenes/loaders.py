"""Per-request DataLoaders of the scene fields of ``Title`` (built by ``graphql.loaders``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from server.scenes import service
from server.scenes.service import Curve, SceneRow, Summary

RunInSession = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]


class SceneLoaders:
    def __init__(self, run: RunInSession) -> None:
        async def of_title(keys: list[tuple[int, int | None, int]]) -> list[list[SceneRow]]:
            result: list[list[SceneRow]] = await run(lambda s: service.scenes_for_keys(s, keys))
            return result

        async def curves(keys: list[tuple[int, int | None, str | None]]) -> list[Curve | None]:
            result: list[Curve | None] = await run(lambda s: service.curves_for_keys(s, keys))
            return result

        async def summaries(keys: list[int]) -> list[Summary | None]:
            result: list[Summary | None] = await run(
                lambda s: service.summaries_for_titles(s, keys)
            )
            return result

        self.of_title: DataLoader[tuple[int, int | None, int], list[SceneRow]] = DataLoader(
            load_fn=of_title
        )
        self.curve: DataLoader[tuple[int, int | None, str | None], Curve | None] = DataLoader(
            load_fn=curves
        )
        self.summary: DataLoader[int, Summary | None] = DataLoader(load_fn=summaries)
