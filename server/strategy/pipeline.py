"""Recompute every content-strategy table from the catalog, micro-genres and charts.

``recompute_strategy(conn)`` runs after the regional scores (``contentintel scores`` and every
Top 10 ingest that recomputes them) and replaces, in the caller's transaction:

- ``soft_memberships``: softmax memberships of every clustered title (``TEMPERATURE``), when
  empty (after ``contentintel cluster``);
- ``content_gaps``: every region with charts and every cohort x micro-genre, hard
  membership, every chart week, catalog supply (other questions are computed per request);
- ``title_demand``, ``audience_comparables``, ``micro_genre_travelability``.

The ``compute_*`` functions take ``before`` (chart weeks strictly before it) and write nothing,
for backtests.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy import Connection, text
from threadpoolctl import threadpool_limits

from server.audiences.service import (
    RegionalScoreRow,
    ScoresSummary,
    compute_regional_scores,
    persist_scores,
)
from server.embeddings.vectors import load_vectors
from server.similarity.microgenres.service import cluster_features
from server.strategy.gaps import LEVEL, REPLICATES
from server.strategy.service import (
    SOFT_FLOOR,
    TEMPERATURE,
    Level,
    Market,
    MembershipKind,
    chart_data,
    chart_rows,
    chart_span,
    gaps_from,
    load_groups,
    load_supply,
    market_seed,
    neighbour_anchors,
    region_similarity,
)

Array = npt.NDArray[np.float64]

DEMAND_CAP = 200.0
"""Demand scores are capped here, as the industry's demand measures are."""
COMPARABLES = 20
"""Audience comparables stored per title."""


@dataclass
class StrategySummary:
    soft_memberships: int = 0
    markets: int = 0
    gaps: int = 0
    title_demand: int = 0
    comparables: int = 0
    travelability: int = 0
    skipped: str | None = None
    """Why nothing was computed (no micro-genres, no charts), else None."""
    seconds: float = 0.0


# --- soft memberships --------------------------------------------------------------------------


def compute_soft_memberships(
    conn: Connection, temperature: float = TEMPERATURE, floor: float = SOFT_FLOOR
) -> list[tuple[int, int, float]]:
    """(title, micro-genre, weight) for every title with a primary micro-genre: softmax of its
    cosine to every centroid (mean of the primary members' clustering features) over the
    temperature; weights below ``floor`` dropped (but a title's largest) and the rest
    renormalised. Reads only."""
    primary = conn.execute(
        text(
            "SELECT title_id, micro_genre_id FROM title_micro_genres WHERE is_primary "
            "ORDER BY title_id"
        )
    ).all()
    if not primary:
        return []
    ids = [int(r.title_id) for r in primary]
    genre_ids = sorted({int(r.micro_genre_id) for r in primary})
    column = {g: i for i, g in enumerate(genre_ids)}
    labels = np.array([column[int(r.micro_genre_id)] for r in primary])
    features = cluster_features(load_vectors(conn, ids)).astype(np.float64)
    sums = np.zeros((len(genre_ids), features.shape[1]))
    np.add.at(sums, labels, features)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = sums / np.where(norms > 0, norms, 1.0)
    logits = features @ centroids.T / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    best = weights.max(axis=1, keepdims=True)
    weights[(weights < floor) & (weights < best)] = 0.0  # a flat row keeps its best at least
    weights /= weights.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(weights)
    values = np.minimum(weights[rows, cols], 1.0).tolist()
    title_of, genre_of = np.asarray(ids)[rows].tolist(), np.asarray(genre_ids)[cols].tolist()
    return list(zip(title_of, genre_of, values, strict=True))


# --- demand scores -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandRow:
    title_id: int
    region_code: str
    points: int
    score: float
    percentile: float | None


def compute_title_demand(
    conn: Connection, before: date | None = None, scores: Sequence[RegionalScoreRow] | None = None
) -> list[DemandRow]:
    """Demand score per (catalog title, region): 100 x its chart points / the mean points of
    the region's chart entries (catalog titles or not), capped at ``DEMAND_CAP``; percentile =
    share of the region's charting titles of the same primary micro-genre scoring below it
    (ties count half), 0..100. ``scores``: ``compute_regional_scores(conn, before)`` when the
    caller has them. Reads only."""
    if scores is None:
        scores = compute_regional_scores(conn, before=before)
    means = {
        str(r.region_code): float(r.mean)
        for r in conn.execute(
            text(
                """
                SELECT region_code, avg(points) AS mean FROM (
                    SELECT region_code, coalesce(title_id::text, kind::text || ':' || show_title)
                           AS entry, sum(points) AS points
                    FROM (SELECT region_code, title_id, kind, show_title, week,
                                 11 - min(rank) AS points
                          FROM top10_country_weeks
                          WHERE CAST(:before AS date) IS NULL OR week < CAST(:before AS date)
                          GROUP BY 1, 2, 3, 4, 5) w
                    GROUP BY 1, 2) e
                GROUP BY 1
                """
            ),
            {"before": before},
        )
    }
    primary = {
        int(r.title_id): int(r.micro_genre_id)
        for r in conn.execute(
            text("SELECT title_id, micro_genre_id FROM title_micro_genres WHERE is_primary")
        )
    }
    rows = [
        (
            s.title_id,
            s.region_code,
            s.points,
            min(DEMAND_CAP, 100.0 * s.points / means[s.region_code]),
        )
        for s in scores
        if means.get(s.region_code)
    ]
    peers: dict[tuple[str, int], list[float]] = defaultdict(list)
    for title, region, _, score in rows:
        if title in primary:
            peers[(region, primary[title])].append(score)
    out = []
    for title, region, points, score in rows:
        percentile = None
        if title in primary:
            group = peers[(region, primary[title])]
            below = sum(1 for x in group if x < score)
            equal = sum(1 for x in group if x == score)
            percentile = 100.0 * (below + 0.5 * equal) / len(group)
        out.append(DemandRow(title, region, points, round(score, 4), percentile))
    return out


# --- audience comparables ----------------------------------------------------------------------


def compute_audience_comparables(
    conn: Connection,
    before: date | None = None,
    first: int = COMPARABLES,
    scores: Sequence[RegionalScoreRow] | None = None,
) -> dict[int, list[tuple[int, float]]]:
    """Per charting catalog title, the titles whose centred audience profiles have the largest
    cosine (positive only), best first. A profile is the title's share of chart points per
    region; centring subtracts the mean profile of charting titles, so a title that charts
    everywhere (the mean's shape) is nobody's neighbour by default. Reads only."""
    if scores is None:
        scores = compute_regional_scores(conn, before=before)
    titles = sorted({s.title_id for s in scores})
    regions = sorted({s.region_code for s in scores})
    if len(titles) < 2:
        return {}
    ti = {t: i for i, t in enumerate(titles)}
    ri = {r: i for i, r in enumerate(regions)}
    profile = np.zeros((len(titles), len(regions)))
    for s in scores:
        profile[ti[s.title_id], ri[s.region_code]] += s.points
    profile /= profile.sum(axis=1, keepdims=True)
    centred = profile - profile.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    unit = centred / np.where(norms > 0, norms, 1.0)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    out: dict[int, list[tuple[int, float]]] = {}
    for row, title in enumerate(titles):
        best = np.argsort(-cosine[row], kind="stable")[:first]
        out[title] = [(titles[int(j)], float(cosine[row, j])) for j in best if cosine[row, j] > 0]
    return out


# --- travelability -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TravelRow:
    micro_genre_id: int
    share: float
    low: float
    high: float
    titles: int
    points: int


def compute_travelability(
    conn: Connection,
    before: date | None = None,
    replicates: int = REPLICATES,
    scores: Sequence[RegionalScoreRow] | None = None,
) -> list[TravelRow]:
    """Per micro-genre (primary members with origin countries and chart points): points earned
    outside the titles' origin countries / all their points, with a 90% interval from
    resampling the titles (Poisson bootstrap). Reads only."""
    if scores is None:
        scores = compute_regional_scores(conn, before=before)
    origins: dict[int, set[str]] = defaultdict(set)
    for r in conn.execute(text("SELECT title_id, country_code FROM title_countries")):
        origins[int(r.title_id)].add(str(r.country_code))
    primary = {
        int(r.title_id): int(r.micro_genre_id)
        for r in conn.execute(
            text("SELECT title_id, micro_genre_id FROM title_micro_genres WHERE is_primary")
        )
    }
    outside: dict[int, float] = defaultdict(float)
    total: dict[int, float] = defaultdict(float)
    for s in scores:
        if s.title_id in origins and s.title_id in primary:
            total[s.title_id] += s.points
            if s.region_code not in origins[s.title_id]:
                outside[s.title_id] += s.points
    by_genre: dict[int, list[int]] = defaultdict(list)
    for title in sorted(total):
        by_genre[primary[title]].append(title)
    rng = np.random.default_rng(20261202)
    tail = (1 - LEVEL) / 2 * 100
    out = []
    for genre, titles in sorted(by_genre.items()):
        o = np.array([outside[t] for t in titles])
        a = np.array([total[t] for t in titles])
        share = float(o.sum() / a.sum())
        weights = rng.poisson(1.0, size=(replicates, len(titles))).astype(np.float64)
        denominators = weights @ a
        ok = denominators > 0
        shares = (weights @ o)[ok] / denominators[ok]
        low = min(float(np.percentile(shares, tail)), share) if ok.any() else share
        high = max(float(np.percentile(shares, 100 - tail)), share) if ok.any() else share
        out.append(TravelRow(genre, share, low, high, len(titles), int(a.sum())))
    return out


# --- the pipeline ------------------------------------------------------------------------------


def _copy(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """COPY (text format) on a sync psycopg connection; a batched INSERT otherwise."""
    materialised = list(rows)
    if not materialised:
        return 0
    names = ", ".join(columns)
    raw = conn.connection.driver_connection
    if isinstance(raw, psycopg.Connection):
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in materialised:
                copy.write_row(row)
    else:
        values = ", ".join(f":{c}" for c in columns)
        conn.execute(
            text(f"INSERT INTO {table} ({names}) VALUES ({values})"),
            [dict(zip(columns, row, strict=True)) for row in materialised],
        )
    return len(materialised)


_TABLES = (
    "content_gaps",
    "title_demand",
    "audience_comparables",
    "micro_genre_travelability",
)


def rescore(conn: Connection) -> ScoresSummary:
    """Recompute the regional and global scores, then the content-strategy tables derived from
    them, in the caller's transaction (``contentintel scores``, and Top 10 ingests through their
    ``rescore`` argument); ``seconds`` covers both."""
    started = time.perf_counter()
    scores = persist_scores(conn)
    recompute_strategy(conn)
    return replace(scores, seconds=time.perf_counter() - started)


def recompute_strategy(conn: Connection, replicates: int = REPLICATES) -> StrategySummary:
    """Replace every content-strategy table (see the module doc); the caller commits."""
    started = time.perf_counter()
    summary = StrategySummary()
    conn.execute(text("DELETE FROM " + "; DELETE FROM ".join(_TABLES)))
    scores = compute_regional_scores(conn)

    summary.title_demand = _copy(
        conn,
        "title_demand",
        ("title_id", "region_code", "points", "score", "percentile"),
        (
            (d.title_id, d.region_code, d.points, d.score, d.percentile)
            for d in compute_title_demand(conn, scores=scores)
        ),
    )
    comparables = compute_audience_comparables(conn, scores=scores)
    summary.comparables = _copy(
        conn,
        "audience_comparables",
        ("title_id", "rank", "comparable_id", "overlap"),
        (
            (title, rank, other, overlap)
            for title, found in comparables.items()
            for rank, (other, overlap) in enumerate(found, start=1)
        ),
    )
    has_genres = conn.execute(text("SELECT EXISTS (SELECT 1 FROM micro_genres)")).scalar()
    if not has_genres:
        summary.skipped = "no micro-genres (run `contentintel embed` and `contentintel cluster`)"
        summary.seconds = time.perf_counter() - started
        return summary
    summary.travelability = _copy(
        conn,
        "micro_genre_travelability",
        ("micro_genre_id", "share", "low", "high", "titles", "points"),
        (
            (t.micro_genre_id, t.share, t.low, t.high, t.titles, t.points)
            for t in compute_travelability(conn, replicates=replicates, scores=scores)
        ),
    )
    # Soft memberships depend on the micro-genres and embeddings, not on the charts: computed
    # once per clustering (`contentintel cluster` replaces the micro-genres, and the CASCADE
    # empties this table), not on every scores run (2.7 s + the COPY on the real data).
    if not conn.execute(text("SELECT EXISTS (SELECT 1 FROM soft_memberships)")).scalar():
        summary.soft_memberships = _copy(
            conn,
            "soft_memberships",
            ("title_id", "micro_genre_id", "weight"),
            compute_soft_memberships(conn),
        )
    else:
        summary.soft_memberships = int(
            conn.execute(text("SELECT count(*) FROM soft_memberships")).scalar_one()
        )
    span = chart_span(conn)
    if span is None:
        summary.skipped = "no chart data (run `contentintel ingest top10-countries`)"
        summary.seconds = time.perf_counter() - started
        return summary
    with threadpool_limits(limits=1):  # small matrices: BLAS threads only contend
        summary.gaps = _store_gaps(conn, span, replicates, summary)
    conn.execute(text("ANALYZE " + ", ".join(_TABLES)))
    summary.seconds = time.perf_counter() - started
    return summary


def _store_gaps(
    conn: Connection, span: tuple[date, date], replicates: int, summary: StrategySummary
) -> int:
    rows = chart_rows(
        conn,
        [str(r[0]) for r in conn.execute(text("SELECT code FROM regions"))],
        span[0],
        span[1],
    )
    by_region: dict[str, list[tuple[int | None, str, date, int]]] = defaultdict(list)
    for row in rows:
        by_region[row[1]].append(row)
    weeks = sorted({w for _, _, w, _ in rows})
    markets: list[tuple[Market, list[str]]] = [
        (Market(region=code), [code]) for code in sorted(by_region)
    ]
    members: dict[int, list[str]] = defaultdict(list)
    for r in conn.execute(text("SELECT cohort_id, region_code FROM cohort_members ORDER BY 2")):
        members[int(r.cohort_id)].append(str(r.region_code))
    markets += [(Market(cohort_id=c), codes) for c, codes in sorted(members.items())]
    summary.markets = len(markets)
    charts = {}
    for market, codes in markets:
        market_rows = [row for code in codes for row in by_region.get(code, ())]
        if market_rows:
            charts[market.key] = (market, chart_data(market_rows, set(codes), weeks))
    region_charts = {m.region: chart for m, chart in charts.values() if m.region is not None}
    anchors = neighbour_anchors(region_charts, region_similarity(conn, span[1] + timedelta(days=1)))
    out: list[tuple[Any, ...]] = []
    # Stored: the micro-genre level with hard memberships, what `contentGaps` and
    # `MicroGenre.demand` answer by default. Parent genres and soft memberships are computed
    # per request by the same code (storing them too doubled the recomputation time).
    for level in (Level.MICRO_GENRE,):
        for membership in (MembershipKind.HARD,):
            groups = load_groups(conn, level, membership)
            supply, titles = load_supply(conn, groups)
            for market, chart in charts.values():
                report = gaps_from(
                    market,
                    chart,
                    groups,
                    supply,
                    titles,
                    replicates=replicates,
                    seed=market_seed(market),
                    anchor=anchors.get(market.region) if market.region else None,
                )
                for g in report.gaps:
                    out.append(
                        (
                            market.region,
                            market.cohort_id,
                            level.value,
                            membership.value,
                            g.micro_genre_id,
                            g.genre,
                            g.rank,
                            g.supply_share,
                            g.demand_share,
                            g.opportunity,
                            g.low,
                            g.high,
                            g.momentum,
                            g.momentum_low,
                            g.momentum_high,
                            g.coverage,
                            g.catalog_titles,
                            g.charting_titles,
                            g.points,
                            json.dumps([[t, p] for t, p in g.top_titles]) if g.top_titles else "[]",
                            g.window_start,
                            g.window_end,
                        )
                    )
    return _copy(
        conn,
        "content_gaps",
        (
            "region_code",
            "cohort_id",
            "level",
            "membership",
            "micro_genre_id",
            "genre",
            "rank",
            "supply_share",
            "demand_share",
            "opportunity",
            "low",
            "high",
            "momentum",
            "momentum_low",
            "momentum_high",
            "coverage",
            "catalog_titles",
            "charting_titles",
            "points",
            "top_titles",
            "window_start",
            "window_end",
        ),
        out,
    )
