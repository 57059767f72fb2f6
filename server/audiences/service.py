"""Read queries of the audiences feature (the GraphQL layer calls these; no strawberry here),
and the cutoff-safe figures other features build on (``compute_regional_scores``,
``cochart_weights``: forecast backtests and content strategy; ``persist_scores``).

Batch functions take a list of keys and return results in key order (DataLoader contract).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audiences.profiles import MIN_TITLES, AudienceSpace, audience_space
from server.audiences.profiles import cochart_weights as cochart_weights
from server.audiences.scores import RegionalScoreRow as RegionalScoreRow
from server.audiences.scores import ScoresSummary as ScoresSummary
from server.audiences.scores import compute_regional_scores as compute_regional_scores
from server.audiences.scores import persist_scores as persist_scores
from server.kit import pagination
from server.kit.batching import lists_by_key
from server.kit.errors import BadInput, NotFound

_CODE = re.compile(r"^[A-Za-z]{2}$")
MAX_FIRST = 200
SMOOTHING = 0.01
"""Added to both shares when comparing two regions' genre mixes (a genre absent from one)."""
TREND_WINDOW = timedelta(days=28)
"""Default ``regionTrends`` window: the last four chart weeks against the weeks before."""


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    group: str
    languages: list[str]


@dataclass(frozen=True)
class GenreLift:
    name: str
    lift: float
    titles: int
    share: float
    lift_low: float | None = None
    """Credible lower bound of the lift (region taste profiles; None elsewhere)."""


@dataclass(frozen=True)
class MicroGenreLift:
    micro_genre_id: int
    label: str
    lift: float
    titles: int
    share: float
    lift_low: float | None = None


@dataclass(frozen=True)
class Performance:
    region_code: str
    weeks_in_top10: int
    best_rank: int
    score: float
    points: int
    first_week: date
    last_week: date


@dataclass(frozen=True)
class Travelability:
    regions_charted: int
    origin_region_share: float
    score: float


@dataclass(frozen=True)
class CohortRow:
    id: int
    label: str
    size: int
    top_genres: list[dict[str, object]]
    level: int = 1
    """1: top-level cohort; 2: sub-cohort."""
    parent_id: int | None = None


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    similarity: float | None
    shared_titles: int
    distinctive_for_a: list[GenreLift]
    distinctive_for_b: list[GenreLift]


@dataclass(frozen=True)
class Trend:
    kind: str
    name: str
    recent_share: float
    previous_share: float
    change: float
    titles: int


def check_code(code: str, field: str = "code") -> str:
    if not _CODE.fullmatch(code.strip()):
        raise BadInput(
            f"{field} must be an ISO 3166-1 alpha-2 code like KR, got {code!r}", field=field
        )
    return code.strip().upper()


def check_first(first: int | None, default: int, field: str = "first") -> int:
    """``first`` of the audience lists: 0..``MAX_FIRST`` (``server.kit.pagination``)."""
    return pagination.check_first(first, MAX_FIRST, default=default, minimum=0, field=field)


# --- regions ---------------------------------------------------------------------------------

_REGIONS = "SELECT code, name, region_group, languages FROM regions"


def _region(r: object) -> RegionRow:
    return RegionRow(r.code, r.name, r.region_group, list(r.languages))  # type: ignore[attr-defined]


async def list_regions(session: AsyncSession) -> list[RegionRow]:
    return [_region(r) for r in await session.execute(text(_REGIONS + " ORDER BY code"))]


async def regions_by_codes(session: AsyncSession, codes: Sequence[str]) -> list[RegionRow | None]:
    rows = await session.execute(text(_REGIONS + " WHERE code = ANY(:c)"), {"c": list(codes)})
    found = {r.code: _region(r) for r in rows}
    return [found.get(c) for c in codes]


async def genres_of_regions(session: AsyncSession, codes: Sequence[str]) -> list[list[GenreLift]]:
    """Each region's genres, by the credible lower bound of their lift (then the lift), so a
    genre carried by one or two titles does not come first."""
    rows = await session.execute(
        text(
            "SELECT region_code, genre, lift, titles, share, lift_low FROM region_genres "
            "WHERE region_code = ANY(:c) "
            "ORDER BY region_code, coalesce(lift_low, 0) DESC, lift DESC, genre"
        ),
        {"c": list(codes)},
    )
    return lists_by_key(
        (
            (
                r.region_code,
                GenreLift(
                    r.genre,
                    float(r.lift),
                    r.titles,
                    float(r.share),
                    None if r.lift_low is None else float(r.lift_low),
                ),
            )
            for r in rows
        ),
        codes,
    )


async def micro_genres_of_regions(
    session: AsyncSession, codes: Sequence[str]
) -> list[list[MicroGenreLift]]:
    rows = await session.execute(
        text(
            "SELECT m.region_code, m.micro_genre_id, g.label, m.lift, m.titles, m.share, "
            "m.lift_low FROM region_micro_genres m JOIN micro_genres g "
            "ON g.id = m.micro_genre_id WHERE m.region_code = ANY(:c) "
            "ORDER BY m.region_code, coalesce(m.lift_low, 0) DESC, m.lift DESC, g.label"
        ),
        {"c": list(codes)},
    )
    return lists_by_key(
        (
            (
                r.region_code,
                MicroGenreLift(
                    r.micro_genre_id,
                    r.label,
                    float(r.lift),
                    r.titles,
                    float(r.share),
                    None if r.lift_low is None else float(r.lift_low),
                ),
            )
            for r in rows
        ),
        codes,
    )


async def load_audience_space(session: AsyncSession) -> AudienceSpace:
    return await session.run_sync(lambda s: audience_space(s.connection()))


def similar_regions(space: AudienceSpace, code: str, first: int) -> list[tuple[str, float]]:
    if code not in space.regions:
        return []
    i = space.index(code)
    others = [(r, float(space.similarity[i, j])) for j, r in enumerate(space.regions) if j != i]
    others.sort(key=lambda x: (-x[1], x[0]))
    return others[:first]


# --- comparison ------------------------------------------------------------------------------


async def compare_audiences(
    session: AsyncSession, space: AudienceSpace, a: str, b: str
) -> Comparison:
    found = await regions_by_codes(session, [a, b])
    for code, row, field in ((a, found[0], "a"), (b, found[1], "b")):
        if row is None:
            raise NotFound(f"no region {code!r}", field=field)
    similarity = None
    if a in space.regions and b in space.regions:
        similarity = float(space.similarity[space.index(a), space.index(b)])
    shared = await session.scalar(
        text(
            "SELECT count(*) FROM (SELECT kind, show_title FROM top10_country_weeks "
            "WHERE region_code = :a INTERSECT SELECT kind, show_title FROM top10_country_weeks "
            "WHERE region_code = :b) s"
        ),
        {"a": a, "b": b},
    )
    genres_a, genres_b = await genres_of_regions(session, [a, b])
    return Comparison(
        a=a,
        b=b,
        similarity=similarity,
        shared_titles=int(shared or 0),
        distinctive_for_a=_distinctive(genres_a, genres_b),
        distinctive_for_b=_distinctive(genres_b, genres_a),
    )


async def travelling_titles(
    session: AsyncSession, a: str, b: str, first: int
) -> list[tuple[int, float, float]]:
    """Catalog titles that charted in both regions: (title id, score in a, score in b), the
    best weaker score first."""
    rows = await session.execute(
        text(
            "SELECT x.title_id, x.score AS sa, y.score AS sb FROM regional_scores x "
            "JOIN regional_scores y ON y.title_id = x.title_id AND y.region_code = :b "
            "WHERE x.region_code = :a ORDER BY least(x.score, y.score) DESC, x.title_id LIMIT :n"
        ),
        {"a": a, "b": b, "n": first},
    )
    return [(r.title_id, float(r.sa), float(r.sb)) for r in rows]


def _distinctive(mine: Sequence[GenreLift], theirs: Sequence[GenreLift]) -> list[GenreLift]:
    """Genres relatively stronger in ``mine``: lift = (share here + s) / (share there + s),
    ranked by its credible lower bound: the share here at its resampled 5th percentile (the
    region's ``lift_low`` / ``lift`` scales the share, the global base being fixed), so a
    genre carried by one or two titles does not lead."""
    other = {g.name: g.share for g in theirs}
    out = []
    for g in mine:
        if g.titles < MIN_TITLES:
            continue
        there = other.get(g.name, 0.0) + SMOOTHING
        low = None
        if g.lift_low is not None and g.lift > 0:
            low = (g.share * g.lift_low / g.lift + SMOOTHING) / there
        out.append(GenreLift(g.name, (g.share + SMOOTHING) / there, g.titles, g.share, low))
    out = [g for g in out if g.lift > 1]
    out.sort(key=lambda g: (-(g.lift_low if g.lift_low is not None else g.lift), -g.lift, g.name))
    return out[:10]


# --- cohorts ---------------------------------------------------------------------------------


_COHORT = "SELECT id, label, size, top_genres, level, parent_id FROM cohorts"


def _cohort(r: Any) -> CohortRow:
    return CohortRow(r.id, r.label, r.size, list(r.top_genres), r.level, r.parent_id)


async def list_cohorts(session: AsyncSession) -> list[CohortRow]:
    """The top-level cohorts, largest first (sub-cohorts are their ``children``)."""
    rows = await session.execute(text(_COHORT + " WHERE level = 1 ORDER BY size DESC, id"))
    return [_cohort(r) for r in rows]


async def cohorts_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[CohortRow | None]:
    rows = await session.execute(text(_COHORT + " WHERE id = ANY(:i)"), {"i": list(ids)})
    found = {r.id: _cohort(r) for r in rows}
    return [found.get(i) for i in ids]


async def children_of_cohorts(session: AsyncSession, ids: Sequence[int]) -> list[list[CohortRow]]:
    """Sub-cohorts of each cohort, largest first."""
    rows = await session.execute(
        text(_COHORT + " WHERE parent_id = ANY(:i) ORDER BY parent_id, size DESC, id"),
        {"i": list(ids)},
    )
    return lists_by_key(((r.parent_id, _cohort(r)) for r in rows), ids)


async def members_of_cohorts(session: AsyncSession, ids: Sequence[int]) -> list[list[RegionRow]]:
    """Member regions of each cohort (top-level or sub-cohort), most central in the top-level
    cohort first."""
    rows = await session.execute(
        text(
            "SELECT k.cohort, r.code, r.name, r.region_group, r.languages "
            "FROM cohort_members m "
            "CROSS JOIN LATERAL (VALUES (m.cohort_id), (m.sub_cohort_id)) AS k(cohort) "
            "JOIN regions r ON r.code = m.region_code "
            "WHERE k.cohort = ANY(:i) ORDER BY k.cohort, m.similarity DESC, r.code"
        ),
        {"i": list(ids)},
    )
    return lists_by_key(((r.cohort, _region(r)) for r in rows), ids)


async def cohort_of_regions(session: AsyncSession, codes: Sequence[str]) -> list[int | None]:
    rows = await session.execute(
        text("SELECT region_code, cohort_id FROM cohort_members WHERE region_code = ANY(:c)"),
        {"c": list(codes)},
    )
    found = {r.region_code: r.cohort_id for r in rows}
    return [found.get(c) for c in codes]


# --- titles ----------------------------------------------------------------------------------


async def performance_of_titles(
    session: AsyncSession, title_ids: Sequence[int]
) -> list[list[Performance]]:
    """Each title's regional scores, best score first."""
    rows = await session.execute(
        text(
            "SELECT title_id, region_code, weeks_in_top10, best_rank, score, points, first_week, "
            "last_week FROM regional_scores WHERE title_id = ANY(:t) "
            "ORDER BY title_id, score DESC, region_code"
        ),
        {"t": list(title_ids)},
    )
    performances = (
        (
            r.title_id,
            Performance(
                r.region_code,
                r.weeks_in_top10,
                r.best_rank,
                float(r.score),
                r.points,
                r.first_week,
                r.last_week,
            ),
        )
        for r in rows
    )
    return lists_by_key(performances, title_ids)


_TRAVEL = """
WITH totals AS (SELECT count(DISTINCT region_code) AS n FROM regional_scores),
per AS (
    SELECT s.title_id, count(*) AS regions, sum(s.points) AS points,
           coalesce(sum(s.points) FILTER (WHERE tc.title_id IS NOT NULL), 0) AS origin_points
    FROM regional_scores s
    LEFT JOIN title_countries tc ON tc.title_id = s.title_id AND tc.country_code = s.region_code
    WHERE s.title_id = ANY(:t)
    GROUP BY s.title_id
)
SELECT per.*, totals.n FROM per, totals
"""


async def travelability_of_titles(
    session: AsyncSession, title_ids: Sequence[int]
) -> list[Travelability | None]:
    """How far each title travelled beyond its countries of origin; None if it never charted.

    ``regions_charted``: regions where it was in the Top 10; ``origin_region_share``: share of
    its chart points earned in its countries of origin; ``score`` = (1 - origin share) x
    regions charted / regions with chart data, in 0..1.
    """
    rows = await session.execute(text(_TRAVEL), {"t": list(title_ids)})
    found: dict[int, Travelability] = {}
    for r in rows:
        origin = float(r.origin_points) / float(r.points) if r.points else 0.0
        found[r.title_id] = Travelability(
            regions_charted=int(r.regions),
            origin_region_share=origin,
            score=(1 - origin) * int(r.regions) / max(int(r.n), 1),
        )
    return [found.get(t) for t in title_ids]


# --- trends ----------------------------------------------------------------------------------


async def region_trends(
    session: AsyncSession, code: str, since: date | None, first: int
) -> list[Trend]:
    """Genres and micro-genres whose share of the region's chart points rose most in the weeks
    from ``since`` (default: the last four chart weeks) against the weeks before."""
    if (await regions_by_codes(session, [code]))[0] is None:
        raise NotFound(f"no region {code!r}", field="code")
    last = await session.scalar(
        text("SELECT max(week) FROM top10_country_weeks WHERE region_code = :c"), {"c": code}
    )
    if last is None:
        return []
    start = since or (last - TREND_WINDOW + timedelta(days=1))
    rows = await session.execute(
        text(
            """
            SELECT w.week >= :start AS recent, w.title_id, 11 - w.rank AS points,
                   'GENRE' AS kind, tg.name
            FROM top10_country_weeks w
            JOIN title_tags tt ON tt.title_id = w.title_id
            JOIN tags tg ON tg.id = tt.tag_id AND tg.kind = 'GENRE'
            WHERE w.region_code = :c
            UNION ALL
            SELECT w.week >= :start, w.title_id, 11 - w.rank, 'MICRO_GENRE', g.label
            FROM top10_country_weeks w
            JOIN title_micro_genres m ON m.title_id = w.title_id AND m.is_primary
            JOIN micro_genres g ON g.id = m.micro_genre_id
            WHERE w.region_code = :c
            """
        ),
        {"c": code, "start": start},
    )
    mass = await session.execute(
        text(
            "SELECT week >= :start AS recent, sum(11 - rank) AS points FROM top10_country_weeks "
            "WHERE region_code = :c AND title_id IS NOT NULL GROUP BY 1"
        ),
        {"c": code, "start": start},
    )
    totals = {bool(r.recent): float(r.points) for r in mass}
    recent_total, previous_total = totals.get(True, 0.0), totals.get(False, 0.0)
    if not recent_total or not previous_total:
        return []
    points: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    titles: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in rows:
        key = (r.kind, r.name)
        points[key][0 if r.recent else 1] += float(r.points)
        if r.recent:
            titles[key].add(r.title_id)
    trends = []
    for (kind, name), (recent, previous) in points.items():
        rs, ps = recent / recent_total, previous / previous_total
        if rs > ps:
            trends.append(Trend(kind, name, rs, ps, rs - ps, len(titles[(kind, name)])))
    trends.sort(key=lambda t: (-t.change, t.kind, t.name))
    return trends[:first]
