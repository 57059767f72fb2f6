"""GraphQL types of content strategy: gaps, trends, demand scores, audience comparables and
travelability (thin, built from service results)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types.nodes import Selection

from server.audiences.loaders import AudienceLoaders
from server.catalog.loaders import CatalogLoaders
from server.catalog.types import Title, title_by_id
from server.kit.errors import ExpectedError
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.similarity.microgenres.service import MicroGenreRow
from server.strategy import batches, service
from server.strategy.inputs import DateRangeInput, MarketInput
from server.strategy.loaders import StrategyLoaders
from server.strategy.service import Level, MembershipKind, SupplyScope

if TYPE_CHECKING:
    from server.audiences.types import Cohort, Region
    from server.similarity.microgenres.types import MicroGenre

strawberry.enum(
    Level,
    name="GapLevel",
    description="MICRO_GENRE: each micro-genre; PARENT_GENRE: micro-genres pooled by the broad "
    "genre they are nested under.",
)
strawberry.enum(
    MembershipKind,
    name="Membership",
    description=(
        "HARD: a title belongs to its primary micro-genre only. SOFT: softmax over its cosine "
        "to every micro-genre centroid / temperature 0.05 (weights < 0.01 dropped)."
    ),
)
strawberry.enum(
    SupplyScope,
    name="SupplyScope",
    description=(
        "Which titles the supply share is over: CATALOG (every clustered title), "
        "ADDED_BY_WINDOW_END (added to the catalog by the window's last week), LOCAL (produced "
        "in the market's countries)."
    ),
)

LazyMicroGenre = Annotated["MicroGenre", strawberry.lazy("server.similarity.microgenres.types")]

MAX_LIST = 20
"""`chartingTitles(first)` reads the titles stored per group: at most this many."""


@strawberry.type(description="Slope of the weekly demand share over the window.")
class Momentum:
    slope: float = strawberry.field(description="Change of the demand share per chart week.")
    low: float = strawberry.field(description="5th percentile (weeks and titles resampled).")
    high: float = strawberry.field(description="95th percentile.")
    rising: bool = strawberry.field(description="The interval is above 0 (low > 0).")


@strawberry.type(description="A catalog title charting in the market, with its weighted points.")
class ChartingTitle:
    title_id: strawberry.Private[int]
    points: float = strawberry.field(
        description="Its chart points in the market over the window x its membership."
    )

    @strawberry.field(description="The title.")
    async def title(self, info: Info) -> Title | None:
        return await title_by_id(info, self.title_id)


@strawberry.type(description="A catalog title typical of the group.")
class CatalogExample:
    title: Title


@strawberry.type(
    description=(
        "Demand vs supply of one micro-genre (or parent genre) in a market. See the README, "
        "Content strategy, for the formulas."
    )
)
class ContentGap:
    micro_genre_id: strawberry.Private[int | None]
    level: strawberry.Private[Level]
    gap: strawberry.Private[service.Gap]
    micro_genre: (
        Annotated[MicroGenre, strawberry.lazy("server.similarity.microgenres.types")] | None
    ) = strawberry.field(description="The micro-genre (null at PARENT_GENRE level).")
    genre: str | None = strawberry.field(
        description="The parent genre (the group itself at PARENT_GENRE level)."
    )
    rank: int = strawberry.field(description="1 = highest lower bound of the opportunity.")
    supply_share: float = strawberry.field(description="S = sum of memberships / titles.")
    demand_share: float = strawberry.field(
        description="Dm = membership-weighted chart points of matched titles / all matched "
        "chart points in the market over the window."
    )
    opportunity: float = strawberry.field(description="O = (Dm + a/G) / (S + a/G), a = 1.")
    low: float = strawberry.field(description="5th percentile of O (weeks and titles resampled).")
    high: float = strawberry.field(description="95th percentile of O.")
    momentum: Momentum
    coverage: float = strawberry.field(
        description="Matched chart points / all chart points in the market over the window "
        "(the rest are chart entries not in the catalog)."
    )
    catalog_titles: float = strawberry.field(
        description="Sum of memberships over the supply titles (titles, when HARD)."
    )
    charting_title_count: int = strawberry.field(
        description="Catalog titles of the group with chart points in the market (soft: "
        "membership >= 0.1)."
    )
    points: float = strawberry.field(description="Membership-weighted chart points.")
    window_start: datetime.date
    window_end: datetime.date

    @classmethod
    def of(cls, g: service.Gap, micro_genre: MicroGenre | None = None) -> ContentGap:
        return cls(
            micro_genre_id=g.micro_genre_id,
            micro_genre=micro_genre,
            level=g.level,
            gap=g,
            genre=g.genre,
            rank=g.rank,
            supply_share=g.supply_share,
            demand_share=g.demand_share,
            opportunity=g.opportunity,
            low=g.low,
            high=g.high,
            momentum=Momentum(
                slope=g.momentum, low=g.momentum_low, high=g.momentum_high, rising=g.rising
            ),
            coverage=g.coverage,
            catalog_titles=g.catalog_titles,
            charting_title_count=g.charting_titles,
            points=g.points,
            window_start=g.window_start,
            window_end=g.window_end,
        )

    @strawberry.field(
        description=f"Its charting titles with the most weighted points (`first` 0..{MAX_LIST})."
    )
    async def charting_titles(self, info: Info, first: int | None = 5) -> list[ChartingTitle]:
        size = 5 if first is None else first
        if not 0 <= size <= MAX_LIST:
            raise bad_input(f"first must be in 0..{MAX_LIST}, got {size}", "first")
        return [ChartingTitle(title_id=t, points=p) for t, p in self.gap.charting()[:size]]

    @strawberry.field(
        description="Catalog titles most typical of the group (closest to the micro-genre "
        f"centroid), `first` 0..{MAX_LIST}."
    )
    async def catalog_examples(self, info: Info, first: int | None = 5) -> list[CatalogExample]:
        size = 5 if first is None else first
        if not 0 <= size <= MAX_LIST:
            raise bad_input(f"first must be in 0..{MAX_LIST}, got {size}", "first")
        if self.micro_genre_id is not None:
            rows = await info.context.loaders(MicroGenreLoaders).titles.load(
                (self.micro_genre_id, size)
            )
            return [CatalogExample(title=Title.from_model(t)) for t in rows]
        ids = await info.context.loaders(StrategyLoaders).genre_examples.load(
            (self.genre or "", size)
        )
        titles = await info.context.loaders(CatalogLoaders).title.load_many(ids)
        return [CatalogExample(title=Title.from_model(t)) for t in titles if t is not None]


@strawberry.type(description="Content gaps of a market, best opportunity lower bound first.")
class ContentGapReport:
    market_key: strawberry.Private[service.Market]
    window_start: datetime.date | None = strawberry.field(
        description="First chart week counted (null when no group is listed)."
    )
    window_end: datetime.date | None
    coverage: float | None = strawberry.field(
        description="Matched chart points / all chart points in the market over the window."
    )
    groups: int = strawberry.field(description="G: groups of the level (before `minTitles`).")
    items: list[ContentGap]

    @strawberry.field(description="The region, when the market is one.")
    async def region(
        self, info: Info
    ) -> Annotated[Region, strawberry.lazy("server.audiences.types")] | None:
        from server.audiences.types import Region

        if self.market_key.region is None:
            return None
        row = await info.context.loaders(AudienceLoaders).region.load(self.market_key.region)
        return Region.of(row) if row else None

    @strawberry.field(description="The cohort, when the market is one.")
    async def cohort(
        self, info: Info
    ) -> Annotated[Cohort, strawberry.lazy("server.audiences.types")] | None:
        from server.audiences.types import Cohort

        if self.market_key.cohort_id is None:
            return None
        row = await info.context.loaders(AudienceLoaders).cohort.load(self.market_key.cohort_id)
        return Cohort.of(row) if row else None


@strawberry.type(description="How a title's demand in a region compares.")
class TitleDemand:
    region_code: str = strawberry.field(description="The region (ISO 3166-1 alpha-2).")
    charted: bool = strawberry.field(description="It has chart points there.")
    points: int = strawberry.field(description="Chart points there (sum of 11 - rank).")
    score: float = strawberry.field(
        description="100 = the region's average chart entry; capped at 200; 0 if it never "
        "charted there."
    )
    percentile: float | None = strawberry.field(
        description="Percentile of the score among the region's charting titles of its "
        "micro-genre (0..100); null when it did not chart or has no micro-genre."
    )


@strawberry.type(description="A title whose audience overlaps this one's.")
class AudienceComparable:
    title_id: strawberry.Private[int]
    overlap: float = strawberry.field(
        description="Cosine of the centred audience profiles (share of chart points per region "
        "minus the mean profile of charting titles), -1..1."
    )

    @strawberry.field(description="The comparable title.")
    async def title(self, info: Info) -> Title | None:
        return await title_by_id(info, self.title_id)


@strawberry.type(description="How far a micro-genre travels beyond its titles' origin countries.")
class MicroGenreTravelability:
    share: float = strawberry.field(
        description="Chart points earned outside the titles' origin countries / all points."
    )
    low: float = strawberry.field(description="5th percentile (titles resampled).")
    high: float = strawberry.field(description="95th percentile.")
    titles: int = strawberry.field(description="Charting titles with origin countries.")
    points: int = strawberry.field(description="Their chart points.")


# --- resolvers (root Query, Title, MicroGenre) -------------------------------------------------


def _selects(selections: Sequence[Selection], name: str) -> bool:
    return any(
        getattr(s, "name", None) == name or _selects(getattr(s, "selections", []), name)
        for s in selections
    )


async def _items(info: Info, gaps: list[service.Gap]) -> list[ContentGap]:
    """ContentGap objects with their micro-genres loaded in one batch when the query selects
    them (a plain field, not a resolver per item: 220 items would each schedule a task)."""
    from server.similarity.microgenres.types import MicroGenre

    wanted = _selects(info.selected_fields, "microGenre")
    ids = [g.micro_genre_id for g in gaps if g.micro_genre_id is not None and wanted]
    if not ids:
        rows: list[MicroGenreRow | None] = []
    elif _selects(info.selected_fields, "topTags"):
        rows = await info.context.loaders(MicroGenreLoaders).by_id.load_many(ids)
    else:
        rows = list(await info.context.db(lambda s: batches.micro_genre_heads(s, ids)))
    found = {r.id: MicroGenre.from_row(r) for r in rows if r is not None}
    return [
        ContentGap.of(g, found.get(g.micro_genre_id) if g.micro_genre_id is not None else None)
        for g in gaps
    ]


def _first(first: int | None, default: int, name: str = "first") -> int:
    try:
        return service.check_first(first, default, name)
    except ExpectedError as exc:
        raise bad_input(str(exc), name) from None


async def _gaps(
    info: Info,
    market: MarketInput,
    window: DateRangeInput | None,
    level: Level,
    membership: MembershipKind,
    supply: SupplyScope,
) -> tuple[service.Market, list[service.Gap]]:
    m = market.to_service()
    start, end = window.bounds() if window else (None, None)
    gaps = await info.context.db(
        lambda s: service.gaps_for(
            s, m, start=start, end=end, level=level, membership=membership, supply=supply
        )
    )
    return m, gaps


async def content_gaps(
    info: Info,
    market: MarketInput,
    window: DateRangeInput | None,
    level: Level | None,
    first: int | None,
    min_titles: int | None,
    membership: MembershipKind | None,
    supply: SupplyScope | None,
) -> ContentGapReport:
    size = _first(first, 20)
    if min_titles is not None and min_titles < 0:
        raise bad_input(f"minTitles must be >= 0, got {min_titles}", "minTitles")
    m, gaps = await _gaps(
        info,
        market,
        window,
        level or Level.MICRO_GENRE,
        membership or MembershipKind.HARD,
        supply or SupplyScope.CATALOG,
    )
    kept = [g for g in gaps if min_titles is None or g.charting_titles >= min_titles]
    head = gaps[0] if gaps else None
    return ContentGapReport(
        market_key=m,
        window_start=head.window_start if head else None,
        window_end=head.window_end if head else None,
        coverage=head.coverage if head else None,
        groups=len(gaps),
        items=await _items(info, kept[:size]),
    )


async def trending_micro_genres(
    info: Info,
    market: MarketInput,
    window: DateRangeInput | None,
    first: int | None,
    membership: MembershipKind | None,
) -> list[ContentGap]:
    size = _first(first, 10)
    _, gaps = await _gaps(
        info,
        market,
        window,
        Level.MICRO_GENRE,
        membership or MembershipKind.HARD,
        SupplyScope.CATALOG,
    )
    return await _items(info, service.trending(gaps, size))


async def _check_market(info: Info, market: MarketInput) -> service.Market:
    """Validate through the batched region / cohort loaders (no query per parent object)."""
    m = market.to_service()
    if m.region is not None:
        if await info.context.loaders(AudienceLoaders).region.load(m.region) is None:
            raise bad_input(f"unknown region {m.region!r}", "market.region")
    elif m.cohort_id is not None:
        if await info.context.loaders(AudienceLoaders).cohort.load(m.cohort_id) is None:
            raise bad_input(f"unknown cohort {m.cohort_id}", "market.cohortId")
    return m


async def demand_of_micro_genre(
    info: Info, micro_genre_id: int, market: MarketInput
) -> ContentGap | None:
    m = await _check_market(info, market)
    gap = await info.context.loaders(StrategyLoaders).micro_genre_demand.load(
        (m.key, micro_genre_id)
    )
    return (await _items(info, [gap]))[0] if gap else None


async def travelability_of_micro_genre(
    info: Info, micro_genre_id: int
) -> MicroGenreTravelability | None:
    row = await info.context.loaders(StrategyLoaders).travelability.load(micro_genre_id)
    if row is None:
        return None
    return MicroGenreTravelability(
        share=row.share, low=row.low, high=row.high, titles=row.titles, points=row.points
    )


async def demand_of_title(info: Info, title_id: int, region: str) -> TitleDemand:
    code = region.strip().upper()
    if len(code) != 2 or await info.context.loaders(AudienceLoaders).region.load(code) is None:
        raise bad_input(f"unknown region {region!r}", "region")
    row = await info.context.loaders(StrategyLoaders).title_demand.load((title_id, code))
    if row is None:
        return TitleDemand(region_code=code, charted=False, points=0, score=0.0, percentile=None)
    return TitleDemand(
        region_code=code,
        charted=True,
        points=row.points,
        score=row.score,
        percentile=row.percentile,
    )


async def audience_comparables_of_title(
    info: Info, title_id: int, first: int | None
) -> list[AudienceComparable]:
    size = 10 if first is None else first
    if not 0 <= size <= MAX_LIST:
        raise bad_input(f"first must be in 0..{MAX_LIST}, got {size}", "first")
    rows = await info.context.loaders(StrategyLoaders).comparables.load(title_id)
    return [AudienceComparable(title_id=r.title_id, overlap=r.overlap) for r in rows[:size]]
