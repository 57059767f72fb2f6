"""Per-request DataLoaders of micro-genres (built on first use by ``Context.loaders``)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from server.kit.loaders import RunInSession, batch_loader
from server.models.catalog import Title
from server.similarity.microgenres import service as service
from server.similarity.microgenres.service import MicroGenreRow


class MicroGenreLoaders:
    def __init__(self, run: RunInSession) -> None:
        async def titles(keys: list[tuple[int, int]]) -> list[list[Title]]:
            # One statement for every (micro-genre, first) key, at the largest `first`.
            ids = list(dict.fromkeys(mg for mg, _ in keys))
            depth = max(first for _, first in keys)
            found: dict[int, list[Title]] = await run(
                lambda s: service.titles_of_micro_genres(s, ids, depth)
            )
            return [found.get(mg, [])[:first] for mg, first in keys]

        self.of_title: DataLoader[int, list[MicroGenreRow]] = batch_loader(
            run, service.micro_genres_of_titles
        )
        self.by_id: DataLoader[int, MicroGenreRow | None] = batch_loader(
            run, service.micro_genres_by_ids
        )
        self.titles: DataLoader[tuple[int, int], list[Title]] = DataLoader(load_fn=titles)
