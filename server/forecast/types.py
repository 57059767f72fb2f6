"""GraphQL types and resolvers of forecasts, what-ifs, localization plans, models and backtests
(thin: parsing and shaping; the logic is in ``service.py``). All forecast resolvers live here,
so role checks (analyst) can be added in one place."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import strawberry
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.scalars import JSON

from server.audiences.types import Region
from server.catalog.types import TagInput, Title, title_by_id
from server.embeddings.projection import Projection
from server.forecast import service
from server.forecast.model import RegionInfo, TitleFacts
from server.forecast.service import Action, CampaignTier, DraftTitle, ForecastResult, LoadedModel
from server.kit.ids import parse_id
from server.kit.pagination import check_first
from server.kit.resolving.context import Info
from server.kit.resolving.errors import bad_input
from server.models.catalog import TitleKind
from server.similarity.service import query_embedder

T = TypeVar("T")
MAX_COMPARABLES = 50
MAX_LIST = 100

Action = strawberry.enum(Action, description="Localization action for a region.")  # type: ignore[misc]
CampaignTier = strawberry.enum(CampaignTier, description="Marketing campaign tier.")  # type: ignore[misc]


async def _sync(info: Info, fn: Callable[[Connection], T]) -> T:
    """Run a sync service function on the request's session (serialised like every DB call)."""

    async def run(session: AsyncSession) -> T:
        return await session.run_sync(lambda s: fn(s.connection()))

    return await info.context.db(run)


def _region(r: RegionInfo) -> Region:
    """The audiences' Region type (taste profile, similar regions, cohort reachable from it)."""
    return Region(code=r.code, name=r.name, group=r.group, languages=list(r.languages))


@strawberry.input(
    description="A title that is not in the catalog (e.g. an original in development)."
)
class DraftTitleInput:
    name: str
    kind: TitleKind
    synopsis: str | None = None
    genres: list[str] = strawberry.field(default_factory=list)
    tags: list[TagInput] = strawberry.field(default_factory=list)
    origin_countries: list[str] = strawberry.field(
        default_factory=list, description="ISO 3166-1 alpha-2 codes."
    )
    original_language: str | None = strawberry.field(default=None, description="ISO 639-1 code.")
    release_year: int | None = None

    def to_service(self) -> DraftTitle:
        return DraftTitle(
            name=self.name,
            kind=self.kind.value,
            synopsis=self.synopsis,
            genres=list(self.genres),
            tags=[(t.kind.value, t.name, float(t.weight)) for t in self.tags],
            origin_countries=list(self.origin_countries),
            original_language=self.original_language,
            release_year=self.release_year,
        )


@strawberry.type(description="The forecast for one region.")
class RegionForecast:
    region: Region
    probability: float = strawberry.field(description="Probability of reaching its Top 10.")
    expected_weeks: float = strawberry.field(
        description="Expected weeks in its Top 10 (probability x weeks when charting)."
    )
    low: float = strawberry.field(description="10% quantile of weeks in the Top 10.")
    high: float = strawberry.field(description="90% quantile of weeks in the Top 10.")
    rank: int = strawberry.field(description="1 = the most probable region.")


@strawberry.type(description="A charted catalog title the forecast learns from.")
class Comparable:
    similarity: float
    title_id: strawberry.Private[int]

    @strawberry.field
    async def title(self, info: Info) -> Title | None:
        return await title_by_id(info, self.title_id)


@strawberry.type(description="Per-region forecast of a catalog title or a draft.")
class Forecast:
    model_version: int
    generated_at: datetime.datetime
    title_id: strawberry.ID | None = strawberry.field(
        description="The catalog title forecast; null for a draft."
    )
    regions: list[RegionForecast] = strawberry.field(
        description="Every known region, most probable first."
    )
    all_comparables: strawberry.Private[list[tuple[int, float]]]

    @strawberry.field(description="Nearest charted titles (the comparables), `first` in 1..50.")
    def comparables(self, first: int | None = 10) -> list[Comparable]:
        size = check_first(first, MAX_COMPARABLES, default=10)
        return [Comparable(similarity=s, title_id=t) for t, s in self.all_comparables[:size]]

    @classmethod
    def of(cls, f: ForecastResult) -> Forecast:
        return cls(
            model_version=f.model_version,
            generated_at=f.generated_at,
            title_id=strawberry.ID(str(f.title_id)) if f.title_id is not None else None,
            regions=[
                RegionForecast(
                    region=_region(r.region),
                    probability=r.probability,
                    expected_weeks=r.expected_weeks,
                    low=r.low,
                    high=r.high,
                    rank=r.rank,
                )
                for r in f.regions
            ],
            all_comparables=f.comparables,
        )


@strawberry.type(description="How one region's probability moves from the base to a variant.")
class RegionChange:
    region: Region
    base_probability: float
    probability: float
    delta: float = strawberry.field(description="probability - baseProbability.")


@strawberry.type(description="A what-if variant: its forecast and the change per region.")
class WhatIfVariant:
    index: int = strawberry.field(description="Position in `variants`.")
    forecast: Forecast
    changes: list[RegionChange] = strawberry.field(
        description="Every region, the largest change (either way) first."
    )


@strawberry.type(description="The base forecast and every variant's change.")
class WhatIf:
    base: Forecast
    variants: list[WhatIfVariant]


@strawberry.type(description="What to do in one region.")
class PlanRegion:
    region: Region
    action: Action  # type: ignore[valid-type]
    languages: list[str] = strawberry.field(description="Languages to dub or subtitle into.")
    campaign_tier: CampaignTier  # type: ignore[valid-type]
    budget_share: float = strawberry.field(description="Share of the budget; 0 when not funded.")
    budget: float = strawberry.field(description="budgetShare x budget.")
    expected_reach: float = strawberry.field(description="Expected weeks in the Top 10.")
    probability: float
    reason: str


@strawberry.type(description="Localization and marketing plan from a forecast.")
class LocalizationPlan:
    forecast: Forecast
    original_language: str | None
    budget: float
    regions: list[PlanRegion] = strawberry.field(description="Every region, most probable first.")


@strawberry.type(description="A trained forecast model version.")
class ForecastModelInfo:
    id: strawberry.ID
    version: int
    trained_at: datetime.datetime
    cutoff: datetime.date | None = strawberry.field(
        description="Trained on chart weeks before this date; null = every week."
    )
    window_start: datetime.date | None
    window_end: datetime.date | None
    embedder: str
    training_titles: int
    regions: int
    parameters: JSON
    metrics: JSON
    is_current: bool


@strawberry.type(description="One method's scores in a backtest.")
class MethodMetrics:
    method: str
    baseline: bool
    ndcg10: float | None = strawberry.field(description="Mean NDCG@10 over regions.")
    precision10: float | None = strawberry.field(description="Mean precision@10.")
    auc: float | None = strawberry.field(description="Mean ROC-AUC over regions.")


@strawberry.type(description="A stored time-split backtest.")
class Backtest:
    id: strawberry.ID
    cutoff: datetime.date
    embedder: str
    parameters: JSON
    methods: list[MethodMetrics] = strawberry.field(description="The model first, then baselines.")
    train_titles: int
    test_titles: int
    regions: int
    best_baseline: str | None
    lift: float | None = strawberry.field(
        description="Relative NDCG@10 gain of the model over the best baseline."
    )
    created_at: datetime.datetime


# --- resolvers ---------------------------------------------------------------------------------


async def _embed(info: Info, model: LoadedModel, drafts: Sequence[DraftTitle]) -> Any:
    embedder = await asyncio.to_thread(query_embedder, info.context.settings.embedder)
    service.check_embedder(model, embedder)
    if not drafts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return await asyncio.to_thread(embedder.embed, [d.embed_text() for d in drafts])


async def _facts(
    info: Info,
    title_id: strawberry.ID | None,
    draft: DraftTitleInput | None,
) -> tuple[LoadedModel, TitleFacts]:
    if (title_id is None) == (draft is None):
        raise bad_input("give exactly one of titleId and draft", "titleId")
    if title_id is not None:
        tid = parse_id(title_id, "title", "titleId")

        def load(conn: Connection) -> tuple[LoadedModel, TitleFacts]:
            model = service.current_model(conn)
            return model, service.title_facts(conn, model, tid)

        return await _sync(info, load)
    assert draft is not None

    def prepare_draft(conn: Connection) -> tuple[LoadedModel, DraftTitle, Projection | None]:
        model = service.current_model(conn)
        cleaned = service.validate_draft(conn, draft.to_service())
        return model, cleaned, service.draft_projection(conn, model)

    model, cleaned, projection = await _sync(info, prepare_draft)
    vectors = await _embed(info, model, [cleaned])
    return model, service.draft_facts([cleaned], vectors, model, projection)[0]


async def forecast(
    info: Info, title_id: strawberry.ID | None, draft: DraftTitleInput | None
) -> Forecast:
    model, facts = await _facts(info, title_id, draft)
    return Forecast.of(service.forecast_facts(model, [facts])[0])


async def what_if(info: Info, base: DraftTitleInput, variants: list[DraftTitleInput]) -> WhatIf:
    if not 1 <= len(variants) <= service.MAX_VARIANTS:
        raise bad_input(
            f"variants must hold 1 to {service.MAX_VARIANTS} drafts, got {len(variants)}",
            "variants",
        )

    def prepare(conn: Connection) -> tuple[LoadedModel, list[DraftTitle], Projection | None]:
        model = service.current_model(conn)
        drafts = [service.validate_draft(conn, base.to_service(), "base")]
        drafts += [
            service.validate_draft(conn, v.to_service(), f"variants[{i}]")
            for i, v in enumerate(variants)
        ]
        return model, drafts, service.draft_projection(conn, model)

    model, drafts, projection = await _sync(info, prepare)
    vectors = await _embed(info, model, drafts)
    results = service.forecast_facts(model, service.draft_facts(drafts, vectors, model, projection))
    outcomes = service.what_if(results[0], results[1:])
    return WhatIf(
        base=Forecast.of(results[0]),
        variants=[
            WhatIfVariant(
                index=o.index,
                forecast=Forecast.of(o.forecast),
                changes=[
                    RegionChange(
                        region=_region(c.region),
                        base_probability=c.base_probability,
                        probability=c.probability,
                        delta=c.delta,
                    )
                    for c in o.changes
                ],
            )
            for o in outcomes
        ],
    )


async def localization_plan(
    info: Info,
    title_id: strawberry.ID | None,
    draft: DraftTitleInput | None,
    budget: float,
    max_regions: int,
) -> LocalizationPlan:
    if (title_id is None) == (draft is None):
        raise bad_input("give exactly one of titleId and draft", "titleId")
    # Cheap argument checks first (the region count needs the model).
    service.check_budget(budget, max(max_regions, 1), max(max_regions, 1))
    model, facts = await _facts(info, title_id, draft)
    service.check_budget(budget, max_regions, len(model.regions))
    result = service.forecast_facts(model, [facts])[0]
    plan = service.localization_plan(result, budget, max_regions)
    return LocalizationPlan(
        forecast=Forecast.of(result),
        original_language=plan.original_language,
        budget=plan.budget,
        regions=[
            PlanRegion(
                region=_region(r.region),
                action=r.action,
                languages=r.languages,
                campaign_tier=r.campaign_tier,
                budget_share=r.budget_share,
                budget=r.budget,
                expected_reach=r.expected_reach,
                probability=r.probability,
                reason=r.reason,
            )
            for r in plan.regions
        ],
    )


def _first(first: int | None, default: int = 20) -> int:
    return check_first(first, MAX_LIST, default=default)


async def forecast_models(info: Info, first: int | None) -> list[ForecastModelInfo]:
    size = _first(first)
    rows = await _sync(info, lambda c: service.list_models(c, size))
    return [
        ForecastModelInfo(
            id=strawberry.ID(str(m.id)),
            version=m.version,
            trained_at=m.trained_at,
            cutoff=m.cutoff,
            window_start=m.window_start,
            window_end=m.window_end,
            embedder=m.embedder,
            training_titles=m.training_titles,
            regions=m.regions,
            parameters=cast(JSON, m.parameters),
            metrics=cast(JSON, m.metrics),
            is_current=m.is_current,
        )
        for m in rows
    ]


async def backtests(info: Info, first: int | None) -> list[Backtest]:
    size = _first(first)
    rows = await _sync(info, lambda c: service.list_backtests(c, size))
    return [
        Backtest(
            id=strawberry.ID(str(b.id)),
            cutoff=b.cutoff,
            embedder=b.embedder,
            parameters=cast(JSON, b.parameters),
            methods=[
                MethodMetrics(
                    method=str(m["method"]),
                    baseline=bool(m["baseline"]),
                    ndcg10=m.get("ndcg10"),
                    precision10=m.get("precision10"),
                    auc=m.get("auc"),
                )
                for m in b.methods
            ],
            train_titles=b.train_titles,
            test_titles=b.test_titles,
            regions=b.regions,
            best_baseline=b.best_baseline,
            lift=b.lift,
            created_at=b.created_at,
        )
        for b in rows
    ]
