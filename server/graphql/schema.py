"""The root Query and Mutation; resolvers parse arguments and call services."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from server.audiences import types as audiences
from server.catalog import service as catalog
from server.catalog.loaders import CatalogLoaders
from server.catalog.types import (
    TagCount,
    Title,
    TitleConnection,
    TitleEdge,
    TitleFilter,
    TitleInput,
    TitleInputError,
    UpsertTitlesPayload,
    fetch_title,
    title_reads,
)
from server.forecast import types as forecasting
from server.graphql.auth import ADMIN, ANALYST, VIEWER
from server.graphql.documents import DocumentCache
from server.graphql.execution import DeadlineExecutionContext
from server.graphql.limits import QueryLimits
from server.graphql.transaction import RequestTransaction
from server.kit.ids import parse_id
from server.kit.pagination import encode_cursor
from server.kit.resolving.context import Info
from server.kit.resolving.errors import ErrorShaping
from server.kit.resolving.pagination import PageInfo, after_key, page_size
from server.kit.resolving.selection import names, under
from server.models.catalog import TagKind
from server.observability.metrics import METRICS
from server.scenes import types as scenes
from server.scenes.service import SceneMetric
from server.similarity import types as similarity
from server.similarity.microgenres import types as micro
from server.similarity.service import SearchMode, SimilarityMode
from server.similarity.types import FacetWeightsInput, SearchHit, SimilarTitle
from server.strategy import types as strategy
from server.strategy.inputs import DateRangeInput, MarketInput
from server.strategy.service import Level, MembershipKind, SupplyScope

TITLE_CURSOR = "title"


def _parse_id(value: strawberry.ID, field: str = "id") -> int:
    return parse_id(value, "title", field)


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=VIEWER, description="A title by its id; null when there is none."
    )
    async def title(self, info: Info, id: strawberry.ID) -> Title | None:
        return await fetch_title(info, title_id=_parse_id(id))

    @strawberry.field(
        permission_classes=VIEWER,
        description="A title by the source system's id (e.g. `s1`); null if none.",
    )
    async def title_by_external_id(self, info: Info, external_id: str) -> Title | None:
        return await fetch_title(info, external_id=external_id)

    @strawberry.field(
        permission_classes=VIEWER,
        description="Titles ordered by id, filtered, as a Relay connection.",
    )
    async def titles(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: TitleFilter | None = None,
    ) -> TitleConnection:
        size = page_size(first)
        after_id = after_key(TITLE_CURSOR, after)
        flt = filter.to_service() if filter else None
        connection = under(info.selected_fields, info.field_name)
        reads = title_reads(under(connection, "edges", "node"))
        page = await info.context.db(
            lambda s: catalog.list_titles(
                s,
                flt,
                size,
                after_id,
                columns=reads.columns,
                count="totalCount" in names(connection),
                with_tags=reads.tags,
            )
        )
        if page.tags is not None:
            for row, tags in zip(page.titles, page.tags, strict=True):
                info.context.loaders(CatalogLoaders).tags.prime(row.id, tags)
        edges = [
            TitleEdge(cursor=encode_cursor(TITLE_CURSOR, t.id), node=Title.from_model(t))
            for t in page.titles
        ]
        return TitleConnection(
            edges=edges,
            page_info=PageInfo.of(
                [e.cursor for e in edges], has_next=page.has_next, after_given=after_id is not None
            ),
            total=page.total,
        )

    @strawberry.field(
        permission_classes=VIEWER,
        description="Tags with the number of titles carrying each, most used first.",
    )
    async def tags(
        self,
        info: Info,
        kind: TagKind | None = None,
        first: int | None = 50,
    ) -> list[TagCount]:
        size = page_size(first, 50)
        rows = await info.context.db(lambda s: catalog.tag_counts(s, kind, size))
        return [TagCount(kind=r.kind, name=r.name, title_count=r.titles) for r in rows]

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Titles most similar to `titleId` (never itself), best first. mode CONTENT (the "
            "default): scored by the weighted mean of facet cosines. mode COMPARABLES: by the "
            "learned comparables, the cosine of the titles' audience profiles (observed for "
            "titles with chart history, predicted from content for the rest; `contentintel "
            "comparables`), with the facet scores as the explanation. Filters apply inside "
            "the nearest-neighbour scan, so a selective filter still returns `first` (1..500) "
            "titles when that many match. Errors: NOT_FOUND for an unknown title, one without "
            "an embedding (run `contentintel embed`) or, in COMPARABLES mode, without a "
            "comparables vector; BAD_USER_INPUT for a bad id, `first` or weights."
        ),
    )
    async def similar_titles(
        self,
        info: Info,
        title_id: strawberry.ID,
        first: int | None = 10,
        filter: TitleFilter | None = None,
        weights: FacetWeightsInput | None = None,
        mode: SimilarityMode = SimilarityMode.CONTENT,
    ) -> list[SimilarTitle]:
        title = _parse_id(title_id, "titleId")
        return await similarity.similar_titles(info, title, first, filter, weights, mode)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Search titles by keyword (full text + typo-tolerant names), meaning (embeddings) "
            "or both (HYBRID, reciprocal-rank fusion); `first` in 1..500. BAD_USER_INPUT for "
            "an empty query."
        ),
    )
    async def search_titles(
        self,
        info: Info,
        query: str,
        mode: SearchMode | None = SearchMode.HYBRID,
        first: int | None = 10,
        filter: TitleFilter | None = None,
    ) -> list[SearchHit]:
        return await similarity.search_titles(info, query, mode, first, filter)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Micro-genres, largest first (then by id), as a Relay connection; `minSize` keeps "
            "those with at least that many titles. BAD_USER_INPUT for a cursor whose "
            "micro-genre was rebuilt by `contentintel cluster`."
        ),
    )
    async def micro_genres(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        min_size: int | None = None,
    ) -> micro.MicroGenreConnection:
        return await micro.micro_genres(info, first, after, min_size)

    @strawberry.field(
        permission_classes=VIEWER, description="A micro-genre by its id; null when there is none."
    )
    async def micro_genre(self, info: Info, id: strawberry.ID) -> micro.MicroGenre | None:
        return await micro.micro_genre(info, id)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Titles on the 2-D similarity map (positions from `contentintel cluster`), by id, "
            "`first` in 1..2000, with each node's `k` (0..20) nearest neighbours among the "
            "returned nodes as edges (`source` -> `target`, best first). `after`: only titles "
            "with a greater id (pass the last node's title id to read the next page)."
        ),
    )
    async def similarity_map(
        self,
        info: Info,
        filter: TitleFilter | None = None,
        first: int | None = 500,
        k: int | None = 5,
        after: strawberry.ID | None = None,
    ) -> micro.SimilarityMap:
        return await micro.similarity_map(info, filter, first, k, after)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Scenes ranked by `metric` (highest first), within `titleId` or across the catalog "
            "when omitted; metrics of `region` (ISO 3166-1 alpha-2) or of all regions. `first` "
            "in 1..500."
        ),
    )
    async def top_scenes(
        self,
        info: Info,
        title_id: strawberry.ID | None = None,
        metric: SceneMetric | None = SceneMetric.ENGAGEMENT,
        first: int | None = 10,
        region: str | None = None,
    ) -> list[scenes.Scene]:
        title = _parse_id(title_id, "titleId") if title_id is not None else None
        return await scenes.top_scenes(info, title, metric, first, region)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Which kinds of scenes drive engagement across the catalog: each scene tag's lift "
            "(mean engagement score of its scenes) with a 95% interval, ranked by the interval's "
            "lower bound so that rare tags need a larger lift to rank high. Tags in fewer than "
            "`minScenes` scenes, or in one title only, are left out."
        ),
    )
    async def scene_tag_lift(
        self,
        info: Info,
        first: int | None = 20,
        min_scenes: int | None = 30,
        region: str | None = None,
    ) -> list[scenes.SceneTagLift]:
        return await scenes.scene_tag_lift(info, first, min_scenes, region)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Semantic search over scene descriptions (the configured embedder), best first; "
            "`first` in 1..500. NOT_FOUND when no scene is embedded with that embedder."
        ),
    )
    async def search_scenes(
        self, info: Info, query: str, first: int | None = 10
    ) -> list[scenes.SceneHit]:
        return await scenes.search_scenes(info, query, first)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Scenes whose descriptions are most similar to `sceneId`'s (never itself). "
            "NOT_FOUND for an unknown scene or one without an embedding."
        ),
    )
    async def similar_scenes(
        self, info: Info, scene_id: strawberry.ID, first: int | None = 10
    ) -> list[scenes.SceneHit]:
        return await scenes.similar_scenes(info, scene_id, first)

    @strawberry.field(
        permission_classes=VIEWER, description="A scene by its id; null when there is none."
    )
    async def scene(self, info: Info, id: strawberry.ID) -> scenes.Scene | None:
        return await scenes.scene_by_id(info, id)

    @strawberry.field(
        permission_classes=VIEWER,
        description="Every region (country) audiences are measured in, by code.",
    )
    async def regions(self, info: Info) -> list[audiences.Region]:
        return await audiences.regions(info)

    @strawberry.field(
        permission_classes=VIEWER,
        description="A region by ISO 3166-1 alpha-2 code; null when unknown (BAD_USER_INPUT "
        "for a malformed code).",
    )
    async def region(self, info: Info, code: str) -> audiences.Region | None:
        return await audiences.region(info, code)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Two audiences side by side: similarity, shared chart entries, genres distinctive "
            "for each, titles that charted in both. NOT_FOUND for an unknown region."
        ),
    )
    async def compare_audiences(self, info: Info, a: str, b: str) -> audiences.AudienceComparison:
        return await audiences.compare_audiences(info, a, b)

    @strawberry.field(
        permission_classes=VIEWER,
        description="Audience cohorts (`contentintel cohorts`), largest first.",
    )
    async def cohorts(self, info: Info) -> list[audiences.Cohort]:
        return await audiences.cohorts(info)

    @strawberry.field(
        permission_classes=VIEWER, description="An audience cohort by id; null when there is none."
    )
    async def cohort(self, info: Info, id: strawberry.ID) -> audiences.Cohort | None:
        return await audiences.cohort(info, id)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Genres and micro-genres gaining share of a region's chart points since `since` "
            "(default: the last four chart weeks) against the weeks before, biggest rise "
            "first (`first` 0..200). NOT_FOUND for an unknown region."
        ),
    )
    async def region_trends(
        self,
        info: Info,
        code: str,
        since: datetime.date | None = None,
        first: int | None = 10,
    ) -> list[audiences.RegionTrend]:
        return await audiences.region_trends(info, code, since, first)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Which kinds of content a market (exactly one of a region or a cohort) demands "
            "beyond what the catalog supplies: every micro-genre (or parent genre) with its "
            "demand share, supply share, smoothed opportunity and 90% interval, ranked by the "
            "interval's lower bound; momentum and coverage. `window`: chart weeks (default: "
            "all); `minTitles`: only groups with at least that many charting titles; `first` "
            "0..500. BAD_USER_INPUT (naming the argument) for an unknown region or cohort, a "
            "reversed or empty window, or one outside the chart data."
        ),
    )
    async def content_gaps(
        self,
        info: Info,
        market: MarketInput,
        window: DateRangeInput | None = None,
        level: Level | None = Level.MICRO_GENRE,
        first: int | None = 20,
        min_titles: int | None = None,
        membership: MembershipKind | None = MembershipKind.HARD,
        supply: SupplyScope | None = SupplyScope.CATALOG,
    ) -> strategy.ContentGapReport:
        return await strategy.content_gaps(
            info, market, window, level, first, min_titles, membership, supply
        )

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Micro-genres whose weekly demand share in the market rises most, by the lower "
            "bound of the slope's 90% interval (`momentum.rising` when it is above 0); only "
            "micro-genres with chart points in the window; `first` 0..500."
        ),
    )
    async def trending_micro_genres(
        self,
        info: Info,
        market: MarketInput,
        window: DateRangeInput | None = None,
        first: int | None = 10,
        membership: MembershipKind | None = MembershipKind.HARD,
    ) -> list[strategy.ContentGap]:
        return await strategy.trending_micro_genres(info, market, window, first, membership)

    @strawberry.field(
        permission_classes=ANALYST,
        description=(
            "Per-region forecast of a catalog title (`titleId`) or a draft that is not in the "
            "catalog (`draft`, embedded on the fly): for every known region, most probable "
            "first, the probability of reaching its Top 10, expected weeks there and an 80% "
            "interval, with the comparables it learns from. Exactly one of `titleId` / `draft` "
            "(BAD_USER_INPUT otherwise); NOT_FOUND without a model (`contentintel train`)."
        ),
    )
    async def forecast(
        self,
        info: Info,
        title_id: strawberry.ID | None = None,
        draft: forecasting.DraftTitleInput | None = None,
    ) -> forecasting.Forecast:
        return await forecasting.forecast(info, title_id, draft)

    @strawberry.field(
        permission_classes=ANALYST,
        description=(
            "Forecast a base draft and 1..20 variants (e.g. the same show produced in Spain in "
            "Spanish): per variant the change in probability in every region."
        ),
    )
    async def what_if(
        self,
        info: Info,
        base: forecasting.DraftTitleInput,
        variants: list[forecasting.DraftTitleInput],
    ) -> forecasting.WhatIf:
        return await forecasting.what_if(info, base, variants)

    @strawberry.field(
        permission_classes=ANALYST,
        description=(
            "Localization (DUB / SUBTITLE / NONE) and campaign plan (tier, budget share) per "
            "region for a catalog title or a draft; budget shares sum to 1 over funded regions "
            "(at most `maxRegions`). BAD_USER_INPUT for a non-positive budget, `maxRegions` "
            "outside 1..regions, or not exactly one of `titleId` / `draft`."
        ),
    )
    async def localization_plan(
        self,
        info: Info,
        budget: float,
        title_id: strawberry.ID | None = None,
        draft: forecasting.DraftTitleInput | None = None,
        max_regions: int = 20,
    ) -> forecasting.LocalizationPlan:
        return await forecasting.localization_plan(info, title_id, draft, budget, max_regions)

    @strawberry.field(
        permission_classes=VIEWER,
        description="Trained forecast models, newest version first (`first` 1..100).",
    )
    async def forecast_models(
        self, info: Info, first: int | None = 20
    ) -> list[forecasting.ForecastModelInfo]:
        return await forecasting.forecast_models(info, first)

    @strawberry.field(
        permission_classes=VIEWER,
        description=(
            "Stored backtests, newest first (`first` 1..100), model and baselines' metrics."
        ),
    )
    async def backtests(self, info: Info, first: int | None = 20) -> list[forecasting.Backtest]:
        return await forecasting.backtests(info, first)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        permission_classes=ADMIN,
        description="Create or update titles by externalId: every item is written, or none.",
    )
    async def upsert_titles(self, info: Info, input: list[TitleInput]) -> UpsertTitlesPayload:
        records = [item.to_record() for item in input]
        result = await info.context.db(lambda s: catalog.upsert_titles(s, records))
        METRICS.jobs.labels("upsert_titles", "rejected" if result.errors else "ok").inc()
        METRICS.job_items.labels("upsert_titles").inc(result.inserted + result.updated)
        return UpsertTitlesPayload(
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            titles=[Title.from_model(t) for t in result.titles],
            errors=[
                TitleInputError(
                    index=e.index, external_id=e.external_id, field=e.field, message=e.message
                )
                for e in result.errors
            ],
        )


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Silent: ``ErrorShaping`` logs unexpected errors (with the request id) and only
        those; expected ones (bad input, not found, forbidden) are the client's business."""


schema = Schema(
    query=Query,
    mutation=Mutation,
    execution_context_class=DeadlineExecutionContext,
    extensions=[
        # One cache, at module level, of parsed and validated documents within a byte budget.
        DocumentCache,
        # Limit rules are built once (not per request), so the validation cache keeps hitting.
        QueryLimits,
        RequestTransaction,
        ErrorShaping,
    ],
)


def schema_sdl() -> str:
    """The schema as committed in ``schema.graphql``."""
    return schema.as_str() + "\n"
