"""The per-scene engagement score, normalised within the title (and region).

For every engagement row, each metric is turned into a z-score among the scenes of the same
title (all its episodes) in the same region (or the all-regions rows):

    z(x) = (x - mean_title(x)) / max(sd_title(x), 0.01)

and the score is their weighted mean, signed so that higher is better:

    score = (1.0 * z(watched_fraction) + 0.5 * z(rewatch_rate)
             - 0.5 * z(skip_rate) - 1.0 * z(exit_rate)) / 3

A score is in standard deviations of the title's own scenes, so a 20-minute episode and a
3-hour movie compare: +1 means "one spread better than this title's typical scene". Watching
to the end and not leaving weigh most; rewatching and skipping count half (both are partly
habit: recaps are skipped by design, fans rewind fights). The 0.01 floor (one percentage point)
keeps a title whose scenes barely differ from turning noise into large scores; a title with
one scene scores 0. Every title's scores average 0, so the mean score of a set of scenes (a
tag, see ``sceneTagLift``) is its lift over the typical scene of the same titles.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

WEIGHTS = {"watched_fraction": 1.0, "rewatch_rate": 0.5, "skip_rate": -0.5, "exit_rate": -1.0}
SD_FLOOR = 0.01


def _z(column: str, alias: str) -> str:
    return (
        f"({alias}.{column} - avg({alias}.{column}) OVER w) / "
        f"greatest(stddev_pop({alias}.{column}) OVER w, {SD_FLOOR})"
    )


def score_sql(alias: str = "e") -> str:
    """The score of rows ``alias`` as a SQL expression over a window ``w`` that the query
    defines as ``PARTITION BY <title id>, <alias>.region``."""
    terms = " + ".join(f"({weight}) * {_z(column, alias)}" for column, weight in WEIGHTS.items())
    return f"(({terms}) / {sum(abs(w) for w in WEIGHTS.values())})::real"


_RECOMPUTE = f"""
WITH scored AS (
    SELECT e.id, {score_sql("e")} AS score
    FROM scene_engagement e JOIN scenes s ON s.id = e.scene_id
    WHERE s.title_id = ANY(:ids)
    WINDOW w AS (PARTITION BY s.title_id, e.region)
)
UPDATE scene_engagement e SET score = scored.score
FROM scored
WHERE e.id = scored.id AND e.score IS DISTINCT FROM scored.score
"""


def recompute_scores(conn: Connection, title_ids: Sequence[int]) -> int:
    """Recompute the scores of every engagement row of ``title_ids``; returns rows changed."""
    if not title_ids:
        return 0
    result = conn.execute(text(_RECOMPUTE), {"ids": list(title_ids)})
    return int(result.rowcount or 0)


def score_of(
    rows: Sequence[tuple[float, float, float, float]],
) -> list[float]:
    """The same score computed in Python over one title's rows (wf, rewatch, skip, exit):
    documents the formula and lets tests check the SQL."""
    import numpy as np

    values = np.asarray(rows, dtype=np.float64)
    mean = values.mean(axis=0)
    sd = np.maximum(values.std(axis=0), SD_FLOOR)
    z = (values - mean) / sd
    weights = np.array(list(WEIGHTS.values()))
    return [float(v) for v in (z @ weights) / np.abs(weights).sum()]
