"""Per-request DataLoader of nearest neighbours (built on first use by ``Context.loaders``)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from server.kit.loaders import RunInSession
from server.similarity import service


class SimilarityLoaders:
    def __init__(self, run: RunInSession) -> None:
        async def similar(
            keys: list[tuple[int, int, bool]],
        ) -> list[list[service.Neighbour] | BaseException]:
            # One statement for every (title, first, explain) key: a LATERAL nearest-neighbour
            # scan per title at the largest `first`, trimmed per key, with the explanations
            # when any key wants them. Default facet weights, no filter.
            ids = list(dict.fromkeys(title_id for title_id, _, _ in keys))
            depth = max(first for _, first, _ in keys)
            explain = any(explain for _, _, explain in keys)
            found = await run(
                lambda session: service.similar_for_titles(session, ids, depth, explain=explain)
            )
            return [
                found[title_id][:first] if title_id in found else service.TitleNotEmbedded(title_id)
                for title_id, first, _ in keys
            ]

        self.similar: DataLoader[tuple[int, int, bool], list[service.Neighbour]] = DataLoader(
            load_fn=similar
        )
