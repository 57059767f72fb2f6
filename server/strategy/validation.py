"""Time-split validation of content gaps: does what the method says before a cutoff hold after?

Per region, with micro-genres (hard membership) and chart weeks before the cutoff only:

1. **Demand share forecast.** The realised demand share of every micro-genre over the weeks
   from the cutoff on is compared (Spearman over micro-genres, then the mean across regions)
   with (a) the method's prediction: the region's demand share before the cutoff projected with
   its momentum and shrunk towards the global demand share,
   ``max(0, Dm + lam * h * slope) * (1 - beta) + beta * Dm_global`` (``h`` = weeks from the
   middle of the training weeks to the middle of the test weeks); (b) the supply share alone;
   (c) the global demand share before the cutoff (every region pooled).
2. **Lift.** New entries = (region, catalog title) pairs whose first chart week in the region
   is on or after the cutoff. A ranking flags the top decile of micro-genres per region; lift =
   new entries whose primary micro-genre is flagged in their region / the catalog supply
   share of those flagged micro-genres summed over the entries (the hits expected if new
   entries fell into micro-genres in proportion to the catalog). Rankings: the method (the
   opportunity's lower bound, with the predicted demand share), the plain ratio ``(Dm + 1/G) /
   (S + 1/G)``, the demand share alone and the supply share alone.

The neighbours, the shrinkage and ``a`` are tuned by the mean lift over rolling inner splits of
the training weeks (the last 3, 4 and 5 of them in turn play the test weeks), then the momentum
weight by the inner Spearman; nothing from on or after the cutoff is read before the
evaluation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from scipy.stats import spearmanr
from sqlalchemy import Connection, text
from threadpoolctl import threadpool_limits

from server.strategy.gaps import compute_stats, opportunity
from server.strategy.service import (
    ChartData,
    Groups,
    Level,
    MembershipKind,
    chart_data,
    chart_rows,
    demand_shares,
    load_groups,
    load_supply,
    neighbour_anchors,
    region_similarity,
    with_anchor,
)

Array = npt.NDArray[np.float64]

INNER_WEEKS = (3, 4, 5)
"""Weeks at the end of the training window held out for tuning (one inner split each)."""
TUNING_REPLICATES = 100
LAMBDAS = (0.0, 0.5, 1.0)
"""Weight of the momentum projection in the predicted share (tuned by Spearman)."""
NEIGHBOUR_COUNTS = (10, 20)
SHRINKS = (0.2, 0.4, 0.6)
SMOOTHINGS = (1.0, 2.0, 4.0)
"""Tuned together by the lift on the inner split."""
REPLICATES = 200


@dataclass
class Figures:
    spearman: dict[str, float]
    """Mean Spearman across regions: method, supply, global."""
    lift: dict[str, float]
    """method, plain ratio, demand share, supply."""
    regions: int
    new_entries: int
    params: dict[str, float]
    per_region: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class _Split:
    groups: Groups
    supply: Array
    regions: list[str]
    train: dict[str, ChartData]
    test: dict[str, ChartData]
    train_global: Array
    train_weeks: list[date]
    test_weeks: list[date]


def _split(
    conn: Connection, groups: Groups, supply: Array, start: date, cutoff: date, end: date
) -> _Split:
    rows = chart_rows(
        conn, [str(r[0]) for r in conn.execute(text("SELECT code FROM regions"))], start, end
    )
    train_rows = [r for r in rows if r[2] < cutoff]
    test_rows = [r for r in rows if r[2] >= cutoff]
    train_weeks = sorted({r[2] for r in train_rows})
    test_weeks = sorted({r[2] for r in test_rows})
    by_region: dict[str, list[tuple[int | None, str, date, int]]] = defaultdict(list)
    for r in train_rows:
        by_region[r[1]].append(r)
    test_by_region: dict[str, list[tuple[int | None, str, date, int]]] = defaultdict(list)
    for r in test_rows:
        test_by_region[r[1]].append(r)
    regions = sorted(set(by_region) & set(test_by_region))
    train = {c: chart_data(by_region[c], {c}, train_weeks) for c in regions}
    test = {c: chart_data(test_by_region[c], {c}, test_weeks) for c in regions}
    pooled = chart_data(train_rows, set(regions), train_weeks)
    return _Split(
        groups,
        supply,
        regions,
        train,
        test,
        demand_shares(pooled, groups),
        train_weeks,
        test_weeks,
    )


def _horizon(train_weeks: Sequence[date], test_weeks: Sequence[date]) -> float:
    mid_train = (len(train_weeks) - 1) / 2
    first_test = (test_weeks[0] - train_weeks[0]).days / 7
    return first_test + (len(test_weeks) - 1) / 2 - mid_train


def _spearman(a: Array, b: Array) -> float | None:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def _scores(
    split: _Split,
    similarity: dict[str, dict[str, float]],
    neighbours: int,
    shrink: float,
    smoothing: float,
    lam: float,
    replicates: int,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """Per region: the predicted demand share (shrunk towards the neighbours, projected with
    the momentum) and the opportunity's lower bound, exactly as ``contentGaps`` computes it."""
    anchors = neighbour_anchors(split.train, similarity, neighbours)
    h = _horizon(split.train_weeks, split.test_weeks)
    predicted, lows = {}, {}
    for i, code in enumerate(split.regions):
        chart, weights = with_anchor(split.train[code], anchors.get(code))
        stats = compute_stats(
            chart.points,
            split.groups.matrix(chart.title_ids),
            split.supply,
            chart.title_ids,
            smoothing=smoothing,
            replicates=replicates,
            seed=i,
            anchor=weights,
            shrink=shrink,
        )
        mixed = (1 - shrink) * stats.demand + shrink * stats.neighbour_demand
        if weights is None:
            mixed = stats.demand
        predicted[code] = np.maximum(mixed + lam * h * stats.slope, 0.0)
        lows[code] = stats.low
    return predicted, lows


def _mean_spearman(split: _Split, predicted: dict[str, Array]) -> float:
    values = []
    for code in split.regions:
        rho = _spearman(predicted[code], demand_shares(split.test[code], split.groups))
        if rho is not None:
            values.append(rho)
    return float(np.mean(values)) if values else math.nan


def _new_entries(
    conn: Connection, cutoff: date, end: date, primary: dict[int, int]
) -> list[tuple[str, int]]:
    rows = conn.execute(
        text(
            "SELECT region_code, title_id FROM top10_country_weeks "
            "WHERE title_id IS NOT NULL AND week <= :end GROUP BY 1, 2 "
            "HAVING min(week) >= :cutoff"
        ),
        {"cutoff": cutoff, "end": end},
    )
    return [(str(r.region_code), int(r.title_id)) for r in rows if int(r.title_id) in primary]


def lift(
    entries: Sequence[tuple[str, int]],
    scores: dict[str, Array],
    supply: Array,
    column_of_title: dict[int, int],
) -> float:
    """Hits in each region's top-decile micro-genres by ``scores`` / the hits expected from
    the flagged micro-genres' supply share."""
    n_groups = len(supply)
    decile = max(1, math.ceil(n_groups / 10))
    flagged: dict[str, set[int]] = {}
    flagged_supply: dict[str, float] = {}
    for code, score in scores.items():
        order = np.lexsort((np.arange(n_groups), -score))[:decile]
        flagged[code] = {int(i) for i in order}
        flagged_supply[code] = float(supply[order].sum())
    hits = expected = 0.0
    for code, title in entries:
        if code not in flagged:
            continue
        hits += column_of_title[title] in flagged[code]
        expected += flagged_supply[code]
    return hits / expected if expected > 0 else math.nan


def validate(
    conn: Connection,
    cutoff: date,
    *,
    end: date | None = None,
    replicates: int = REPLICATES,
) -> Figures:
    """The time-split figures (module doc). Tuning reads only weeks before the cutoff."""
    groups = load_groups(conn, Level.MICRO_GENRE, MembershipKind.HARD)
    supply, _ = load_supply(conn, groups)
    column_of_title = {t: w[0][0] for t, w in groups.weights.items()}
    start, last = conn.execute(text("SELECT min(week), max(week) FROM top10_country_weeks")).one()
    end = end or last
    train_weeks = [
        r[0]
        for r in conn.execute(
            text("SELECT DISTINCT week FROM top10_country_weeks WHERE week < :c ORDER BY 1"),
            {"c": cutoff},
        )
    ]
    with threadpool_limits(limits=1):
        # Rolling inner splits: the last 3, 4 and 5 training weeks in turn play the test
        # weeks; parameters are chosen by the mean lift over them (one split alone is decided
        # by a handful of titles that launch everywhere at once).
        inners = []
        for held in INNER_WEEKS:
            inner_cutoff = train_weeks[-held]
            inner_end = cutoff - timedelta(days=1)
            inners.append(
                (
                    _split(conn, groups, supply, start, inner_cutoff, inner_end),
                    _new_entries(conn, inner_cutoff, inner_end, column_of_title),
                    region_similarity(conn, inner_cutoff),
                )
            )
        best: tuple[float, int, float, float] | None = None
        for k in NEIGHBOUR_COUNTS:
            for shrink in SHRINKS:
                for a in SMOOTHINGS:
                    values = []
                    for inner, inner_entries, inner_similarity in inners:
                        _, lows = _scores(
                            inner, inner_similarity, k, shrink, a, 0.0, TUNING_REPLICATES
                        )
                        values.append(lift(inner_entries, lows, supply, column_of_title))
                    value = float(np.mean(values))
                    if best is None or value > best[0]:
                        best = (value, k, shrink, a)
        assert best is not None
        _, k, shrink, a = best
        best_rho: tuple[float, float] | None = None
        for lam in LAMBDAS:
            rho = float(
                np.mean(
                    [
                        _mean_spearman(inner, _scores(inner, sim, k, shrink, a, lam, 2)[0])
                        for inner, _, sim in inners
                    ]
                )
            )
            if best_rho is None or rho > best_rho[0]:
                best_rho = (rho, lam)
        assert best_rho is not None
        lam = best_rho[1]

        # Evaluation: every week before the cutoff against the weeks from it on.
        split = _split(conn, groups, supply, start, cutoff, end)
        entries = _new_entries(conn, cutoff, end, column_of_title)
        predicted, lows = _scores(
            split, region_similarity(conn, cutoff), k, shrink, a, lam, replicates
        )
        demand = {c: demand_shares(split.train[c], groups) for c in split.regions}
        return Figures(
            spearman={
                "method": _mean_spearman(split, predicted),
                "supply": _mean_spearman(split, {c: supply for c in split.regions}),
                "global": _mean_spearman(split, {c: split.train_global for c in split.regions}),
            },
            lift={
                "method": lift(entries, lows, supply, column_of_title),
                "plain ratio": lift(
                    entries,
                    {c: opportunity(d, supply, 1.0) for c, d in demand.items()},
                    supply,
                    column_of_title,
                ),
                "demand share": lift(entries, demand, supply, column_of_title),
                "supply": lift(
                    entries, {c: supply for c in split.regions}, supply, column_of_title
                ),
            },
            regions=len(split.regions),
            new_entries=len(entries),
            params={"neighbours": k, "shrink": shrink, "a": a, "lambda": lam},
        )
