"""Regional and global scores of catalog titles, from the weekly Top 10 charts.

Per title x region, over the chart weeks considered:

- ``weeks_in_top10``: weeks the title was in the region's Top 10 (any season);
- ``best_rank``: its best weekly rank; ``first_week`` / ``last_week``: first and last chart week;
- ``points`` = sum over those weeks of ``11 - rank`` (the title's best rank that week): a week
  at #1 is worth 10 points, a week at #10 one point;
- ``score`` = ``points`` / the highest ``points`` of any chart entry in the region (catalog
  title or not) over the same weeks: 1.0 is the region's biggest hit, comparable across regions.

Global scores: weeks and best rank in the global Top 10 (any of its four lists), total hours
viewed and views over those weeks.

``compute_regional_scores(conn, before=...)`` computes from chart weeks strictly before a date
(a backtest's cutoff) without writing anything, so training data cannot leak post-cutoff
weeks; ``persist_scores`` recomputes from every week and replaces the stored scores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

_REGIONAL = """
WITH weekly AS (
    SELECT coalesce(title_id::text, kind::text || ':' || show_title) AS entry, title_id,
           region_code, week, min(rank) AS rank
    FROM top10_country_weeks
    WHERE CAST(:before AS date) IS NULL OR week < CAST(:before AS date)
    GROUP BY 1, 2, 3, 4
), entries AS (
    SELECT entry, title_id, region_code, count(*) AS weeks, min(rank) AS best_rank,
           min(week) AS first_week, max(week) AS last_week, sum(11 - rank) AS points
    FROM weekly GROUP BY 1, 2, 3
), scored AS (
    SELECT *, points::double precision / max(points) OVER (PARTITION BY region_code) AS score
    FROM entries
)
SELECT title_id, region_code, weeks::smallint AS weeks_in_top10, best_rank::smallint AS best_rank,
       first_week, last_week, points::integer AS points, score::real AS score
FROM scored WHERE title_id IS NOT NULL
"""

_GLOBAL = """
SELECT title_id, count(DISTINCT week)::smallint AS weeks_in_top10,
       min(rank)::smallint AS best_rank, min(week) AS first_week,
       sum(hours_viewed)::bigint AS hours_viewed, sum(views)::bigint AS views
FROM top10_global_weeks
WHERE title_id IS NOT NULL AND (CAST(:before AS date) IS NULL OR week < CAST(:before AS date))
GROUP BY title_id
"""


@dataclass(frozen=True)
class RegionalScoreRow:
    title_id: int
    region_code: str
    weeks_in_top10: int
    best_rank: int
    first_week: date
    last_week: date
    points: int
    score: float


@dataclass(frozen=True)
class GlobalScoreRow:
    title_id: int
    weeks_in_top10: int
    best_rank: int
    first_week: date
    hours_viewed: int | None
    views: int | None


@dataclass(frozen=True)
class ScoresSummary:
    regional: int
    titles: int
    regions: int
    global_titles: int
    seconds: float


def compute_regional_scores(conn: Connection, before: date | None = None) -> list[RegionalScoreRow]:
    """Scores per (catalog title, region) from chart weeks strictly before ``before`` (all weeks
    when None), ordered by region then score (best first). Reads only; writes nothing."""
    rows = conn.execute(
        text(_REGIONAL + " ORDER BY region_code, score DESC, title_id"), {"before": before}
    )
    return [RegionalScoreRow(**r._mapping) for r in rows]


def compute_global_scores(conn: Connection, before: date | None = None) -> list[GlobalScoreRow]:
    """Global Top 10 figures per catalog title from weeks strictly before ``before``."""
    rows = conn.execute(text(_GLOBAL + " ORDER BY title_id"), {"before": before})
    return [GlobalScoreRow(**r._mapping) for r in rows]


def persist_scores(conn: Connection) -> ScoresSummary:
    """Recompute regional and global scores from every chart week and replace the stored ones
    (the content-strategy tables derived from them: ``server.strategy.pipeline.rescore``)."""
    started = time.perf_counter()
    conn.execute(text("DELETE FROM regional_scores"))
    conn.execute(
        text(
            "INSERT INTO regional_scores (title_id, region_code, weeks_in_top10, best_rank, "
            "first_week, last_week, points, score) SELECT title_id, region_code, weeks_in_top10, "
            "best_rank, first_week, last_week, points, score FROM (" + _REGIONAL + ") s"
        ),
        {"before": None},
    )
    conn.execute(text("DELETE FROM global_scores"))
    conn.execute(
        text(
            "INSERT INTO global_scores (title_id, weeks_in_top10, best_rank, first_week, "
            "hours_viewed, views) " + _GLOBAL
        ),
        {"before": None},
    )
    regional, titles, regions = conn.execute(
        text(
            "SELECT count(*), count(DISTINCT title_id), count(DISTINCT region_code) "
            "FROM regional_scores"
        )
    ).one()
    global_titles = conn.execute(text("SELECT count(*) FROM global_scores")).scalar_one()
    return ScoresSummary(
        regional=int(regional),
        titles=int(titles),
        regions=int(regions),
        global_titles=int(global_titles),
        seconds=time.perf_counter() - started,
    )
