"""Content strategy: which kinds of content are in demand beyond what the catalog supplies, per
market (a region or an audience cohort). Queries and logic; the GraphQL layer calls these.

Definitions (README, "Content strategy"):

- membership m(t, g): HARD = the title's primary micro-genre (1, else 0); SOFT = softmax over
  the cosine of the title to every micro-genre centroid divided by ``TEMPERATURE`` (stored in
  ``soft_memberships`` by the pipeline). PARENT_GENRE level: a micro-genre's weight goes to its
  parent genre.
- supply share S(g) = sum of memberships / titles, over the catalog (or titles added by the
  window's end, or the market's local productions);
- demand share, opportunity, intervals and momentum: ``server.strategy.gaps``;
- coverage = matched chart points / all chart points in the market over the window.

Functions taking ``before`` see only chart weeks strictly before that date (cutoff-safe, like
``compute_regional_scores``); they read and write nothing else.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audiences.service import cochart_weights
from server.kit.errors import BadInput, NotFound
from server.strategy.gaps import REPLICATES, SMOOTHING, compute_stats, rank_order

Array = npt.NDArray[np.float64]

TEMPERATURE = 0.05
"""Softmax temperature of soft memberships over centroid cosines (0.05: a centroid 0.05 less
similar weighs e times less)."""
SOFT_FLOOR = 0.05
"""Soft memberships below this are dropped (the rest renormalised to sum to 1): on the real
catalog about 3 micro-genres per title remain (0.01 kept 14, for 4 times the storage)."""
NO_GENRE = "(no genre)"
"""Parent-genre group of micro-genres whose titles have no genre."""
MAX_FIRST = 500
NEIGHBOURS = 10
"""A region's audience neighbours: its most similar regions by co-charting."""
SHRINK = 0.2
"""Weight of the neighbours' demand share in the demand the opportunity uses (tuned with
``NEIGHBOURS`` on the inner time split, README "Validation"): one country's Top 10 holds ~60
catalog titles over 18 weeks for ~220 micro-genres, too few to rank them alone."""


class Level(enum.StrEnum):
    MICRO_GENRE = "MICRO_GENRE"
    PARENT_GENRE = "PARENT_GENRE"


class MembershipKind(enum.StrEnum):
    HARD = "HARD"
    SOFT = "SOFT"


class SupplyScope(enum.StrEnum):
    CATALOG = "CATALOG"
    ADDED_BY_WINDOW_END = "ADDED_BY_WINDOW_END"
    LOCAL = "LOCAL"


@dataclass(frozen=True)
class Market:
    """Exactly one of a region code or a cohort id."""

    region: str | None = None
    cohort_id: int | None = None

    @property
    def key(self) -> str:
        return self.region if self.region is not None else f"cohort:{self.cohort_id}"


@dataclass(frozen=True)
class Gap:
    level: Level
    micro_genre_id: int | None
    genre: str | None
    rank: int
    supply_share: float
    demand_share: float
    opportunity: float
    low: float
    high: float
    momentum: float
    momentum_low: float
    momentum_high: float
    coverage: float
    catalog_titles: float
    charting_titles: int
    points: float
    top_titles: list[tuple[int, float]]
    window_start: date
    window_end: date
    top_titles_json: str | None = None
    """Stored rows: ``top_titles`` still as JSON text, decoded only when asked for (decoding
    220 of them was a third of a `contentGaps` response)."""

    def charting(self) -> list[tuple[int, float]]:
        if self.top_titles_json is None:
            return self.top_titles
        return [(int(t), float(p)) for t, p in json.loads(self.top_titles_json)]

    @property
    def rising(self) -> bool:
        return self.momentum_low > 0


@dataclass(frozen=True)
class GapReport:
    market: Market
    level: Level
    membership: MembershipKind
    window_start: date
    window_end: date
    coverage: float
    matched_points: float
    chart_points: float
    gaps: list[Gap]
    """Every group, best lower bound first."""


# --- validation --------------------------------------------------------------------------------


def check_first(first: int | None, default: int, field: str = "first") -> int:
    value = default if first is None else first
    if not 0 <= value <= MAX_FIRST:
        raise BadInput(f"{field} must be in 0..{MAX_FIRST}, got {value}", field=field)
    return value


def chart_span(conn: Connection) -> tuple[date, date] | None:
    """First and last chart week of the country charts; None without charts."""
    lo, hi = conn.execute(text("SELECT min(week), max(week) FROM top10_country_weeks")).one()
    return (lo, hi) if lo is not None else None


def market_regions(conn: Connection, market: Market) -> list[str]:
    """The market's region codes; BAD_USER_INPUT naming the argument when unknown."""
    if (market.region is None) == (market.cohort_id is None):
        raise BadInput("market takes exactly one of region / cohortId", field="market")
    if market.region is not None:
        code = market.region.strip().upper()
        found = conn.execute(text("SELECT 1 FROM regions WHERE code = :c"), {"c": code}).first()
        if len(code) != 2 or found is None:
            raise BadInput(f"unknown region {market.region!r}", field="market.region")
        return [code]
    codes = [
        str(r[0])
        for r in conn.execute(
            text("SELECT region_code FROM cohort_members WHERE cohort_id = :c ORDER BY 1"),
            {"c": market.cohort_id},
        )
    ]
    if not codes:
        raise BadInput(
            f"unknown cohort {market.cohort_id} (see `cohorts`; ids change when "
            "`contentintel cohorts` runs)",
            field="market.cohortId",
        )
    return codes


def resolve_window(
    conn: Connection, start: date | None, end: date | None, before: date | None = None
) -> tuple[date, date]:
    """The window's first and last chart week, validated against the chart data: reversed,
    empty or outside the charts is BAD_USER_INPUT on ``window``."""
    span = chart_span(conn)
    if span is None:
        raise NotFound("no chart data: run `contentintel ingest top10-countries`", field="window")
    if start is not None and end is not None and start > end:
        raise BadInput(f"window is reversed: from {start} is after to {end}", field="window")
    hi = span[1] if before is None else min(span[1], before - timedelta(days=1))
    lo = span[0]
    s = start or lo
    e = min(end or hi, hi)
    weeks = conn.execute(
        text("SELECT min(week), max(week) FROM top10_country_weeks WHERE week BETWEEN :s AND :e"),
        {"s": s, "e": e},
    ).one()
    if weeks[0] is None:
        raise BadInput(
            f"window {s}..{e} holds no chart week; the charts cover {lo}..{hi}", field="window"
        )
    return weeks[0], weeks[1]


# --- loading -----------------------------------------------------------------------------------


@dataclass
class ChartData:
    """A market's chart points over a window: matched titles x weeks, and the totals."""

    weeks: list[date]
    title_ids: list[int]
    points: Array
    chart_points: float
    """All chart points (matched or not)."""

    @property
    def matched_points(self) -> float:
        return float(self.points.sum())

    @property
    def coverage(self) -> float:
        return self.matched_points / self.chart_points if self.chart_points > 0 else 0.0


_CHART_ROWS = """
SELECT title_id, region_code, week, 11 - min(rank) AS points
FROM top10_country_weeks
WHERE region_code = ANY(:regions) AND week BETWEEN :s AND :e
GROUP BY coalesce(title_id::text, kind::text || ':' || show_title), title_id, region_code, week
"""


def chart_rows(
    conn: Connection, regions: Sequence[str], start: date, end: date
) -> list[tuple[int | None, str, date, int]]:
    """(title id or None, region, week, points) per chart entry and week, a title's best rank
    that week counting once (two seasons charting together are one entry)."""
    return [
        (r.title_id, str(r.region_code), r.week, int(r.points))
        for r in conn.execute(text(_CHART_ROWS), {"regions": list(regions), "s": start, "e": end})
    ]


def chart_data(
    rows: Sequence[tuple[int | None, str, date, int]], regions: set[str], weeks: list[date]
) -> ChartData:
    column = {w: i for i, w in enumerate(weeks)}
    totals: dict[int, Array] = {}
    chart_points = 0.0
    for title_id, region, week, pts in rows:
        if region not in regions or week not in column:
            continue
        chart_points += pts
        if title_id is None:
            continue
        row = totals.get(title_id)
        if row is None:
            row = totals[title_id] = np.zeros(len(weeks))
        row[column[week]] += pts
    ids = sorted(totals)
    matrix = np.vstack([totals[t] for t in ids]) if ids else np.zeros((0, len(weeks)))
    return ChartData(weeks, ids, matrix, chart_points)


@dataclass
class Groups:
    """The groups of a level and each title's memberships in them."""

    level: Level
    membership: MembershipKind
    keys: list[int | str]
    """Micro-genre ids, or parent-genre names."""
    parents: list[str | None]
    weights: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    """title id -> (group column, m(t, g))."""

    def matrix(self, title_ids: Sequence[int]) -> Array:
        out = np.zeros((len(title_ids), len(self.keys)))
        for row, title in enumerate(title_ids):
            for column, weight in self.weights.get(title, ()):
                out[row, column] += weight
        return out


def _membership_sql(membership: MembershipKind) -> str:
    if membership is MembershipKind.HARD:
        return (
            "SELECT title_id, micro_genre_id, 1.0::float8 AS weight "
            "FROM title_micro_genres WHERE is_primary"
        )
    return "SELECT title_id, micro_genre_id, weight::float8 AS weight FROM soft_memberships"


def load_groups(
    conn: Connection,
    level: Level,
    membership: MembershipKind,
    title_ids: Sequence[int] | None = None,
) -> Groups:
    """Groups of the level and the memberships of ``title_ids`` (all titles when None)."""
    micro = conn.execute(text("SELECT id, parent_genre FROM micro_genres ORDER BY id")).all()
    if not micro:
        raise NotFound("no micro-genres: run `contentintel embed` and `contentintel cluster`")
    if (
        membership is MembershipKind.SOFT
        and not conn.execute(text("SELECT EXISTS (SELECT 1 FROM soft_memberships)")).scalar()
    ):
        raise NotFound("soft memberships are not computed: run `contentintel scores`")
    parent_of = {int(r.id): (r.parent_genre or NO_GENRE) for r in micro}
    if level is Level.MICRO_GENRE:
        keys: list[int | str] = [int(r.id) for r in micro]
        parents: list[str | None] = [parent_of[int(r.id)] for r in micro]
        column = {k: i for i, k in enumerate(keys)}
    else:
        names = sorted(set(parent_of.values()))
        keys, parents = list(names), list(names)
        column = {mg: names.index(p) for mg, p in parent_of.items()}
    where = "" if title_ids is None else " WHERE m.title_id = ANY(:ids)"
    rows = conn.execute(
        text(
            f"SELECT m.title_id, m.micro_genre_id, m.weight FROM ({_membership_sql(membership)}) m"
            + where
        ),
        {"ids": list(title_ids or [])},
    )
    weights: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for r in rows:
        weights[int(r.title_id)].append((column[int(r.micro_genre_id)], float(r.weight)))
    return Groups(level, membership, keys, parents, dict(weights))


def load_supply(
    conn: Connection,
    groups: Groups,
    scope: SupplyScope = SupplyScope.CATALOG,
    *,
    regions: Sequence[str] = (),
    end: date | None = None,
) -> tuple[Array, int]:
    """S(g) per group column and the number of titles it is over."""
    where = ""
    if scope is SupplyScope.ADDED_BY_WINDOW_END:
        where = " WHERE t.date_added <= :end"
    elif scope is SupplyScope.LOCAL:
        where = (
            " WHERE EXISTS (SELECT 1 FROM title_countries tc WHERE tc.title_id = t.id "
            "AND tc.country_code = ANY(:regions))"
        )
    rows = conn.execute(
        text(
            f"SELECT m.micro_genre_id, sum(m.weight) AS w, count(DISTINCT m.title_id) AS n "
            f"FROM ({_membership_sql(groups.membership)}) m JOIN titles t ON t.id = m.title_id"
            f"{where} GROUP BY ROLLUP (m.micro_genre_id)"
        ),
        {"end": end, "regions": list(regions)},
    ).all()
    supply = np.zeros(len(groups.keys))
    titles = 0
    if groups.level is Level.MICRO_GENRE:
        column = {k: i for i, k in enumerate(groups.keys)}
    else:
        parent_of = {
            int(r.id): (r.parent_genre or NO_GENRE)
            for r in conn.execute(text("SELECT id, parent_genre FROM micro_genres"))
        }
        column = {mg: groups.keys.index(p) for mg, p in parent_of.items()}
    for r in rows:
        if r.micro_genre_id is None:
            titles = int(r.n)
        elif int(r.micro_genre_id) in column:
            supply[column[int(r.micro_genre_id)]] += float(r.w)
    if titles == 0:
        raise BadInput(
            f"no catalog title is in the supply scope {scope.value} for this market",
            field="supply",
        )
    return supply / titles, titles


# --- audience neighbours -----------------------------------------------------------------------


def demand_shares(chart: ChartData, groups: Groups) -> Array:
    """Dm per group column of one market's chart data."""
    per_title = chart.points.sum(axis=1)
    total = float(per_title.sum())
    if total <= 0:
        return np.zeros(len(groups.keys))
    result: Array = (per_title @ groups.matrix(chart.title_ids)) / total
    return result


def neighbour_anchors(
    charts: Mapping[str, ChartData],
    similarity: Mapping[str, Mapping[str, float]],
    neighbours: int = NEIGHBOURS,
) -> dict[str, dict[int, float]]:
    """Per region of ``charts``: title -> its share of the chart points of the region's
    ``neighbours`` most similar other regions (each region's shares weighted by its positive
    similarity, summing to 1); regions without neighbours are left out."""
    totals = {code: float(chart.points.sum()) for code, chart in charts.items()}
    out: dict[str, dict[int, float]] = {}
    for code in charts:
        near = sorted(
            (
                (sim, other)
                for other, sim in similarity.get(code, {}).items()
                if other != code and totals.get(other, 0) > 0 and sim > 0
            ),
            reverse=True,
        )[:neighbours]
        weight = sum(sim for sim, _ in near)
        if weight <= 0:
            continue
        shares: dict[int, float] = defaultdict(float)
        for sim, other in near:
            chart = charts[other]
            for title, pts in zip(chart.title_ids, chart.points.sum(axis=1), strict=True):
                shares[title] += sim / weight * float(pts) / totals[other]
        out[code] = dict(shares)
    return out


def with_anchor(
    chart: ChartData, anchor: Mapping[int, float] | None
) -> tuple[ChartData, Array | None]:
    """The chart extended with rows (no points) for the neighbours' titles, and the anchor
    weights aligned with its rows."""
    if not anchor:
        return chart, None
    extra = sorted(set(anchor) - set(chart.title_ids))
    ids = chart.title_ids + extra
    points = np.vstack([chart.points, np.zeros((len(extra), chart.points.shape[1]))])
    weights = np.array([anchor.get(t, 0.0) for t in ids])
    return ChartData(chart.weeks, ids, points, chart.chart_points), weights


def region_similarity(conn: Connection, before: date) -> dict[str, dict[str, float]]:
    """Co-charting cosine of every pair of regions from the chart weeks before ``before``
    (``server.audiences.profiles.cochart_weights``: sqrt(points) x idf over every entry)."""
    regions, weights = cochart_weights(conn, before)
    if not regions:
        return {}
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    unit = weights / np.where(norms > 0, norms, 1.0)
    cosine = unit @ unit.T
    return {
        a: {b: float(cosine[i, j]) for j, b in enumerate(regions)} for i, a in enumerate(regions)
    }


# --- the computation ---------------------------------------------------------------------------


def gaps_from(
    market: Market,
    chart: ChartData,
    groups: Groups,
    supply: Array,
    catalog_titles: int,
    *,
    smoothing: float = SMOOTHING,
    replicates: int = REPLICATES,
    seed: int = 0,
    anchor: Mapping[int, float] | None = None,
    shrink: float = SHRINK,
) -> GapReport:
    chart, weights = with_anchor(chart, anchor)
    members = groups.matrix(chart.title_ids)
    stats = compute_stats(
        chart.points,
        members,
        supply,
        chart.title_ids,
        smoothing=smoothing,
        replicates=replicates,
        seed=seed,
        anchor=weights,
        shrink=shrink,
    )
    keys = [str(k) for k in groups.keys]
    order = rank_order(stats.low, stats.opportunity, keys)
    coverage = chart.coverage
    gaps = [
        Gap(
            level=groups.level,
            micro_genre_id=int(groups.keys[i]) if groups.level is Level.MICRO_GENRE else None,
            genre=groups.parents[i],
            rank=rank,
            supply_share=float(supply[i]),
            demand_share=float(stats.demand[i]),
            opportunity=float(stats.opportunity[i]),
            low=float(stats.low[i]),
            high=float(stats.high[i]),
            momentum=float(stats.slope[i]),
            momentum_low=float(stats.slope_low[i]),
            momentum_high=float(stats.slope_high[i]),
            coverage=coverage,
            catalog_titles=float(supply[i] * catalog_titles),
            charting_titles=int(stats.charting_titles[i]),
            points=float(stats.points[i]),
            top_titles=stats.top_titles[i],
            window_start=chart.weeks[0],
            window_end=chart.weeks[-1],
        )
        for rank, i in enumerate(order, start=1)
    ]
    return GapReport(
        market=market,
        level=groups.level,
        membership=groups.membership,
        window_start=chart.weeks[0],
        window_end=chart.weeks[-1],
        coverage=coverage,
        matched_points=chart.matched_points,
        chart_points=chart.chart_points,
        gaps=gaps,
    )


def market_seed(market: Market) -> int:
    """A fixed bootstrap seed per market, so the same data gives the same intervals."""
    return sum((i + 1) * ord(c) for i, c in enumerate(market.key))


def compute_gaps(
    conn: Connection,
    market: Market,
    *,
    start: date | None = None,
    end: date | None = None,
    before: date | None = None,
    level: Level = Level.MICRO_GENRE,
    membership: MembershipKind = MembershipKind.HARD,
    supply: SupplyScope = SupplyScope.CATALOG,
    smoothing: float = SMOOTHING,
    replicates: int = REPLICATES,
) -> GapReport:
    """Every group's demand vs supply in the market over the window (default: every chart
    week; with ``before``, only weeks strictly before it). Reads only."""
    regions = market_regions(conn, market)
    market = Market(region=regions[0]) if market.region is not None else market
    s, e = resolve_window(conn, start, end, before)
    rows = chart_rows(conn, regions, s, e)
    if not rows:
        raise BadInput(
            f"market {market.key} has no chart entries in {s}..{e}",
            field="market.region" if market.region else "market.cohortId",
        )
    weeks = sorted({w for _, _, w, _ in rows} | set(_weeks_between(conn, s, e)))
    chart = chart_data(rows, set(regions), weeks)
    anchor = None
    if market.region is not None:
        # The region's audience neighbours, over the same window (every region's charts).
        every = chart_rows(
            conn, [str(r[0]) for r in conn.execute(text("SELECT code FROM regions"))], s, e
        )
        by_region: dict[str, list[tuple[int | None, str, date, int]]] = defaultdict(list)
        for row in every:
            by_region[row[1]].append(row)
        charts = {c: chart_data(rs, {c}, weeks) for c, rs in by_region.items()}
        anchor = neighbour_anchors(charts, region_similarity(conn, e + timedelta(days=1))).get(
            market.region
        )
        wanted = sorted(set(chart.title_ids) | set(anchor or ()))
        groups = load_groups(conn, level, membership, wanted)
    else:
        groups = load_groups(conn, level, membership, chart.title_ids)
    shares, titles = load_supply(conn, groups, supply, regions=regions, end=e)
    return gaps_from(
        market,
        chart,
        groups,
        shares,
        titles,
        smoothing=smoothing,
        replicates=replicates,
        seed=market_seed(market),
        anchor=anchor,
    )


def _weeks_between(conn: Connection, start: date, end: date) -> list[date]:
    return [
        r[0]
        for r in conn.execute(
            text(
                "SELECT DISTINCT week FROM top10_country_weeks WHERE week BETWEEN :s AND :e "
                "ORDER BY 1"
            ),
            {"s": start, "e": end},
        )
    ]


# --- stored results (recomputed by the pipeline) -----------------------------------------------

_GAP_COLUMNS = (
    "level, micro_genre_id, genre, rank, supply_share, demand_share, opportunity, low, high, "
    "momentum, momentum_low, momentum_high, coverage, catalog_titles, charting_titles, points, "
    "top_titles::text AS top_titles_json, window_start, window_end"
)


def _gap(r: Any) -> Gap:
    return Gap(
        level=Level(r.level),
        micro_genre_id=r.micro_genre_id,
        genre=r.genre,
        rank=int(r.rank),
        supply_share=float(r.supply_share),
        demand_share=float(r.demand_share),
        opportunity=float(r.opportunity),
        low=float(r.low),
        high=float(r.high),
        momentum=float(r.momentum),
        momentum_low=float(r.momentum_low),
        momentum_high=float(r.momentum_high),
        coverage=float(r.coverage),
        catalog_titles=float(r.catalog_titles),
        charting_titles=int(r.charting_titles),
        points=float(r.points),
        top_titles=[],
        top_titles_json=r.top_titles_json,
        window_start=r.window_start,
        window_end=r.window_end,
    )


def _market_where(market: Market) -> tuple[str, dict[str, Any]]:
    if market.region is not None:
        return "region_code = :m", {"m": market.region.strip().upper()}
    return "cohort_id = :m", {"m": market.cohort_id}


async def stored_gaps(
    session: AsyncSession, market: Market, level: Level, membership: MembershipKind
) -> list[Gap]:
    """The stored gaps of a market (every chart week, catalog supply), best first; empty when
    none are stored (then compute them)."""
    where, params = _market_where(market)
    rows = await session.execute(
        text(
            f"SELECT {_GAP_COLUMNS} FROM content_gaps WHERE {where} AND level = :l "
            "AND membership = :k ORDER BY rank"
        ),
        {**params, "l": level.value, "k": membership.value},
    )
    return [_gap(r) for r in rows]


async def stored_micro_genre_demand(
    session: AsyncSession, keys: Sequence[tuple[str, int]]
) -> list[Gap | None]:
    """Batch: (market key, micro-genre id) -> its stored HARD micro-genre gap, in key order."""
    regions = sorted({m for m, _ in keys if not m.startswith("cohort:")})
    cohorts = sorted({int(m.split(":", 1)[1]) for m, _ in keys if m.startswith("cohort:")})
    ids = sorted({g for _, g in keys})
    rows = await session.execute(
        text(
            f"SELECT coalesce(region_code, 'cohort:' || cohort_id) AS market, {_GAP_COLUMNS} "
            "FROM content_gaps WHERE level = 'MICRO_GENRE' AND membership = 'HARD' "
            "AND micro_genre_id = ANY(:ids) "
            "AND (region_code = ANY(:regions) OR cohort_id = ANY(:cohorts))"
        ),
        {"ids": ids, "regions": regions, "cohorts": cohorts},
    )
    found = {(str(r.market), int(r.micro_genre_id)): _gap(r) for r in rows}
    return [found.get(k) for k in keys]


async def check_market(session: AsyncSession, market: Market) -> Market:
    regions = await session.run_sync(lambda s: market_regions(s.connection(), market))
    return Market(region=regions[0]) if market.region is not None else market


async def gaps_for(
    session: AsyncSession,
    market: Market,
    *,
    start: date | None,
    end: date | None,
    level: Level,
    membership: MembershipKind,
    supply: SupplyScope,
) -> list[Gap]:
    """Stored gaps for the default question (every week, catalog supply), otherwise computed
    on the fly with the same code."""
    market = await check_market(session, market)
    if start is None and end is None and supply is SupplyScope.CATALOG:
        stored = await stored_gaps(session, market, level, membership)
        if stored:
            return stored
    report = await session.run_sync(
        lambda s: compute_gaps(
            s.connection(),
            market,
            start=start,
            end=end,
            level=level,
            membership=membership,
            supply=supply,
        )
    )
    return report.gaps


def trending(gaps: Sequence[Gap], first: int) -> list[Gap]:
    """Groups by the lower bound of their momentum (rising first)."""
    with_demand = [g for g in gaps if g.points > 0]
    with_demand.sort(key=lambda g: (-g.momentum_low, -g.momentum, g.rank))
    return with_demand[:first]
