"""GraphQL types of regions, taste profiles, cohorts and regional performance (thin)."""

from __future__ import annotations

import datetime

import strawberry

from server.audiences import service
from server.audiences.loaders import AudienceLoaders
from server.audiences.profiles import MIN_TITLES
from server.catalog.types import Title, title_by_id
from server.kit.errors import ExpectedError
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.similarity.microgenres.loaders import MicroGenreLoaders
from server.similarity.microgenres.types import MicroGenre


def _code(code: str, field: str = "code") -> str:
    try:
        return service.check_code(code, field)
    except ExpectedError as exc:
        raise bad_input(str(exc), field) from None


def _first(first: int | None, default: int, field: str = "first") -> int:
    try:
        return service.check_first(first, default, field)
    except ExpectedError as exc:
        raise bad_input(str(exc), field) from None


@strawberry.type(description="A genre's weight in an audience's charts against the global mix.")
class GenreLift:
    name: str
    lift: float = strawberry.field(
        description="Share here / share in the reference mix (> 1: over-indexed)."
    )
    titles: int = strawberry.field(description="Charting titles carrying the genre.")
    share: float = strawberry.field(description="Share of the score-weighted chart mix (0..1).")
    lift_low: float | None = strawberry.field(
        default=None,
        description=(
            "Credible lower bound of the lift: its 5th percentile when the region's charting "
            "titles are resampled. A region's and a cohort's `topGenres` and "
            "`compareAudiences`' distinctive lists rank by it (null elsewhere, and until "
            "profiles or cohorts are recomputed)."
        ),
    )

    @classmethod
    def of(cls, row: service.GenreLift) -> GenreLift:
        return cls(
            name=row.name,
            lift=row.lift,
            titles=row.titles,
            share=row.share,
            lift_low=row.lift_low,
        )


@strawberry.type(description="A micro-genre's weight in a region's charts vs the global mix.")
class MicroGenreLift:
    micro_genre_id: strawberry.Private[int]
    lift: float = strawberry.field(description="Share here / share in the global mix.")
    titles: int = strawberry.field(description="Charting titles whose primary micro-genre it is.")
    share: float = strawberry.field(description="Share of the score-weighted chart mix (0..1).")
    lift_low: float | None = strawberry.field(
        description=(
            "Credible lower bound of the lift: its 5th percentile when the region's charting "
            "titles are resampled (`topMicroGenres` ranks by it; null until profiles are "
            "recomputed)."
        )
    )

    @strawberry.field(description="The micro-genre.")
    async def micro_genre(self, info: Info) -> MicroGenre | None:
        row = await info.context.loaders(MicroGenreLoaders).by_id.load(self.micro_genre_id)
        return MicroGenre.from_row(row) if row else None


@strawberry.type(
    description=(
        "What a region watches: over-indexed genres and micro-genres of the titles that "
        "charted there (weighted by regional score), against the global mix. The taste vector "
        "itself lives in pgvector (`region_tastes`, `bi.region_taste`)."
    )
)
class TasteProfile:
    code: strawberry.Private[str]

    @strawberry.field(
        description=(
            "Over-indexed genres (lift > 1) with at least `minTitles` charting titles, by the "
            "credible lower bound of the lift (`liftLow`) so that a genre carried by one or "
            "two titles does not top the list."
        )
    )
    async def top_genres(
        self, info: Info, first: int | None = 10, min_titles: int | None = MIN_TITLES
    ) -> list[GenreLift]:
        size = _first(first, 10)
        rows = await info.context.loaders(AudienceLoaders).genres.load(self.code)
        least = min_titles or 0
        return [GenreLift.of(r) for r in rows if r.lift > 1 and r.titles >= least][:size]

    @strawberry.field(
        description=(
            "Over-indexed micro-genres (lift > 1), by the credible lower bound of the lift "
            "(`liftLow`) so that one carried by one or two titles does not top the list."
        )
    )
    async def top_micro_genres(
        self, info: Info, first: int | None = 10, min_titles: int | None = 2
    ) -> list[MicroGenreLift]:
        size = _first(first, 10)
        rows = await info.context.loaders(AudienceLoaders).micro_genres.load(self.code)
        least = min_titles or 0
        return [
            MicroGenreLift(
                micro_genre_id=r.micro_genre_id,
                lift=r.lift,
                titles=r.titles,
                share=r.share,
                lift_low=r.lift_low,
            )
            for r in rows
            if r.lift > 1 and r.titles >= least
        ][:size]


@strawberry.type(description="Another region and its audience similarity to this one.")
class SimilarRegion:
    region: Region
    similarity: float = strawberry.field(
        description="0.8 x co-charting cosine + 0.2 x taste cosine (see README, Cohorts)."
    )


@strawberry.type(description="A country audiences are measured in.")
class Region:
    code: str = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    name: str
    group: str = strawberry.field(description="LATAM, EMEA, APAC or UCAN.")
    languages: list[str] = strawberry.field(
        description="Main spoken languages, ISO 639-1, most spoken first."
    )

    @classmethod
    def of(cls, row: service.RegionRow) -> Region:
        return cls(code=row.code, name=row.name, group=row.group, languages=row.languages)

    @strawberry.field(description="What over-indexes in the region's charts.")
    def taste_profile(self) -> TasteProfile:
        return TasteProfile(code=self.code)

    @strawberry.field(
        description="Regions with the most similar audience, most similar first (`first` 0..200)."
    )
    async def similar_regions(self, info: Info, first: int | None = 10) -> list[SimilarRegion]:
        size = _first(first, 10)
        space = await info.context.loaders(AudienceLoaders).space()
        pairs = service.similar_regions(space, self.code, size)
        rows = await info.context.loaders(AudienceLoaders).region.load_many([c for c, _ in pairs])
        return [
            SimilarRegion(region=Region.of(row), similarity=sim)
            for row, (_, sim) in zip(rows, pairs, strict=True)
            if row is not None
        ]

    @strawberry.field(description="The audience cohort the region belongs to, if computed.")
    async def cohort(self, info: Info) -> Cohort | None:
        cohort_id = await info.context.loaders(AudienceLoaders).cohort_of_region.load(self.code)
        if cohort_id is None:
            return None
        row = await info.context.loaders(AudienceLoaders).cohort.load(cohort_id)
        return Cohort.of(row) if row else None


@strawberry.type(
    description=(
        "Regions that chart the same titles and share a taste (`contentintel cohorts`), "
        "labelled from the members and what over-indexes there."
    )
)
class Cohort:
    id: strawberry.ID
    label: str
    size: int = strawberry.field(description="Number of member regions.")
    level: int = strawberry.field(
        description="1: a top-level cohort; 2: a sub-cohort of its `parent`."
    )
    top_genres: list[GenreLift] = strawberry.field(
        description=(
            "Genres over-indexed in the cohort's pooled charts vs the global mix, by the "
            "credible lower bound of the lift (`liftLow`)."
        )
    )
    parent_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: service.CohortRow) -> Cohort:
        return cls(
            id=strawberry.ID(str(row.id)),
            label=row.label,
            size=row.size,
            level=row.level,
            parent_id=row.parent_id,
            top_genres=[
                GenreLift(
                    name=str(g.get("name", "")),
                    lift=float(g.get("lift", 0.0)),  # type: ignore[arg-type]
                    titles=int(g.get("titles", 0)),  # type: ignore[call-overload]
                    share=float(g.get("share", 0.0)),  # type: ignore[arg-type]
                    lift_low=(
                        float(g["lift_low"])  # type: ignore[arg-type]
                        if g.get("lift_low") is not None
                        else None
                    ),
                )
                for g in row.top_genres
            ],
        )

    @strawberry.field(description="Member regions, most central first.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await info.context.loaders(AudienceLoaders).cohort_members.load(int(self.id))
        return [Region.of(r) for r in rows]

    @strawberry.field(description="The top-level cohort of a sub-cohort (null at level 1).")
    async def parent(self, info: Info) -> Cohort | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders(AudienceLoaders).cohort.load(self.parent_id)
        return Cohort.of(row) if row else None

    @strawberry.field(
        description=(
            "Sub-cohorts, largest first: the same dendrogram cut again inside this cohort, "
            "aiming at no more than 20 regions each (empty for a sub-cohort, or a cohort too "
            "small to split)."
        )
    )
    async def children(self, info: Info) -> list[Cohort]:
        rows = await info.context.loaders(AudienceLoaders).cohort_children.load(int(self.id))
        return [Cohort.of(r) for r in rows]


@strawberry.type(description="How a title did in one region's weekly Top 10.")
class RegionalPerformance:
    region_code: strawberry.Private[str]
    weeks_in_top10: int
    best_rank: int
    score: float = strawberry.field(
        description="Points / the region's best points (0..1]; points = sum of (11 - rank)."
    )
    points: int = strawberry.field(description="Sum over chart weeks of (11 - best rank).")
    first_week: datetime.date = strawberry.field(description="First chart week (week ending).")
    last_week: datetime.date

    @strawberry.field(description="The region.")
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders(AudienceLoaders).region.load(self.region_code)
        assert row is not None  # regional_scores.region_code references regions
        return Region.of(row)


@strawberry.type(description="How far a title travelled beyond its countries of origin.")
class Travelability:
    regions_charted: int = strawberry.field(description="Regions where it reached the Top 10.")
    origin_region_share: float = strawberry.field(
        description="Share of its chart points earned in its countries of origin (0..1)."
    )
    score: float = strawberry.field(
        description="(1 - originRegionShare) x regionsCharted / regions with chart data (0..1)."
    )


@strawberry.type(description="A catalog title that charted in both compared regions.")
class TravellingTitle:
    title_id: strawberry.Private[int]
    score_a: float = strawberry.field(description="Its regional score in region a.")
    score_b: float = strawberry.field(description="Its regional score in region b.")

    @strawberry.field(description="The title.")
    async def title(self, info: Info) -> Title:
        title = await title_by_id(info, self.title_id)
        assert title is not None  # scores go with their title (ON DELETE CASCADE)
        return title


@strawberry.type(description="Two audiences side by side.")
class AudienceComparison:
    a: Region
    b: Region
    similarity: float | None = strawberry.field(
        description="Audience similarity (see `similarRegions`); null without chart data."
    )
    shared_titles: int = strawberry.field(
        description="Chart entries (catalog titles or not) in the Top 10 of both regions."
    )
    distinctive_for_a: list[GenreLift] = strawberry.field(
        description="Genres relatively stronger in a: lift = (share in a + 0.01) / (share in b "
        "+ 0.01), strongest first."
    )
    distinctive_for_b: list[GenreLift] = strawberry.field(
        description="Genres relatively stronger in b."
    )

    @strawberry.field(
        description="Catalog titles that charted in both, best weaker score first (0..200)."
    )
    async def travelling_titles(self, info: Info, first: int | None = 10) -> list[TravellingTitle]:
        size = _first(first, 10)
        a, b = self.a.code, self.b.code
        rows = await info.context.db(lambda s: service.travelling_titles(s, a, b, size))
        return [TravellingTitle(title_id=t, score_a=x, score_b=y) for t, x, y in rows]


@strawberry.type(description="A genre or micro-genre gaining share of a region's charts.")
class RegionTrend:
    kind: str = strawberry.field(description="GENRE or MICRO_GENRE.")
    name: str
    recent_share: float = strawberry.field(description="Share of chart points since `since`.")
    previous_share: float = strawberry.field(description="Share before `since`.")
    change: float = strawberry.field(description="recentShare - previousShare.")
    titles: int = strawberry.field(description="Charting titles with it since `since`.")


# --- resolvers called from the root Query and from Title ----------------------------------------


async def regions(info: Info) -> list[Region]:
    rows = await info.context.db(service.list_regions)
    return [Region.of(r) for r in rows]


async def region(info: Info, code: str) -> Region | None:
    row = await info.context.loaders(AudienceLoaders).region.load(_code(code))
    return Region.of(row) if row else None


async def compare_audiences(info: Info, a: str, b: str) -> AudienceComparison:
    ca, cb = _code(a, "a"), _code(b, "b")
    space = await info.context.loaders(AudienceLoaders).space()
    result = await info.context.db(lambda s: service.compare_audiences(s, space, ca, cb))
    rows = await info.context.loaders(AudienceLoaders).region.load_many([ca, cb])
    ra, rb = rows
    assert ra is not None
    assert rb is not None
    return AudienceComparison(
        a=Region.of(ra),
        b=Region.of(rb),
        similarity=result.similarity,
        shared_titles=result.shared_titles,
        distinctive_for_a=[GenreLift.of(g) for g in result.distinctive_for_a],
        distinctive_for_b=[GenreLift.of(g) for g in result.distinctive_for_b],
    )


async def cohorts(info: Info) -> list[Cohort]:
    rows = await info.context.db(service.list_cohorts)
    for row in rows:
        info.context.loaders(AudienceLoaders).cohort.prime(row.id, row)
    return [Cohort.of(r) for r in rows]


async def cohort(info: Info, id: strawberry.ID) -> Cohort | None:
    try:
        number = int(str(id))
    except ValueError:
        raise bad_input(f"id must be a numeric cohort id, got {id!r}", "id") from None
    row = await info.context.loaders(AudienceLoaders).cohort.load(number)
    return Cohort.of(row) if row else None


async def region_trends(
    info: Info, code: str, since: datetime.date | None, first: int | None
) -> list[RegionTrend]:
    c = _code(code)
    size = _first(first, 10)
    rows = await info.context.db(lambda s: service.region_trends(s, c, since, size))
    return [
        RegionTrend(
            kind=t.kind,
            name=t.name,
            recent_share=t.recent_share,
            previous_share=t.previous_share,
            change=t.change,
            titles=t.titles,
        )
        for t in rows
    ]


async def regional_performance_of_title(info: Info, title_id: int) -> list[RegionalPerformance]:
    rows = await info.context.loaders(AudienceLoaders).performance.load(title_id)
    return [
        RegionalPerformance(
            region_code=r.region_code,
            weeks_in_top10=r.weeks_in_top10,
            best_rank=r.best_rank,
            score=r.score,
            points=r.points,
            first_week=r.first_week,
            last_week=r.last_week,
        )
        for r in rows
    ]


async def travelability_of_title(info: Info, title_id: int) -> Travelability | None:
    row = await info.context.loaders(AudienceLoaders).travelability.load(title_id)
    if row is None:
        return None
    return Travelability(
        regions_charted=row.regions_charted,
        origin_region_share=row.origin_region_share,
        score=row.score,
    )
