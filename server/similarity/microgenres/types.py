"""GraphQL types of micro-genres and the similarity map: thin, built from service results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from server.catalog.types import Title, TitleFilter, title_reads
from server.kit.ids import parse_id
from server.kit.pagination import check_first, encode_cursor
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.kit.resolving.pagination import PageInfo, after_key, page_size
from server.kit.resolving.selection import under
from server.similarity.microgenres import service as service
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.similarity.microgenres.service import (
    MAX_GENRE_TITLES,
    MAX_MAP_NEIGHBOURS,
    MAX_MAP_NODES,
    MicroGenreRow,
)
from server.strategy.inputs import MarketInput

if TYPE_CHECKING:
    from server.strategy.types import ContentGap, MicroGenreTravelability

MICRO_GENRE_CURSOR = "microgenre"


@strawberry.type(
    description=(
        "A feature that over-indexes in a micro-genre. `kind`: GENRE, THEME, MOOD, SETTING, "
        "AUDIENCE, FORMAT (tags); KEYWORD (a synopsis concept), TERM (a synopsis word); ORIGIN "
        "(country of origin or a group of countries), LANGUAGE, ERA (decade), MATURITY."
    )
)
class MicroGenreDescriptor:
    kind: str
    name: str
    lift: float = strawberry.field(description="Share in the micro-genre / share in the catalog.")
    share: float = strawberry.field(description="Share of the micro-genre's titles (0..1).")
    titles: int = strawberry.field(description="Titles of the micro-genre that have it.")


@strawberry.type(
    description=(
        "A fine-grained cluster of similar titles nested under a broad genre, named from what "
        "over-indexes in it (`contentintel cluster`)."
    )
)
class MicroGenre:
    id: strawberry.ID
    label: str
    size: int = strawberry.field(description="Titles whose primary micro-genre this is.")
    parent_genre: str | None = strawberry.field(
        description="The broad genre it is nested under (its titles' most specific genre)."
    )
    top_tags: list[MicroGenreDescriptor] = strawberry.field(
        description="What over-indexes in it, those in the label first."
    )

    @classmethod
    def from_row(cls, row: MicroGenreRow) -> MicroGenre:
        return cls(
            id=strawberry.ID(str(row.id)),
            label=row.label,
            size=row.size,
            parent_genre=row.parent_genre,
            top_tags=[
                MicroGenreDescriptor(
                    kind=str(t.get("kind", "")),
                    name=str(t.get("name", "")),
                    lift=float(t.get("lift", 0.0)),
                    share=float(t.get("share", 0.0)),
                    titles=int(t.get("titles", 0)),
                )
                for t in row.top_tags
            ],
        )

    @strawberry.field(
        description=(
            f"Titles whose primary micro-genre this is, most typical first (`first` in "
            f"0..{MAX_GENRE_TITLES}); batched across micro-genres."
        )
    )
    async def titles(self, info: Info, first: int | None = 20) -> list[Title]:
        size = check_first(first, MAX_GENRE_TITLES, default=20, minimum=0)
        rows = await info.context.loaders(MicroGenreLoaders).titles.load((int(self.id), size))
        return [Title.from_model(t) for t in rows]

    @strawberry.field(
        description=(
            "Demand vs supply of this micro-genre in a market over every chart week (hard "
            "membership, catalog supply; see `contentGaps`); null when not computed "
            "(`contentintel scores`). BAD_USER_INPUT for an unknown region or cohort."
        )
    )
    async def demand(
        self,
        info: Info,
        market: MarketInput,
    ) -> Annotated[ContentGap, strawberry.lazy("server.strategy.types")] | None:
        from server.strategy.types import demand_of_micro_genre

        return await demand_of_micro_genre(info, int(self.id), market)

    @strawberry.field(
        description=(
            "Chart points its titles earn outside their origin countries / all their points, "
            "with a 90% interval; null when none of its titles charted."
        )
    )
    async def travelability(
        self, info: Info
    ) -> Annotated[MicroGenreTravelability, strawberry.lazy("server.strategy.types")] | None:
        from server.strategy.types import travelability_of_micro_genre

        return await travelability_of_micro_genre(info, int(self.id))


@strawberry.type
class MicroGenreEdge:
    cursor: str
    node: MicroGenre


@strawberry.type(description="A page of micro-genres, largest first (Relay connection).")
class MicroGenreConnection:
    edges: list[MicroGenreEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A title placed on the 2-D similarity map.")
class SimilarityMapNode:
    title: Title
    x: float = strawberry.field(description="In [-1, 1].")
    y: float = strawberry.field(description="In [-1, 1].")
    micro_genre_id: strawberry.ID | None = strawberry.field(description="Its primary micro-genre.")


@strawberry.type(description="`target` is one of the `k` nearest neighbours of `source`.")
class SimilarityMapEdge:
    source: strawberry.ID
    target: strawberry.ID
    score: float = strawberry.field(
        description="Similarity of the combined vectors (weighted cosine, higher = closer)."
    )


@strawberry.type(description="Titles with map positions and their nearest-neighbour edges.")
class SimilarityMap:
    nodes: list[SimilarityMapNode]
    edges: list[SimilarityMapEdge]


# --- resolvers (called from the root Query and from Title) -----------------------------------


def _parse_micro_genre_id(value: strawberry.ID) -> int | None:
    number = parse_id(value, "micro-genre", positive=False)
    return number if number > 0 else None


async def micro_genres(
    info: Info, first: int | None, after: str | None, min_size: int | None
) -> MicroGenreConnection:
    size = page_size(first, 20)
    if min_size is not None and min_size < 0:
        raise bad_input(f"minSize must be >= 0, got {min_size}", "minSize")
    after_id = after_key(MICRO_GENRE_CURSOR, after)
    page = await info.context.db(lambda s: service.list_micro_genres(s, size, after_id, min_size))
    edges = [
        MicroGenreEdge(cursor=encode_cursor(MICRO_GENRE_CURSOR, r.id), node=MicroGenre.from_row(r))
        for r in page.rows
    ]
    return MicroGenreConnection(
        edges=edges,
        page_info=PageInfo.of(
            [e.cursor for e in edges], has_next=page.has_next, after_given=after_id is not None
        ),
        total_count=page.total,
    )


async def micro_genre(info: Info, id: strawberry.ID) -> MicroGenre | None:
    number = _parse_micro_genre_id(id)
    if number is None:
        return None
    row = await info.context.loaders(MicroGenreLoaders).by_id.load(number)
    return MicroGenre.from_row(row) if row else None


async def micro_genres_of_title(info: Info, title_id: int) -> list[MicroGenre]:
    rows = await info.context.loaders(MicroGenreLoaders).of_title.load(title_id)
    return [MicroGenre.from_row(r) for r in rows]


async def similarity_map(
    info: Info,
    filter: TitleFilter | None,
    first: int | None,
    k: int | None,
    after: strawberry.ID | None = None,
) -> SimilarityMap:
    size = check_first(first, MAX_MAP_NODES, default=500)
    neighbours = check_first(k, MAX_MAP_NEIGHBOURS, default=5, minimum=0, field="k")
    after_id = parse_id(after, "title", "after", positive=False) if after is not None else None
    flt = filter.to_service() if filter else None
    columns = title_reads(under(info.selected_fields, info.field_name, "nodes", "title")).columns
    found = await info.context.db(
        lambda s: service.similarity_map(s, flt, size, neighbours, after=after_id, columns=columns)
    )
    return SimilarityMap(
        nodes=[
            SimilarityMapNode(
                title=Title.from_model(n.title),
                x=n.x,
                y=n.y,
                micro_genre_id=strawberry.ID(str(n.micro_genre_id))
                if n.micro_genre_id is not None
                else None,
            )
            for n in found.nodes
        ],
        edges=[
            SimilarityMapEdge(
                source=strawberry.ID(str(e.source)),
                target=strawberry.ID(str(e.target)),
                score=e.score,
            )
            for e in found.edges
        ],
    )
