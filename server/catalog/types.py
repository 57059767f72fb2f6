"""GraphQL types of the catalog: thin, built from service results."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types.nodes import Selection
from strawberry.utils.str_converters import to_camel_case

from server.catalog import service
from server.catalog.loaders import CatalogLoaders
from server.kit.resolving.context import Info
from server.kit.resolving.pagination import PageInfo
from server.kit.resolving.selection import names, under
from server.models.catalog import TagKind, TitleKind
from server.models.catalog import Title as TitleModel

if TYPE_CHECKING:
    from server.audiences.types import RegionalPerformance, Travelability
    from server.scenes.types import CurvePoint, EngagementSummary, Scene
    from server.similarity.microgenres.types import MicroGenre
    from server.similarity.types import SimilarTitle
    from server.strategy.types import AudienceComparable, TitleDemand

# Registers the model enums as GraphQL enums (the classes stay the same objects).
strawberry.enum(TitleKind, name="TitleKind", description="Movie or series.")
strawberry.enum(TagKind, name="TagKind", description="What a tag describes.")


@strawberry.type(description="A tag on a title, with how strongly it applies (0..1).")
class TitleTag:
    kind: TagKind
    name: str
    weight: float


@strawberry.type(description="A country, by ISO 3166-1 alpha-2 code.")
class Country:
    code: str
    name: str


@strawberry.type(description="A movie or show in the catalog.")
class Title:
    id: strawberry.ID
    external_id: str = strawberry.field(description="The source system's id, e.g. `s1`.")
    kind: TitleKind
    name: str
    synopsis: str | None
    release_year: int | None
    date_added: datetime.date | None
    maturity_rating: str | None
    duration_minutes: int | None = strawberry.field(description="Runtime of a movie.")
    seasons: int | None = strawberry.field(description="Number of seasons of a show.")
    original_language: str | None = strawberry.field(description="ISO 639-1 code.")

    @classmethod
    def from_model(cls, row: TitleModel | service.TitleColumns) -> Title:
        return cls(
            id=strawberry.ID(str(row.id)),
            external_id=row.external_id,
            kind=row.kind,
            name=row.name,
            synopsis=row.synopsis,
            release_year=row.release_year,
            date_added=row.date_added,
            maturity_rating=row.maturity_rating,
            duration_minutes=row.duration_minutes,
            seasons=row.seasons,
            original_language=row.original_language,
        )

    @strawberry.field(description="Genre names (GENRE tags), strongest first.")
    async def genres(self, info: Info) -> list[str]:
        tags = await info.context.loaders(CatalogLoaders).tags.load(int(self.id))
        return [t.name for t in tags if t.kind is TagKind.GENRE]

    @strawberry.field(description="All tags, genres included, grouped by kind.")
    async def tags(self, info: Info, kind: TagKind | None = None) -> list[TitleTag]:
        tags = await info.context.loaders(CatalogLoaders).tags.load(int(self.id))
        return [
            TitleTag(kind=t.kind, name=t.name, weight=t.weight)
            for t in tags
            if kind is None or t.kind is kind
        ]

    @strawberry.field(description="Cast in billing order.")
    async def cast(self, info: Info) -> list[str]:
        return (await info.context.loaders(CatalogLoaders).credits.load(int(self.id))).cast

    @strawberry.field(description="Directors in credit order.")
    async def directors(self, info: Info) -> list[str]:
        return (await info.context.loaders(CatalogLoaders).credits.load(int(self.id))).directors

    @strawberry.field(description="Countries of origin, main one first.")
    async def origin_countries(self, info: Info) -> list[Country]:
        rows = await info.context.loaders(CatalogLoaders).countries.load(int(self.id))
        return [Country(code=r.code, name=r.name) for r in rows]

    @strawberry.field(
        description=(
            "The most similar titles under default facet weights (see `similarTitles`); "
            "batched across a list of titles. Errors with NOT_FOUND when this title has no "
            "embedding yet (run `contentintel embed`)."
        )
    )
    async def similar(
        self, info: Info, first: int | None = 10
    ) -> list[Annotated[SimilarTitle, strawberry.lazy("server.similarity.types")]]:
        from server.similarity.types import similar_of_title

        return await similar_of_title(info, int(self.id), first)

    @strawberry.field(
        description="Micro-genres of the title: its primary one first, then a close second if any."
    )
    async def micro_genres(
        self, info: Info
    ) -> list[Annotated[MicroGenre, strawberry.lazy("server.similarity.microgenres.types")]]:
        from server.similarity.microgenres.types import micro_genres_of_title

        return await micro_genres_of_title(info, int(self.id))

    @strawberry.field(
        description=(
            "Scenes in order (episode, then ordinal) with their all-regions engagement; "
            "`episode` keeps one episode of a show; `first` in 1..500 (default 100)."
        )
    )
    async def scenes(
        self, info: Info, first: int | None = 100, episode: int | None = None
    ) -> list[Annotated[Scene, strawberry.lazy("server.scenes.types")]]:
        from server.scenes.types import scenes_of_title

        return await scenes_of_title(info, int(self.id), first, episode)

    @strawberry.field(
        description=(
            "Retention curve: share of the viewers who started still watching at each point, "
            "every `resolutionSeconds` (1..3600; default: as stored, usually 10). Of the movie, "
            "or of a show's `episode` (default: its first episode with data); `region` is an "
            "ISO 3166-1 alpha-2 code (default: all regions). Without an ingested curve it is "
            "derived from the scenes' exit rates. Empty when there is no engagement data."
        )
    )
    async def engagement_curve(
        self,
        info: Info,
        resolution_seconds: int | None = None,
        episode: int | None = None,
        region: str | None = None,
    ) -> list[Annotated[CurvePoint, strawberry.lazy("server.scenes.types")]]:
        from server.scenes.types import curve_of_title

        return await curve_of_title(info, int(self.id), resolution_seconds, episode, region)

    @strawberry.field(
        description=(
            "Hook strength, biggest drop-off and most rewatched scene; null without scene data."
        )
    )
    async def engagement_summary(
        self, info: Info
    ) -> Annotated[EngagementSummary, strawberry.lazy("server.scenes.types")] | None:
        from server.scenes.types import summary_of_title

        return await summary_of_title(info, int(self.id))

    @strawberry.field(
        description=(
            "How the title did in each region's weekly Top 10, best score first (empty if it "
            "never charted); batched across a list of titles."
        )
    )
    async def regional_performance(
        self, info: Info
    ) -> list[Annotated[RegionalPerformance, strawberry.lazy("server.audiences.types")]]:
        from server.audiences.types import regional_performance_of_title

        return await regional_performance_of_title(info, int(self.id))

    @strawberry.field(
        description="How far the title travelled beyond its origin; null if it never charted."
    )
    async def travelability(
        self, info: Info
    ) -> Annotated[Travelability, strawberry.lazy("server.audiences.types")] | None:
        from server.audiences.types import travelability_of_title

        return await travelability_of_title(info, int(self.id))

    @strawberry.field(
        description=(
            "Demand score in `region` (100 = the region's average chart entry, capped at 200) "
            "and its percentile within its micro-genre there; score 0 if it never charted "
            "there. BAD_USER_INPUT for an unknown region."
        )
    )
    async def demand(
        self, info: Info, region: str
    ) -> Annotated[TitleDemand, strawberry.lazy("server.strategy.types")]:
        from server.strategy.types import demand_of_title

        return await demand_of_title(info, int(self.id), region)

    @strawberry.field(
        description=(
            "Titles whose audiences overlap most (cosine of centred audience profiles), best "
            "first, `first` 0..20; empty without chart history. Next to `similar` (content "
            "neighbours)."
        )
    )
    async def audience_comparables(
        self, info: Info, first: int | None = 10
    ) -> list[Annotated[AudienceComparable, strawberry.lazy("server.strategy.types")]]:
        from server.strategy.types import audience_comparables_of_title

        return await audience_comparables_of_title(info, int(self.id), first)


COLUMN_OF_FIELD = {to_camel_case(c): c for c in service.TITLE_COLUMNS}
"""GraphQL field of ``Title`` -> the column it reads."""
TAG_FIELDS = frozenset({"tags", "genres"})
"""``Title`` fields that read the title's tags."""


@dataclass(frozen=True)
class TitleReads:
    """What a selection of ``Title`` fields reads: its columns, and whether its tags."""

    columns: frozenset[str]
    tags: bool


def title_reads(selections: list[Selection]) -> TitleReads:
    """The columns and tags a selection set of ``Title`` needs (a superset: see
    ``server.kit.resolving.selection``)."""
    selected = names(selections)
    return TitleReads(
        frozenset(COLUMN_OF_FIELD[n] for n in selected if n in COLUMN_OF_FIELD),
        not selected.isdisjoint(TAG_FIELDS),
    )


async def fetch_title(
    info: Info, *, title_id: int | None = None, external_id: str | None = None
) -> Title | None:
    """The root ``title`` / ``titleByExternalId``: the selected columns, and the tags when
    selected, in one statement; the tags go to the request's tags loader, which then answers
    ``tags`` and ``genres`` without a query."""
    reads = title_reads(under(info.selected_fields, info.field_name))
    found = await info.context.db(
        lambda s: service.title_with_tags(
            s,
            title_id=title_id,
            external_id=external_id,
            columns=reads.columns,
            with_tags=reads.tags,
        )
    )
    if found is None:
        return None
    if found.tags is not None:
        info.context.loaders(CatalogLoaders).tags.prime(found.title.id, found.tags)
    return Title.from_model(found.title)


@strawberry.type
class TitleEdge:
    cursor: str
    node: Title


@strawberry.type(description="A page of titles (Relay connection).")
class TitleConnection:
    edges: list[TitleEdge]
    page_info: PageInfo
    total: strawberry.Private[int | None]
    """None when ``totalCount`` was not selected (and so not counted)."""

    @strawberry.field
    def total_count(self) -> int:
        if self.total is None:
            raise RuntimeError("totalCount was not counted: the selection said it was not read")
        return self.total


@strawberry.input(description="All conditions must hold; list conditions match any entry.")
class TitleFilter:
    kind: TitleKind | None = None
    genres: list[str] | None = strawberry.field(default=None, description="Any of these genres.")
    origin_countries: list[str] | None = strawberry.field(
        default=None, description="Any of these ISO 3166-1 alpha-2 codes."
    )
    release_year_min: int | None = None
    release_year_max: int | None = None
    text: str | None = strawberry.field(
        default=None, description="Full-text search over name and synopsis (web-search syntax)."
    )

    def to_service(self) -> service.TitleFilter:
        return service.TitleFilter(
            kind=self.kind,
            genres=tuple(self.genres or ()),
            origin_countries=tuple(self.origin_countries or ()),
            release_year_min=self.release_year_min,
            release_year_max=self.release_year_max,
            text=self.text.strip() if self.text and self.text.strip() else None,
        )


@strawberry.type(description="A tag with the number of titles carrying it.")
class TagCount:
    kind: TagKind
    name: str
    title_count: int


@strawberry.input(description="A tag to set on a title.")
class TagInput:
    kind: TagKind
    name: str
    weight: float = 1.0


@strawberry.input(description="A title to create or update, keyed by externalId.")
class TitleInput:
    external_id: str
    kind: TitleKind
    name: str
    synopsis: str | None = None
    release_year: int | None = None
    date_added: datetime.date | None = None
    maturity_rating: str | None = None
    duration_minutes: int | None = None
    seasons: int | None = None
    original_language: str | None = None
    genres: list[str] = strawberry.field(default_factory=list)
    tags: list[TagInput] = strawberry.field(default_factory=list)
    cast: list[str] = strawberry.field(default_factory=list)
    directors: list[str] = strawberry.field(default_factory=list)
    origin_countries: list[str] = strawberry.field(
        default_factory=list, description="ISO 3166-1 alpha-2 codes or country names."
    )

    def to_record(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id,
            "kind": self.kind.value,
            "name": self.name,
            "synopsis": self.synopsis,
            "release_year": self.release_year,
            "date_added": self.date_added,
            "maturity_rating": self.maturity_rating,
            "duration_minutes": self.duration_minutes,
            "seasons": self.seasons,
            "original_language": self.original_language,
            "genres": list(self.genres),
            "tags": [{"kind": t.kind.value, "name": t.name, "weight": t.weight} for t in self.tags],
            "cast": list(self.cast),
            "directors": list(self.directors),
            "origin_countries": list(self.origin_countries),
        }


@strawberry.type(description="Why one item of the input was refused.")
class TitleInputError:
    index: int = strawberry.field(description="Position in the input list.")
    external_id: str | None
    field: str
    message: str


@strawberry.type(description="Result of upsertTitles: all items written, or none and the errors.")
class UpsertTitlesPayload:
    inserted: int
    updated: int
    unchanged: int
    titles: list[Title]
    errors: list[TitleInputError]


async def title_by_id(info: Info, title_id: int) -> Title | None:
    """The ``Title`` of a title id through the request's batched loader (None when it is gone):
    how another feature's type resolves its ``title`` field."""
    row = await info.context.loaders(CatalogLoaders).title.load(title_id)
    return Title.from_model(row) if row else None
