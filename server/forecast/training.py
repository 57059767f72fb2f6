"""Training, tuning and backtests (plain functions over a connection; the CLI and tests call
them alike).

Tuning never looks at test titles: the parameters (comparables ``k``, regularisation ``C``,
tags weight of the comparables' similarity) are chosen on an *inner* time split of the
training window: the last ``INNER_SHARE`` of training titles (by first chart week) are held
out, the model is trained on the weeks before the first of them, and scored on them with
their outcomes inside the training window.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from server.forecast.data import (
    Window,
    audience_of,
    chart_window,
    load_facts,
    load_regions,
    load_training,
    outcome_matrices,
)
from server.forecast.model import (
    DEFAULT_COMPARABLES,
    Forecaster,
    Matrix,
    MethodScore,
    Params,
    RegionInfo,
    TitleFacts,
    TrainingData,
    evaluate,
    knn_rates,
    neighbours,
    similarities,
)

log = logging.getLogger("contentintel.forecast")

INNER_SHARE = 0.25
GRID_K = (10, 20, 40)
GRID_C = (0.1, 1.0)
GRID_TAG_WEIGHT = (0.0, 0.3)
BASELINE_K = 20
TARGET_LIFT = 0.15
"""The issue's bar: the model beats the best baseline by 15% relative NDCG@10."""

Progress = Callable[[str, int, int], None]


def baseline_scores(train: TrainingData, queries: Sequence[TitleFacts]) -> dict[str, Matrix]:
    """(a) popularity prior, (b) prior + origin-country boost, (c) kNN over text comparables."""
    forecaster = Forecaster(train, Params())
    prior = forecaster.stats.prior
    n = len(queries)
    index = forecaster.stats.region_index
    boost = np.zeros((n, len(train.regions)))
    for i, q in enumerate(queries):
        for o in q.origins:
            if o in index:
                boost[i, index[o]] = 1.0
    sims = similarities(train, forecaster.stats, queries, 0.0)
    excluded = forecaster.exclusions(queries)
    knn = knn_rates(train, neighbours(sims, excluded, BASELINE_K))
    return {
        "prior": np.tile(prior, (n, 1)),
        "prior+origin": np.tile(prior, (n, 1)) + boost,
        "knn comparables": knn + prior * 1e-3,
    }


def score_methods(
    train: TrainingData, params: Params, queries: Sequence[TitleFacts], relevance: Matrix
) -> list[MethodScore]:
    """The model (fitted on ``train``) and every baseline scored on the same titles."""
    model = Forecaster(train, params).fit()
    probs, _ = model.predict(queries)
    out = [evaluate("model", False, probs, relevance)]
    for name, scores in baseline_scores(train, queries).items():
        out.append(evaluate(name, True, scores, relevance))
    return out


@dataclass
class TuneResult:
    params: Params
    inner_cutoff: date | None
    inner_train_titles: int
    inner_test_titles: int
    grid: list[dict[str, Any]] = field(default_factory=list)


def _test_split(window: Window, facts_ok: Callable[[int], bool], cutoff: date) -> list[int]:
    return sorted(t for t, w in window.first_week.items() if w >= cutoff and facts_ok(t))


def tune(
    conn: Connection,
    embedder: str,
    regions: Sequence[RegionInfo],
    before: date | None,
    progress: Progress | None = None,
    comparables: str = DEFAULT_COMPARABLES,
) -> TuneResult:
    """Choose parameters on the inner split of the window before ``before`` (see module doc).
    ``comparables`` is fixed, not tuned (``learned``: refitted on the inner window)."""
    default = Params(comparables=comparables)
    window = chart_window(conn, before)
    firsts = sorted(set(window.first_week.values()))
    if len(firsts) < 4:
        return TuneResult(default, None, 0, 0)
    weeks_sorted = sorted(window.first_week.values())
    inner_cutoff = weeks_sorted[int(len(weeks_sorted) * (1 - INNER_SHARE))]
    if inner_cutoff == weeks_sorted[0]:
        return TuneResult(default, None, 0, 0)
    inner_train, _ = load_training(conn, embedder, inner_cutoff, regions, comparables)
    facts = load_facts(conn, sorted(window.first_week))
    test_ids = _test_split(
        window, lambda t: t in facts and facts[t].embedder == embedder, inner_cutoff
    )
    if len(inner_train.titles) < 10 or not test_ids:
        return TuneResult(default, inner_cutoff, len(inner_train.titles), len(test_ids))
    _, relevance = outcome_matrices(window.scores, test_ids, regions)
    queries = [facts[t].facts for t in test_ids]
    audience_of(conn, inner_train, queries)
    grid = list(itertools.product(GRID_K, GRID_C, GRID_TAG_WEIGHT))
    if comparables == "learned":  # the tags weight only shapes content comparables
        grid = list(itertools.product(GRID_K, GRID_C, (0.0,)))
    result = TuneResult(default, inner_cutoff, len(inner_train.titles), len(test_ids))
    best = -1.0
    for n, (k, c, tw) in enumerate(grid):
        params = Params(k=k, c=c, tag_weight=tw, comparables=comparables)
        model = Forecaster(inner_train, params).fit()
        probs, _ = model.predict(queries)
        score = evaluate("model", False, probs, relevance)
        result.grid.append({**params.as_dict(), "ndcg10": score.ndcg10})
        if score.ndcg10 > best + 1e-12:
            best, result.params = score.ndcg10, params
        if progress:
            progress("tuning on an inner split", n + 1, len(grid))
    return result


@dataclass
class TrainSummary:
    model_id: int
    version: int
    training_titles: int
    regions: int
    params: Params
    metrics: dict[str, Any]
    seconds: float


def _next_version(conn: Connection) -> int:
    conn.execute(text("LOCK TABLE forecast_models IN SHARE ROW EXCLUSIVE MODE"))
    current = conn.execute(text("SELECT coalesce(max(version), 0) FROM forecast_models"))
    return int(current.scalar_one()) + 1


def train_model(
    conn: Connection,
    embedder: str,
    *,
    before: date | None = None,
    params: Params | None = None,
    progress: Progress | None = None,
    comparables: str = DEFAULT_COMPARABLES,
) -> TrainSummary:
    """Train on chart weeks before ``before`` (all when None), store the model as the next
    version and make it current (the caller commits). ``comparables`` applies when
    ``params`` is None (tuned); given ``params`` carry their own."""
    started = time.perf_counter()
    regions = load_regions(conn)
    if params is not None:
        comparables = params.comparables
    if progress:
        progress("loading chart data", 0, 1)
    data, info = load_training(conn, embedder, before, regions, comparables)
    if progress:
        progress("loading chart data", 1, 1)
    if len(data.titles) < 2:
        raise ValueError(
            "no chart data to learn from: run `contentintel ingest top10-countries` (and "
            "`contentintel embed`) first"
        )
    tuned: TuneResult | None = None
    if params is None:
        tuned = tune(conn, embedder, regions, before, progress, comparables)
        params = tuned.params
    model = Forecaster(data, params).fit()
    if progress:
        progress("fitting the model", 1, 1)
    probs, _ = model.predict(data.titles)
    y = data.charted
    metrics: dict[str, Any] = {
        "training_pairs": int(y.size),
        "positive_pairs": int(y.sum()),
        "mean_probability": float(probs.mean()),
        "observed_rate": float(y.mean()),
        "coefficients": dict(zip(_feature_names(), map(float, model.coef), strict=True)),
        "intercept": model.intercept,
        "calibration": list(model.calibration),
        "skipped_unembedded": info["skipped_unembedded"],
    }
    if tuned is not None and tuned.inner_cutoff is not None:
        metrics["tuning"] = {
            "inner_cutoff": tuned.inner_cutoff.isoformat(),
            "inner_train_titles": tuned.inner_train_titles,
            "inner_test_titles": tuned.inner_test_titles,
            "grid": tuned.grid,
        }
    version = _next_version(conn)
    conn.execute(text("UPDATE forecast_models SET is_current = false WHERE is_current"))
    model_id = conn.execute(
        text(
            "INSERT INTO forecast_models (version, cutoff, window_start, window_end, embedder, "
            "training_titles, regions, parameters, metrics, state, is_current) VALUES "
            "(:v, :cutoff, :ws, :we, :e, :n, :r, CAST(:p AS jsonb), CAST(:m AS jsonb), :s, true) "
            "RETURNING id"
        ),
        {
            "v": version,
            "cutoff": before,
            "ws": info["window_start"],
            "we": info["window_end"],
            "e": embedder,
            "n": len(data.titles),
            "r": len(regions),
            "p": json.dumps(params.as_dict()),
            "m": json.dumps(metrics),
            "s": model.to_bytes(),
        },
    ).scalar_one()
    return TrainSummary(
        int(model_id),
        version,
        len(data.titles),
        len(regions),
        params,
        metrics,
        time.perf_counter() - started,
    )


def _feature_names() -> list[str]:
    from server.forecast.model import FEATURES

    return list(FEATURES)


@dataclass
class BacktestResult:
    backtest_id: int | None
    cutoff: date
    params: Params
    methods: list[MethodScore]
    train_titles: int
    test_titles: int
    regions: int
    seconds: float
    tuning: TuneResult | None = None

    @property
    def model(self) -> MethodScore:
        return next(m for m in self.methods if not m.baseline)

    @property
    def best_baseline(self) -> MethodScore | None:
        baselines = [m for m in self.methods if m.baseline and not np.isnan(m.ndcg10)]
        return max(baselines, key=lambda m: m.ndcg10) if baselines else None

    @property
    def lift(self) -> float | None:
        best = self.best_baseline
        if best is None or not best.ndcg10 or np.isnan(self.model.ndcg10):
            return None
        return self.model.ndcg10 / best.ndcg10 - 1


def run_backtest(
    conn: Connection,
    embedder: str,
    cutoff: date,
    *,
    params: Params | None = None,
    store: bool = True,
    progress: Progress | None = None,
    comparables: str = DEFAULT_COMPARABLES,
) -> BacktestResult:
    """Train on chart weeks before ``cutoff`` only (scores, region similarity, priors, tuning,
    learned comparables), test on catalog titles whose first chart week is on or after it
    (their outcomes over every week), score the model and the baselines on the same titles;
    store the result. ``comparables`` applies when ``params`` is None."""
    started = time.perf_counter()
    regions = load_regions(conn)
    if params is not None:
        comparables = params.comparables
    train, _ = load_training(conn, embedder, cutoff, regions, comparables)
    if len(train.titles) < 2:
        raise ValueError(f"fewer than two titles charted before {cutoff}: nothing to train on")
    everything = chart_window(conn, None)
    candidates = sorted(t for t, w in everything.first_week.items() if w >= cutoff)
    facts = load_facts(conn, candidates)
    test_ids = [t for t in candidates if t in facts and facts[t].embedder == embedder]
    if not test_ids:
        raise ValueError(f"no embedded catalog title first charts on or after {cutoff}")
    _, relevance = outcome_matrices(everything.scores, test_ids, regions)
    tuned = None
    if params is None:
        tuned = tune(conn, embedder, regions, cutoff, progress, comparables)
        params = tuned.params
    queries = [facts[t].facts for t in test_ids]
    audience_of(conn, train, queries)
    methods = score_methods(train, params, queries, relevance)
    if progress:
        progress("scoring model and baselines", 1, 1)
    result = BacktestResult(
        None,
        cutoff,
        params,
        methods,
        len(train.titles),
        len(test_ids),
        len(regions),
        time.perf_counter() - started,
        tuned,
    )
    if store:
        best = result.best_baseline
        parameters: dict[str, Any] = params.as_dict()
        if tuned is not None and tuned.inner_cutoff is not None:
            parameters["tuned_on_inner_cutoff"] = tuned.inner_cutoff.isoformat()
        result.backtest_id = int(
            conn.execute(
                text(
                    "INSERT INTO backtests (cutoff, embedder, parameters, methods, train_titles, "
                    "test_titles, regions, best_baseline, lift, seconds) VALUES (:c, :e, "
                    "CAST(:p AS jsonb), CAST(:m AS jsonb), :tr, :te, :r, :b, :l, :s) RETURNING id"
                ),
                {
                    "c": cutoff,
                    "e": embedder,
                    "p": json.dumps(parameters),
                    "m": json.dumps([_finite(m.as_dict()) for m in methods]),
                    "tr": result.train_titles,
                    "te": result.test_titles,
                    "r": result.regions,
                    "b": best.method if best else None,
                    "l": result.lift,
                    "s": result.seconds,
                },
            ).scalar_one()
        )
    return result


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: undefined metrics are stored as null."""
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in d.items()}
