"""Learned comparables: fitting and storing the model and the titles' vectors, the audience
overlap@10 measure of every comparables method, and nearest comparables in SQL.

``fit_comparables`` (CLI ``contentintel comparables``) fits ``ComparablesModel`` on the titles
that charted before ``before`` (every week when None), stores it as the next version in
``comparables_models`` (current) and writes every embedded title's vector to
``title_comparables`` (pgvector, cosine HNSW): the observed profile of a title with chart
history, the predicted one for every other title.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from pgvector.psycopg import register_vector
from sqlalchemy import Connection, text

from server.audiences.service import compute_regional_scores
from server.catalog.service import ORIGINS_SQL, TAG_LIST_SQL
from server.embeddings.facets import (
    DEFAULT_WEIGHTS,
    FacetWeights,
    TitleFeatures,
    metadata_vector,
    tags_vector,
)
from server.embeddings.vectors import sync_driver
from server.ingest.bulk import drop_hnsw_for_bulk_write, recreate_indexes
from server.models.dims import PEOPLE_DIM
from server.similarity.comparables.model import (
    BLOCKS,
    ComparablesModel,
    Content,
    Matrix,
    Params,
    Vectors,
    one_hot_values,
    pad,
)
from server.similarity.comparables.profiles import (
    K,
    PointsRow,
    Profiles,
    audience_profiles,
    overlap_at,
    self_exclusions,
    top_k,
)

__all__ = [
    "PointsRow",
    "TrainingAudience",
    "catalog_content",
    "draft_content",
    "fit_comparables",
    "load_catalog",
    "measure_all_titles",
    "measure_time_split",
    "model_from_bytes",
    "predicted_audience",
    "training_audience",
]

FOLDS = 5
"""Cross-fitting folds of the in-sample (all titles) measure of the learned comparables."""
RANDOM_DRAWS = 20


# --- reading ---------------------------------------------------------------------------------


_CONTENT = f"""
SELECT e.title_id, e.embedder, t.kind::text AS kind, t.original_language, t.release_year,
       {ORIGINS_SQL} AS origins, {TAG_LIST_SQL} AS tag_list,
       e.text::real[] AS text, e.projected::real[] AS projected, e.synopsis::real[] AS synopsis,
       e.tags::real[] AS tags, e.metadata::real[] AS metadata, e.people::real[] AS people
FROM title_embeddings e JOIN titles t ON t.id = e.title_id
WHERE CAST(:ids AS bigint[]) IS NULL OR e.title_id = ANY(CAST(:ids AS bigint[]))
ORDER BY e.title_id
"""
_FACETS = (*BLOCKS, "synopsis")


@dataclass
class Catalog:
    """Embedded titles (sorted ids) with their content and the embedder."""

    ids: list[int]
    content: Content
    embedder: str | None

    def index(self, ids: Sequence[int]) -> list[int]:
        at = {t: i for i, t in enumerate(self.ids)}
        return [at[t] for t in ids]


def load_catalog(
    conn: Connection, ids: Sequence[int] | None = None, draft_visible: bool = False
) -> Catalog:
    """Embedded titles' content. ``draft_visible``: only what a draft can say about itself
    (``draft_content``): metadata from kind, year, origins, language and tags (no rating,
    length or seasons) and no people, so that a draft and a catalog title with the same
    draft fields are described alike (the forecaster's rule)."""
    rows = conn.execute(text(_CONTENT), {"ids": list(ids) if ids is not None else None}).all()
    facets = {
        name: np.asarray([getattr(r, name) for r in rows], dtype=np.float32).reshape(len(rows), -1)
        for name in _FACETS
    }
    if draft_visible and rows:
        facets["metadata"] = np.stack(
            [
                draft_metadata(
                    r.kind,
                    r.release_year,
                    list(r.origins),
                    r.original_language,
                    [(str(k), str(n), float(w)) for k, n, w in r.tag_list],
                )
                for r in rows
            ]
        )
        facets["people"] = np.zeros_like(facets["people"])
    values = [one_hot_values(r.kind, list(r.origins), r.original_language) for r in rows]
    embedders = {str(r.embedder) for r in rows}
    return Catalog(
        [int(r.title_id) for r in rows],
        Content(facets, values),
        embedders.pop() if len(embedders) == 1 else None,
    )


def chart_points(conn: Connection, before: date | None = None) -> list[PointsRow]:
    return [
        PointsRow(s.title_id, s.region_code, s.points)
        for s in compute_regional_scores(conn, before=before)
    ]


def first_weeks(conn: Connection) -> dict[int, date]:
    first: dict[int, date] = {}
    for s in compute_regional_scores(conn):
        if s.title_id not in first or s.first_week < first[s.title_id]:
            first[s.title_id] = s.first_week
    return first


# --- fitting and storing ---------------------------------------------------------------------


@dataclass
class FitSummary:
    model_id: int
    version: int
    training_titles: int
    regions: int
    vectors: int
    observed: int
    """Titles whose vector is their observed profile (the rest: predicted from content)."""
    seconds: float


def fit_model(
    catalog: Catalog, profiles: Profiles, params: Params | None = None
) -> ComparablesModel:
    """The model fitted on the catalog titles that have a profile."""
    charted = [t for t in profiles.title_ids if t in set(catalog.ids)]
    rows = catalog.index(charted)
    at = {t: i for i, t in enumerate(profiles.title_ids)}
    targets = profiles.unit[[at[t] for t in charted]]
    return ComparablesModel.fit(
        catalog.content.rows(rows), targets, profiles.regions, profiles.mean, params
    )


def title_vectors(model: ComparablesModel, catalog: Catalog, profiles: Profiles) -> Vectors:
    """Every catalog title's comparables vector: observed profile when it has one, else the
    predicted one."""
    vectors = model.vectors(catalog.content)
    observed = pad(profiles.unit)
    at = {t: i for i, t in enumerate(catalog.ids)}
    for j, title in enumerate(profiles.title_ids):
        if title in at and profiles.totals[j] > 0:
            vectors[at[title]] = observed[j]
    return vectors


def fit_comparables(
    conn: Connection, before: date | None = None, params: Params | None = None
) -> FitSummary:
    """Fit on chart weeks before ``before`` (all when None), store the model as the current
    version and replace every title's vector (the caller commits)."""
    started = time.perf_counter()
    params = params or Params()
    catalog = load_catalog(conn)
    if not catalog.ids:
        raise ValueError("no embedded titles: run `contentintel embed` first")
    profiles = audience_profiles(chart_points(conn, before))
    model = fit_model(catalog, profiles, params)
    vectors = title_vectors(model, catalog, profiles)
    version = int(
        conn.execute(text("SELECT coalesce(max(version), 0) + 1 FROM comparables_models")).scalar()
        or 1
    )
    conn.execute(text("UPDATE comparables_models SET is_current = false WHERE is_current"))
    model_id = int(
        conn.execute(
            text(
                "INSERT INTO comparables_models (version, cutoff, embedder, training_titles, "
                "parameters, metrics, state, is_current) VALUES (:v, :c, :e, :n, "
                "CAST(:p AS jsonb), CAST(:m AS jsonb), :s, true) RETURNING id"
            ),
            {
                "v": version,
                "c": before,
                "e": catalog.embedder or "mixed",
                "n": len(set(profiles.title_ids) & set(catalog.ids)),
                "p": json.dumps(params.as_dict()),
                "m": json.dumps(
                    {"regions": len(profiles.regions), "vocabulary": len(model.vocabulary)}
                ),
                "s": model.to_bytes(),
            },
        ).scalar_one()
    )
    _write_vectors(conn, model_id, catalog.ids, vectors)
    observed = len(set(profiles.title_ids) & set(catalog.ids))
    return FitSummary(
        model_id,
        version,
        observed,
        len(profiles.regions),
        len(catalog.ids),
        observed,
        time.perf_counter() - started,
    )


def _write_vectors(conn: Connection, model_id: int, ids: Sequence[int], vectors: Vectors) -> None:
    conn.execute(text("DELETE FROM title_comparables"))
    raw = sync_driver(conn)
    if raw is None:  # an async driver under run_sync: plain inserts (small catalogs, tests)
        conn.execute(
            text(
                "INSERT INTO title_comparables (title_id, model_id, vector) "
                "VALUES (:t, :m, CAST(:v AS vector))"
            ),
            [
                {"t": title, "m": model_id, "v": "[" + ",".join(f"{x:.7g}" for x in vector) + "]"}
                for title, vector in zip(ids, vectors, strict=True)
            ],
        )
        return
    indexes = drop_hnsw_for_bulk_write(conn, "title_comparables", len(ids))
    register_vector(raw)
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY title_comparables (title_id, model_id, vector) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["int8", "int8", "vector"])
        for title, vector in zip(ids, vectors, strict=True):
            copy.write_row((title, model_id, vector))
    if indexes:
        recreate_indexes(conn, indexes)
    conn.execute(text("ANALYZE title_comparables"))


# --- for the forecaster ----------------------------------------------------------------------


@dataclass
class TrainingAudience:
    """Learned comparables of a forecaster's training titles (rows in the given order)."""

    observed: Matrix
    """titles x regions: observed centred unit profiles (the comparables' side)."""
    crossfitted: Matrix
    """titles x regions: unit profiles predicted from content by a model that did not see the
    title's charts (``FOLDS`` folds): the query side for a training title."""
    model: ComparablesModel
    """Fitted on every training title: the query side for any other title."""


def training_audience(
    conn: Connection,
    title_ids: Sequence[int],
    points: Sequence[PointsRow],
    regions: Sequence[str],
    params: Params | None = None,
) -> TrainingAudience:
    """Fit the learned comparables on ``title_ids`` (embedded, with ``points``) over
    ``regions`` (in that order), from the titles' draft-visible content (``load_catalog``)."""
    catalog = load_catalog(conn, title_ids, draft_visible=True)
    missing = set(title_ids) - set(catalog.ids)
    if missing:
        raise ValueError(f"{len(missing)} training titles have no embedding")
    wanted = set(title_ids)
    profiles = audience_profiles([p for p in points if p.title_id in wanted], regions)
    profiles = _subset(profiles, list(title_ids))
    content = catalog.content.rows(catalog.index(title_ids))
    model = ComparablesModel.fit(content, profiles.unit, profiles.regions, profiles.mean, params)
    crossfitted = np.zeros_like(profiles.unit)
    folds = np.arange(len(title_ids)) % FOLDS
    np.random.default_rng(7).shuffle(folds)
    for fold in range(FOLDS):
        held = np.flatnonzero(folds == fold)
        kept = np.flatnonzero(folds != fold)
        if not len(held) or len(kept) < 2:
            continue
        inner = ComparablesModel.fit(
            content.rows(list(kept)), profiles.unit[kept], profiles.regions, profiles.mean, params
        )
        crossfitted[held] = _unit(inner.predicted(content.rows(list(held))))
    return TrainingAudience(profiles.unit, crossfitted, model)


def predicted_audience(model: ComparablesModel, content: Content) -> Matrix:
    """Unit predicted profiles (over ``model.regions``) of titles described by ``content``."""
    return _unit(model.predicted(content))


def catalog_content(conn: Connection, title_ids: Sequence[int]) -> tuple[list[int], Content]:
    """(embedded ids among ``title_ids``, their draft-visible content: ``load_catalog``)."""
    catalog = load_catalog(conn, title_ids, draft_visible=True)
    return catalog.ids, catalog.content


def draft_metadata(
    kind: str,
    release_year: int | None,
    origins: Sequence[str],
    language: str | None,
    tags: Sequence[tuple[str, str, float]],
) -> Vectors:
    """The metadata facet from what a draft gives (no rating, length or seasons)."""
    return metadata_vector(
        TitleFeatures(
            kind=kind,
            release_year=release_year,
            maturity_rating=None,
            duration_minutes=None,
            seasons=None,
            original_language=language,
            countries=list(origins),
            tags=sorted(tags, key=lambda t: (t[0], t[1])),
        )
    )


def draft_content(
    text_vector: Vectors,
    projected: Vectors,
    kind: str,
    release_year: int | None,
    origins: Sequence[str],
    language: str | None,
    tags: Sequence[tuple[str, str, float]],
) -> Content:
    """The content of one title that is not in the catalog (a draft): its facets as
    ``server.embeddings`` computes them from the draft's fields (a draft credits nobody yet:
    its people facet is zero)."""
    ordered = sorted(tags, key=lambda t: (t[0], t[1]))
    facets = {
        "text": np.asarray(text_vector, dtype=np.float32)[None, :],
        "projected": np.asarray(projected, dtype=np.float32)[None, :],
        "tags": tags_vector(ordered)[None, :],
        "metadata": draft_metadata(kind, release_year, origins, language, ordered)[None, :],
        "people": np.zeros((1, PEOPLE_DIM), dtype=np.float32),
    }
    return Content(facets, [one_hot_values(kind, origins, language)])


def model_from_bytes(blob: bytes) -> ComparablesModel:
    return ComparablesModel.from_bytes(blob)


# --- the measure -----------------------------------------------------------------------------


@dataclass
class OverlapTable:
    """overlap@10 per method, in the order computed."""

    setting: str
    queries: int
    candidates: int
    regions: int
    scores: dict[str, float] = field(default_factory=dict)


def _unit(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    out: Matrix = matrix / np.where(norms > 0, norms, 1.0)
    return out


def content_similarity(
    content: Content, queries: Sequence[int], candidates: Sequence[int], facet: str
) -> Matrix:
    """Cosine of one stored facet (``text``, ``synopsis``, ``tags``, ``metadata``,
    ``people``), rows ``queries``, columns ``candidates`` (row numbers of ``content``)."""
    matrix = np.asarray(content.facets[facet], dtype=np.float64)
    out: Matrix = _unit(matrix[list(queries)]) @ _unit(matrix[list(candidates)]).T
    return out


def combined_similarity(
    content: Content,
    queries: Sequence[int],
    candidates: Sequence[int],
    weights: FacetWeights = DEFAULT_WEIGHTS,
) -> Matrix:
    """The weighted mean of facet cosines, as ``similarTitles`` ranks by."""
    total: Matrix = np.zeros((len(queries), len(candidates)))
    for facet, weight in weights.as_dict().items():
        if weight > 0:
            total += weight * content_similarity(content, queries, candidates, facet)
    out: Matrix = total / weights.total
    return out


Method = Callable[[Sequence[int], Sequence[int]], Matrix]


def _scores(
    queries: Profiles,
    candidates: Profiles,
    same: bool,
    methods: dict[str, Method],
) -> dict[str, float]:
    exclude = self_exclusions(queries.title_ids, candidates.title_ids) if same else None
    out = {}
    rng = np.random.default_rng(20261203)
    draws = [
        overlap_at(
            queries.unit,
            candidates.unit,
            top_k(rng.random((len(queries.title_ids), len(candidates.title_ids))), K, exclude),
        )
        for _ in range(RANDOM_DRAWS)
    ]
    out["random"] = float(np.mean(draws))
    for name, method in methods.items():
        sims = method(queries.title_ids, candidates.title_ids)
        out[name] = overlap_at(queries.unit, candidates.unit, top_k(sims, K, exclude))
    popular = np.tile(candidates.totals, (len(queries.title_ids), 1))
    out["most chart points"] = overlap_at(queries.unit, candidates.unit, top_k(popular, K, exclude))
    out["ceiling (own profiles)"] = overlap_at(
        queries.unit, candidates.unit, top_k(queries.unit @ candidates.unit.T, K, exclude)
    )
    return out


def _content_methods(catalog: Catalog) -> dict[str, Method]:
    def facet(name: str) -> Method:
        return lambda q, c: content_similarity(
            catalog.content, catalog.index(q), catalog.index(c), name
        )

    methods = {name: facet(name) for name in ("text", "synopsis", "tags", "metadata", "people")}
    methods["combined (default weights)"] = lambda q, c: combined_similarity(
        catalog.content, catalog.index(q), catalog.index(c)
    )
    return methods


def measure_all_titles(
    conn: Connection, catalog: Catalog | None = None, params: Params | None = None
) -> OverlapTable:
    """overlap@10 with every charting title as query and candidate, profiles over every
    week. The learned comparables are cross-fitted (``FOLDS`` folds of titles: each query's
    predicted profile comes from a model that did not see its charts)."""
    profiles = audience_profiles(chart_points(conn))
    catalog = catalog or load_catalog(conn)
    profiles = _restrict(profiles, catalog)
    methods = _content_methods(catalog)
    ids = profiles.title_ids
    folds = np.arange(len(ids)) % FOLDS
    np.random.default_rng(7).shuffle(folds)
    predicted = np.zeros((len(ids), len(profiles.regions)))
    for fold in range(FOLDS):
        train = [t for t, f in zip(ids, folds, strict=True) if f != fold]
        held = [i for i, f in enumerate(folds) if f == fold]
        model = fit_model(catalog, _subset(profiles, train), params)
        predicted[held] = model.predicted(
            catalog.content.rows(catalog.index([ids[i] for i in held]))
        )
    row = {t: i for i, t in enumerate(ids)}
    methods["learned comparables"] = lambda q, c: (
        _unit(predicted[[row[t] for t in q]]) @ profiles.unit[[row[t] for t in c]].T
    )
    table = OverlapTable("all titles", len(ids), len(ids), len(profiles.regions))
    table.scores = _scores(profiles, profiles, True, methods)
    return table


def measure_time_split(
    conn: Connection,
    cutoff: date,
    catalog: Catalog | None = None,
    params: Params | None = None,
) -> OverlapTable:
    """overlap@10 of the titles that first chart on or after ``cutoff`` (profiles from those
    weeks) against comparables among the titles that charted before it (profiles, centring
    mean and the learned model from the weeks before it)."""
    catalog = catalog or load_catalog(conn)
    before = _restrict(audience_profiles(chart_points(conn, cutoff)), catalog)
    first = first_weeks(conn)
    new = {t for t, week in first.items() if week >= cutoff}
    after = audience_profiles(
        [r for r in chart_points(conn) if r.title_id in new],
        regions=before.regions,
        mean=before.mean,
    )
    after = _restrict(after, catalog)
    model = fit_model(catalog, before, params)
    methods = _content_methods(catalog)
    predicted = model.predicted(catalog.content.rows(catalog.index(after.title_ids)))
    methods["learned comparables"] = lambda q, c: _unit(predicted) @ before.unit.T
    table = OverlapTable(
        f"time split at {cutoff}",
        len(after.title_ids),
        len(before.title_ids),
        len(before.regions),
    )
    table.scores = _scores(after, before, False, methods)
    return table


def _subset(profiles: Profiles, ids: Sequence[int]) -> Profiles:
    """The same profiles (same centring) for ``ids`` only."""
    at = {t: i for i, t in enumerate(profiles.title_ids)}
    rows = [at[t] for t in ids]
    return Profiles(
        list(ids), profiles.regions, profiles.points[rows], profiles.mean, profiles.unit[rows]
    )


def _restrict(profiles: Profiles, catalog: Catalog) -> Profiles:
    embedded = set(catalog.ids)
    return _subset(profiles, [t for t in profiles.title_ids if t in embedded])


def format_table(tables: Sequence[OverlapTable]) -> str:
    """A markdown table: one row per method, one column per setting."""
    names = list(dict.fromkeys(n for t in tables for n in t.scores))
    head = "| method | " + " | ".join(t.setting for t in tables) + " |"
    rule = "|---|" + "---|" * len(tables)
    lines = [head, rule]
    for name in names:
        cells = [
            f"{t.scores[name]:.3f}" if not math.isnan(t.scores.get(name, math.nan)) else "-"
            for t in tables
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe(tables: Sequence[OverlapTable]) -> list[dict[str, Any]]:
    return [
        {
            "setting": t.setting,
            "queries": t.queries,
            "candidates": t.candidates,
            "regions": t.regions,
            **t.scores,
        }
        for t in tables
    ]
