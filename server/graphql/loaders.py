"""DataLoaders built per request; each batch is one ``IN (…)`` query returning rows in key order.

Each loader (and each feature's container of loaders) is built on first use: most requests
use one or two of the ~40, and building them all took ~0.1 ms per request, ``__typename``
included.
"""

from __future__ import annotations

from functools import cached_property

from strawberry.dataloader import DataLoader

from server.audiences.loaders import AudienceLoaders
from server.catalog import service as catalog
from server.kit.loaders import RunInSession, batch_loader
from server.scenes.loaders import SceneLoaders
from server.similarity import service as similarity
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.strategy.loaders import StrategyLoaders


class Loaders:
    def __init__(self, run: RunInSession) -> None:
        self._run = run

    @cached_property
    def title(self) -> DataLoader[int, catalog.TitleColumns | None]:
        return batch_loader(self._run, catalog.titles_by_ids)

    @cached_property
    def tags(self) -> DataLoader[int, list[catalog.TagOnTitle]]:
        return batch_loader(self._run, catalog.tags_of_titles)

    @cached_property
    def credits(self) -> DataLoader[int, catalog.CreditsOfTitle]:
        return batch_loader(self._run, catalog.credits_of_titles)

    @cached_property
    def countries(self) -> DataLoader[int, list[catalog.CountryRow]]:
        return batch_loader(self._run, catalog.countries_of_titles)

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
