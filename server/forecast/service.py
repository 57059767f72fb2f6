"""Forecasts, what-ifs and localization plans from the current model; model and backtest lists.
The only place the forecast feature builds SQL for the API (no strawberry here)."""

from __future__ import annotations

import enum
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from server.embeddings.embedders import Embedder
from server.embeddings.pipeline import current_projection, embed_text_of
from server.embeddings.projection import Projection
from server.forecast.data import audience_of, facts_of, load_facts
from server.forecast.model import Forecaster, Params, RegionInfo, TitleFacts, TitleForecast
from server.kit.errors import BadInput, NotFound
from server.models.dims import PROJECTED_DIM
from server.similarity.comparables import service as comparables

MAX_VARIANTS = 20
MAX_NAME = 300
MAX_SYNOPSIS = 4000
MAX_LIST = 50
KINDS = ("MOVIE", "SHOW")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_TAG_KINDS = ("GENRE", "THEME", "MOOD", "SETTING", "AUDIENCE", "FORMAT")


# --- the current model ---------------------------------------------------------------------------


@dataclass
class LoadedModel:
    id: int
    version: int
    trained_at: datetime
    embedder: str
    forecaster: Forecaster

    @property
    def regions(self) -> list[RegionInfo]:
        return self.forecaster.data.regions


_cache: dict[tuple[int, datetime], LoadedModel] = {}
"""Keyed by (id, trained_at): a rolled-back or other database never serves a stale state."""
_cache_lock = threading.Lock()


def current_model(conn: Connection) -> LoadedModel:
    """The current model (its state is decoded once per process and version)."""
    row = conn.execute(
        text(
            "SELECT id, version, trained_at, embedder, parameters FROM forecast_models "
            "WHERE is_current"
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no forecast model yet: run `contentintel train`")
    with _cache_lock:
        found = _cache.get((int(row.id), row.trained_at))
    if found is not None:
        return found
    blob = conn.execute(
        text("SELECT state FROM forecast_models WHERE id = :id"), {"id": row.id}
    ).scalar_one()
    with _cache_lock:  # requests that missed together: the first one's decoding serves all
        found = _cache.get((int(row.id), row.trained_at))
    if found is not None:
        return found
    forecaster = Forecaster.from_bytes(
        bytes(blob), Params.from_dict(dict(row.parameters)), str(row.embedder)
    )
    loaded = LoadedModel(
        int(row.id), int(row.version), row.trained_at, str(row.embedder), forecaster
    )
    with _cache_lock:
        _cache.clear()  # only the current model is kept
        _cache[(loaded.id, loaded.trained_at)] = loaded
    return loaded


# --- drafts ------------------------------------------------------------------------------------


@dataclass
class DraftTitle:
    """A title that is not in the catalog (an original in development)."""

    name: str
    kind: str
    synopsis: str | None = None
    genres: list[str] = field(default_factory=list)
    tags: list[tuple[str, str, float]] = field(default_factory=list)
    """(kind, name, weight)"""
    origin_countries: list[str] = field(default_factory=list)
    original_language: str | None = None
    release_year: int | None = None

    def embed_text(self) -> str:
        return embed_text_of(self.name.strip(), (self.synopsis or "").strip() or None)


def validate_draft(conn: Connection, draft: DraftTitle, field_name: str = "draft") -> DraftTitle:
    """The draft cleaned, or ``BadInput`` naming the field."""

    def bad(sub: str, message: str) -> BadInput:
        return BadInput(f"{field_name}.{sub}: {message}", field=f"{field_name}.{sub}")

    name = " ".join(draft.name.split())
    if not name:
        raise bad("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise bad("name", f"must be at most {MAX_NAME} characters")
    if draft.synopsis is not None and len(draft.synopsis) > MAX_SYNOPSIS:
        raise bad("synopsis", f"must be at most {MAX_SYNOPSIS} characters")
    if draft.kind not in KINDS:
        raise bad("kind", f"must be MOVIE or SHOW, got {draft.kind!r}")
    genres = [" ".join(g.split()) for g in draft.genres]
    if any(not g for g in genres) or len(genres) > MAX_LIST:
        raise bad("genres", f"must be non-empty names, at most {MAX_LIST}")
    tags = []
    for kind, tag, weight in draft.tags:
        if kind not in _TAG_KINDS:
            raise bad("tags", f"unknown tag kind {kind!r}")
        if not " ".join(tag.split()):
            raise bad("tags", "tag names must not be empty")
        if not (0 <= weight <= 1) or math.isnan(weight):
            raise bad("tags", f"weight of {tag!r} must be in [0, 1]")
        tags.append((kind, " ".join(tag.split()), float(weight)))
    origins = [c.strip().upper() for c in draft.origin_countries]
    bad_codes = [c for c in origins if not _COUNTRY.match(c)]
    if bad_codes:
        raise bad("originCountries", f"not ISO 3166-1 alpha-2 codes: {', '.join(bad_codes)}")
    if origins:
        known = {
            str(c)
            for c in conn.execute(
                text("SELECT code FROM countries WHERE code = ANY(:c)"), {"c": origins}
            ).scalars()
        }
        unknown = [c for c in origins if c not in known]
        if unknown:
            raise bad("originCountries", f"unknown country codes: {', '.join(unknown)}")
    language = draft.original_language.strip().lower() if draft.original_language else None
    if language is not None and not _LANGUAGE.match(language):
        raise bad("originalLanguage", f"must be an ISO 639-1 code, got {draft.original_language!r}")
    if draft.release_year is not None and not 1900 <= draft.release_year <= 2100:
        raise bad("releaseYear", f"must be between 1900 and 2100, got {draft.release_year}")
    return DraftTitle(
        name=name,
        kind=draft.kind,
        synopsis=draft.synopsis,
        genres=genres,
        tags=tags,
        origin_countries=origins,
        original_language=language,
        release_year=draft.release_year,
    )


def check_embedder(model: LoadedModel, embedder: Embedder) -> None:
    if embedder.name != model.embedder:
        raise NotFound(
            f"the current forecast model (v{model.version}) was trained on {model.embedder} "
            f"vectors but the configured embedder is {embedder.name}: run `contentintel train` "
            "with the configured embedder"
        )


def draft_facts(
    drafts: Sequence[DraftTitle],
    vectors: np.ndarray[Any, Any],
    model: LoadedModel | None = None,
    projection: Projection | None = None,
) -> list[TitleFacts]:
    """Facts of drafts whose texts were embedded (``vectors[i]`` for ``drafts[i]``); genres
    become GENRE tags of weight 1, as catalog ingest stores them. When ``model`` uses learned
    comparables, each draft's audience profile is predicted from its facets (the text's genre
    projection by ``projection``, the embedder's current one; none: a zero projection)."""
    out = []
    learned = model.forecaster.data.comparables_model if model is not None else None
    predictor = comparables.model_from_bytes(learned) if learned else None
    for d, vector in zip(drafts, vectors, strict=True):
        tags = [("GENRE", g, 1.0) for g in dict.fromkeys(d.genres)] + [
            t for t in d.tags if t[0] != "GENRE" or t[1] not in d.genres
        ]
        facts = facts_of(d.kind, d.origin_countries, d.original_language, tags, vector)
        if predictor is not None:
            text_vector = np.asarray(vector, dtype=np.float32)
            projected = (
                projection.apply(text_vector[None, :])[0]
                if projection is not None
                else np.zeros(PROJECTED_DIM, dtype=np.float32)
            )
            content = comparables.draft_content(
                text_vector,
                projected,
                d.kind,
                d.release_year,
                d.origin_countries,
                d.original_language,
                tags,
            )
            facts.audience = comparables.predicted_audience(predictor, content)[0]
        out.append(facts)
    return out


def draft_projection(conn: Connection, model: LoadedModel) -> Projection | None:
    """The genre projection drafts are embedded with (the model's embedder's current one)."""
    found = current_projection(conn, model.embedder)
    return found[1] if found is not None else None


def title_facts(conn: Connection, model: LoadedModel, title_id: int) -> TitleFacts:
    """Facts of a catalog title: its training row when it is in the model, else the catalog."""
    row = model.forecaster.stats.title_row.get(title_id)
    if row is not None:
        return model.forecaster.data.titles[row]
    found = load_facts(conn, [title_id]).get(title_id)
    if found is None:
        raise NotFound(f"no title with id {title_id}", field="titleId")
    if found.embedder != model.embedder:
        raise NotFound(
            f"title {title_id} has no {model.embedder} embedding: run `contentintel embed`",
            field="titleId",
        )
    audience_of(conn, model.forecaster.data, [found.facts])
    return found.facts


# --- forecasts ---------------------------------------------------------------------------------


@dataclass
class RegionOutlook:
    region: RegionInfo
    probability: float
    expected_weeks: float
    low: float
    high: float
    rank: int


@dataclass
class ForecastResult:
    model_version: int
    generated_at: datetime
    title_id: int | None
    facts: TitleFacts
    regions: list[RegionOutlook]
    comparables: list[tuple[int, float]]

    def probability(self) -> dict[str, float]:
        return {r.region.code: r.probability for r in self.regions}


def forecast_facts(model: LoadedModel, facts: Sequence[TitleFacts]) -> list[ForecastResult]:
    now = datetime.now(UTC)
    by_code = {r.code: r for r in model.regions}
    out = []
    forecasts: list[TitleForecast] = model.forecaster.forecast(facts)
    for f, tf in zip(facts, forecasts, strict=True):
        regions = [
            RegionOutlook(by_code[r.code], r.probability, r.expected_weeks, r.low, r.high, rank)
            for rank, r in enumerate(tf.regions, start=1)
        ]
        out.append(ForecastResult(model.version, now, f.title_id, f, regions, tf.comparables))
    return out


# --- what-if -----------------------------------------------------------------------------------


@dataclass
class RegionChange:
    region: RegionInfo
    base_probability: float
    probability: float

    @property
    def delta(self) -> float:
        return self.probability - self.base_probability


@dataclass
class VariantOutcome:
    index: int
    forecast: ForecastResult
    changes: list[RegionChange]
    """Every region, the largest change (either way) first."""


def what_if(base: ForecastResult, variants: Sequence[ForecastResult]) -> list[VariantOutcome]:
    base_p = base.probability()
    out = []
    for i, v in enumerate(variants):
        changes = [RegionChange(r.region, base_p[r.region.code], r.probability) for r in v.regions]
        changes.sort(key=lambda c: (-abs(c.delta), c.region.code))
        out.append(VariantOutcome(i, v, changes))
    return out


# --- localization and marketing plans ------------------------------------------------------------


class Action(enum.StrEnum):
    DUB = "DUB"
    SUBTITLE = "SUBTITLE"
    NONE = "NONE"


class CampaignTier(enum.StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    NONE = "NONE"


TIER_THRESHOLDS = ((CampaignTier.HIGH, 0.5), (CampaignTier.MEDIUM, 0.25), (CampaignTier.LOW, 0.1))
"""Campaign tier by forecast probability (at least this much)."""
DUB_AT = 0.5
"""Dub where the forecast is strong (probability >= this); subtitle where it is moderate."""
SUBTITLE_AT = 0.1
MIN_FUNDED = 3
"""When no region reaches the LOW tier, the best regions (up to this many) are funded LOW."""


@dataclass
class PlanRegion:
    region: RegionInfo
    action: Action
    languages: list[str]
    campaign_tier: CampaignTier
    budget_share: float
    budget: float
    expected_reach: float
    probability: float
    reason: str


@dataclass
class Plan:
    forecast: ForecastResult
    original_language: str | None
    budget: float
    regions: list[PlanRegion]


def check_budget(budget: float, max_regions: int, regions: int) -> None:
    if math.isnan(budget) or math.isinf(budget) or budget <= 0:
        raise BadInput(f"budget must be a positive finite amount, got {budget}", field="budget")
    if not 1 <= max_regions <= regions:
        raise BadInput(
            f"maxRegions must be between 1 and {regions} (the known regions), got {max_regions}",
            field="maxRegions",
        )


def original_language(facts: TitleFacts, regions: Sequence[RegionInfo]) -> str | None:
    """The title's original language, or the main language of its first origin region."""
    if facts.original_language:
        return facts.original_language
    by_code = {r.code: r for r in regions}
    for o in facts.origins:
        if o in by_code:
            return by_code[o].languages[0]
    return None


def localization_plan(forecast: ForecastResult, budget: float, max_regions: int) -> Plan:
    """Per region: localization action, campaign tier and budget share (see README).

    Funded regions are the ``max_regions`` most probable with a tier (probability >= 0.1; when
    none reaches it, the best ``MIN_FUNDED`` get LOW). Budget shares are proportional to the
    expected reach (expected weeks in the Top 10) and sum to 1 over funded regions. Languages
    are the region's languages other than the original: DUB into the main one of them when
    the forecast is strong, SUBTITLE in all of them when moderate, NONE when the region speaks
    the original language (never a dub into the original language), the outlook is weak or
    the region is outside the ``max_regions`` most probable.
    """
    regions = forecast.regions
    language = original_language(forecast.facts, [r.region for r in regions])
    n_regions = len(regions)

    def tier_of(p: float) -> CampaignTier:
        for tier, at in TIER_THRESHOLDS:
            if p >= at:
                return tier
        return CampaignTier.NONE

    tiers = {r.region.code: tier_of(r.probability) for r in regions[:max_regions]}
    funded = [r for r in regions[:max_regions] if tiers[r.region.code] is not CampaignTier.NONE]
    if not funded:
        funded = list(regions[: min(MIN_FUNDED, max_regions)])
        for r in funded:
            tiers[r.region.code] = CampaignTier.LOW
    reach = {r.region.code: max(r.expected_weeks, 1e-6) for r in funded}
    total = sum(reach.values())
    shares = {code: value / total for code, value in reach.items()}
    out = []
    for r in regions:
        code = r.region.code
        tier = tiers.get(code, CampaignTier.NONE) if code in shares else CampaignTier.NONE
        share = shares.get(code, 0.0)
        foreign = [lang for lang in r.region.languages if lang != language]
        speaks_original = language is not None and r.region.languages[0] == language
        languages: list[str]
        if r.rank > max_regions or speaks_original or not foreign:
            action, languages = Action.NONE, []
        elif r.probability >= DUB_AT:
            action, languages = Action.DUB, foreign[:1]
        elif r.probability >= SUBTITLE_AT:
            action, languages = Action.SUBTITLE, foreign
        else:
            action, languages = Action.NONE, []
        reason = _reason(r, n_regions, max_regions, language, action, languages, tier, share)
        out.append(
            PlanRegion(
                r.region,
                action,
                languages,
                tier,
                share,
                share * budget,
                r.expected_weeks,
                r.probability,
                reason,
            )
        )
    return Plan(forecast, language, budget, out)


def _reason(
    r: RegionOutlook,
    n_regions: int,
    max_regions: int,
    language: str | None,
    action: Action,
    languages: list[str],
    tier: CampaignTier,
    share: float,
) -> str:
    head = (
        f"probability {r.probability:.2f} (rank {r.rank} of {n_regions}), "
        f"{r.expected_weeks:.1f} expected weeks in the Top 10 (80% interval "
        f"{r.low:.0f}-{r.high:.0f})"
    )
    spoken = "/".join(r.region.languages)
    if r.rank > max_regions:
        return f"{head}; outside the {max_regions} planned regions: no localization, not funded"
    if action is Action.DUB:
        why = f"strong outlook (>= {DUB_AT:.2f}) and {spoken} differs from {language or '?'}: dub"
    elif action is Action.SUBTITLE:
        why = f"moderate outlook (>= {SUBTITLE_AT:.2f}), {spoken} vs {language or '?'}: subtitle"
    elif language is not None and r.region.languages[0] == language:
        why = f"the region speaks the original language ({language}): no localization"
    else:
        why = f"weak outlook (< {SUBTITLE_AT:.2f}): no localization"
    if languages:
        why += f" ({', '.join(languages)})"
    money = f"campaign {tier.value}: {share:.1%} of the budget" if share > 0 else "not funded"
    return f"{head}; {why}; {money}"


# --- models and backtests ------------------------------------------------------------------------


@dataclass
class ModelInfo:
    id: int
    version: int
    trained_at: datetime
    cutoff: date | None
    window_start: date | None
    window_end: date | None
    embedder: str
    training_titles: int
    regions: int
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    is_current: bool


def list_models(conn: Connection, first: int) -> list[ModelInfo]:
    rows = conn.execute(
        text(
            "SELECT id, version, trained_at, cutoff, window_start, window_end, embedder, "
            "training_titles, regions, parameters, metrics, is_current FROM forecast_models "
            "ORDER BY version DESC LIMIT :n"
        ),
        {"n": first},
    )
    return [ModelInfo(**r._mapping) for r in rows]


@dataclass
class BacktestInfo:
    id: int
    cutoff: date
    embedder: str
    parameters: dict[str, Any]
    methods: list[dict[str, Any]]
    train_titles: int
    test_titles: int
    regions: int
    best_baseline: str | None
    lift: float | None
    seconds: float
    created_at: datetime


def list_backtests(conn: Connection, first: int) -> list[BacktestInfo]:
    rows = conn.execute(
        text(
            "SELECT id, cutoff, embedder, parameters, methods, train_titles, test_titles, "
            "regions, best_baseline, lift, seconds, created_at FROM backtests "
            "ORDER BY created_at DESC, id DESC LIMIT :n"
        ),
        {"n": first},
    )
    return [BacktestInfo(**r._mapping) for r in rows]
