"""Scene queries: scenes of titles, top scenes, tag lift, scene search, retention curves and
per-title summaries. Plain SQL over an AsyncSession; never imports GraphQL."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.kit import pagination
from server.kit.countries import CountryResolver
from server.kit.errors import BadInput, NotFound

MAX_FIRST = 500
DEFAULT_RESOLUTION = None
"""``engagementCurve`` without a resolution returns the stored one."""
HOOK_SHARE = 0.05
"""Hook strength: retention after the first 5% of the runtime."""
NOT_A_DROP_OFF = frozenset({"end-credits"})
"""Leaving during the end credits is finishing, not dropping off."""
CONFIDENCE = 0.95


class SceneMetric(enum.Enum):
    ENGAGEMENT = "score"
    PLAYS = "plays"
    WATCHED_FRACTION = "watched_fraction"
    REWATCH_RATE = "rewatch_rate"
    SKIP_RATE = "skip_rate"
    EXIT_RATE = "exit_rate"


@dataclass(frozen=True)
class SceneRow:
    id: int
    title_id: int
    episode: int | None
    ordinal: int
    start: float
    end: float
    description: str | None
    characters: list[str]
    tags: list[str]
    people: list[str]
    region: str | None
    plays: int | None
    watched_fraction: float | None
    rewatch_rate: float | None
    skip_rate: float | None
    exit_rate: float | None
    score: float | None


@dataclass(frozen=True)
class SceneHit:
    scene: SceneRow
    score: float


@dataclass(frozen=True)
class TagLift:
    tag: str
    lift: float
    low: float
    high: float
    scenes: int
    titles: int


@dataclass(frozen=True)
class Curve:
    title_id: int
    episode: int | None
    region: str | None
    resolution_seconds: int
    shares: list[float]
    derived: bool
    """True when built from scene exit rates (no stored retention curve)."""

    @property
    def length_seconds(self) -> int:
        return (len(self.shares) - 1) * self.resolution_seconds

    def share_at(self, second: float) -> float:
        grid = np.arange(len(self.shares)) * self.resolution_seconds
        return float(np.interp(second, grid, self.shares))

    def resampled(self, resolution: int | None) -> list[tuple[int, float]]:
        if resolution is None or resolution == self.resolution_seconds:
            return [(i * self.resolution_seconds, s) for i, s in enumerate(self.shares)]
        seconds = np.arange(0, self.length_seconds + 1, resolution)
        grid = np.arange(len(self.shares)) * self.resolution_seconds
        values = np.interp(seconds, grid, self.shares)
        return [(int(s), float(v)) for s, v in zip(seconds, values, strict=True)]


@dataclass(frozen=True)
class DropOff:
    scene: SceneRow
    drop: float


@dataclass(frozen=True)
class Summary:
    hook_strength: float | None
    hook_seconds: int | None
    biggest_drop_off: DropOff | None
    most_rewatched: SceneRow | None


# --- argument checks ----------------------------------------------------------------------------


def check_first(first: int | None, default: int = 10) -> int:
    """``first`` of the scene lists: 1..``MAX_FIRST`` (``server.kit.pagination``)."""
    return pagination.check_first(first, MAX_FIRST, default=default)


def check_region(region: str | None) -> str | None:
    if region is None:
        return None
    code = CountryResolver.default().resolve(region)
    if code is None:
        raise BadInput(
            f"unknown region {region!r}: use an ISO 3166-1 alpha-2 code such as US",
            field="region",
        )
    return code


# --- scene rows ---------------------------------------------------------------------------------

_SCENE_COLUMNS = """
    s.id, s.title_id, s.episode, s.ordinal, s.start_seconds, s.end_seconds, s.description,
    s.characters,
    array(SELECT t.name FROM scene_tag_links l JOIN scene_tags t ON t.id = l.tag_id
          WHERE l.scene_id = s.id ORDER BY t.name) AS tags,
    array(SELECT p.name FROM scene_people sp JOIN people p ON p.id = sp.person_id
          WHERE sp.scene_id = s.id ORDER BY sp.position) AS people,
    e.region, e.plays, e.watched_fraction, e.rewatch_rate, e.skip_rate, e.exit_rate, e.score
"""


def _row(r: Any, offset: int = 0) -> SceneRow:
    v = tuple(r)[offset:]

    def opt(x: Any) -> float | None:
        return None if x is None else float(x)

    return SceneRow(
        id=int(v[0]),
        title_id=int(v[1]),
        episode=v[2],
        ordinal=int(v[3]),
        start=float(v[4]),
        end=float(v[5]),
        description=v[6],
        characters=list(v[7] or []),
        tags=list(v[8] or []),
        people=list(v[9] or []),
        region=v[10],
        plays=None if v[11] is None else int(v[11]),
        watched_fraction=opt(v[12]),
        rewatch_rate=opt(v[13]),
        skip_rate=opt(v[14]),
        exit_rate=opt(v[15]),
        score=opt(v[16]),
    )


async def scenes_for_keys(
    session: AsyncSession, keys: Sequence[tuple[int, int | None, int]]
) -> list[list[SceneRow]]:
    """For each (title id, episode or None for all, first): the title's scenes in order
    (episode, ordinal), with all-regions engagement. One statement for every key."""
    if not keys:
        return []
    rows = await session.execute(
        text(
            f"""
            SELECT k.idx, {_SCENE_COLUMNS}
            FROM unnest(CAST(:titles AS bigint[]), CAST(:episodes AS int[]),
                        CAST(:firsts AS int[])) WITH ORDINALITY AS k(title_id, episode, first, idx)
            CROSS JOIN LATERAL (
                SELECT * FROM scenes s0
                WHERE s0.title_id = k.title_id AND (k.episode IS NULL OR s0.episode = k.episode)
                ORDER BY s0.episode NULLS FIRST, s0.ordinal
                LIMIT k.first
            ) s
            LEFT JOIN scene_engagement e ON e.scene_id = s.id AND e.region IS NULL
            ORDER BY k.idx, s.episode NULLS FIRST, s.ordinal
            """
        ),
        {
            "titles": [k[0] for k in keys],
            "episodes": [k[1] for k in keys],
            "firsts": [k[2] for k in keys],
        },
    )
    out: list[list[SceneRow]] = [[] for _ in keys]
    for r in rows:
        out[int(r[0]) - 1].append(_row(r, 1))
    return out


async def scenes_of_titles(session: AsyncSession, title_ids: Sequence[int]) -> list[SceneRow]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_SCENE_COLUMNS}
            FROM scenes s LEFT JOIN scene_engagement e ON e.scene_id = s.id AND e.region IS NULL
            WHERE s.title_id = ANY(:ids)
            ORDER BY s.title_id, s.episode NULLS FIRST, s.ordinal
            """
        ),
        {"ids": list(title_ids)},
    )
    return [_row(r) for r in rows]


async def scenes_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[SceneRow | None]:
    rows = await session.execute(
        text(
            f"""
            SELECT {_SCENE_COLUMNS}
            FROM scenes s LEFT JOIN scene_engagement e ON e.scene_id = s.id AND e.region IS NULL
            WHERE s.id = ANY(:ids)
            """
        ),
        {"ids": list(ids)},
    )
    found = {row.id: row for row in map(_row, rows)}
    return [found.get(i) for i in ids]


def top_scenes_sql(metric: SceneMetric, *, by_title: bool, by_region: bool) -> str:
    """The SQL of ``top_scenes`` (parameters ``:region``, ``:title_id``, ``:first``)."""
    where = ["e.region = :region" if by_region else "e.region IS NULL"]
    if by_title:
        where.append("s.title_id = :title_id")
    column = f"e.{metric.value}"
    return f"""
        SELECT {_SCENE_COLUMNS}
        FROM scene_engagement e JOIN scenes s ON s.id = e.scene_id
        WHERE {" AND ".join(where)} AND {column} IS NOT NULL
        ORDER BY {column} DESC, e.scene_id
        LIMIT :first
    """


async def top_scenes(
    session: AsyncSession,
    title_id: int | None,
    metric: SceneMetric,
    first: int,
    region: str | None,
) -> list[SceneRow]:
    """Scenes with the highest ``metric`` in ``region`` (None: the all-regions rows), within
    one title or across the catalog; ties by scene id. Across the catalog by ENGAGEMENT this
    reads the top of the (region, score) index."""
    check_first(first)
    rows = await session.execute(
        text(top_scenes_sql(metric, by_title=title_id is not None, by_region=region is not None)),
        {"region": region, "title_id": title_id, "first": first},
    )
    return [_row(r) for r in rows]


# --- tag lift -----------------------------------------------------------------------------------

_LIFT = """
WITH per AS (
    SELECT l.tag_id, s.title_id, count(*) AS n, sum(e.score) AS total
    FROM scene_engagement e
    JOIN scenes s ON s.id = e.scene_id
    JOIN scene_tag_links l ON l.scene_id = e.scene_id
    WHERE {region} AND e.score IS NOT NULL
    GROUP BY l.tag_id, s.title_id
), tot AS (
    SELECT tag_id, sum(n) AS n, sum(total) / sum(n) AS mean, count(*) AS clusters
    FROM per GROUP BY tag_id HAVING sum(n) >= :min_scenes
)
SELECT t.name, tot.n, tot.clusters, tot.mean, sum((per.total - per.n * tot.mean) ^ 2) AS ss
FROM tot JOIN per USING (tag_id) JOIN scene_tags t ON t.id = tot.tag_id
GROUP BY t.name, tot.n, tot.clusters, tot.mean
"""


def tag_lift_sql(*, by_region: bool) -> str:
    """The SQL of ``scene_tag_lift`` (parameters ``:region``, ``:min_scenes``): per tag, the
    scene count, title count, mean score and the between-title sum of squares."""
    return _LIFT.format(region="e.region = :region" if by_region else "e.region IS NULL")


def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, df))


def lift_interval(
    n: int, clusters: int, mean: float, ss: float, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Cluster-robust (by title) interval of a mean score: scenes of one title are not
    independent, so the standard error comes from the spread between titles,

        se^2 = G / (G - 1) * sum_titles (sum_i (x_i - mean))^2 / n^2

    with a t quantile on G - 1 degrees of freedom (G = titles). Few scenes or few titles give a
    wide interval."""
    se = math.sqrt(clusters / (clusters - 1) * max(ss, 0.0)) / n
    half = t_quantile(clusters - 1, confidence) * se
    return mean - half, mean + half


async def scene_tag_lift(
    session: AsyncSession, first: int, min_scenes: int, region: str | None
) -> list[TagLift]:
    """Mean engagement score of each scene tag (its lift over the typical scene of the same
    titles, whose score is 0 by construction) with a 95% interval; ranked by the interval's
    lower bound, so a tag seen in few scenes needs a larger lift to rank high. Tags seen in
    fewer than ``min_scenes`` scenes or in a single title are left out."""
    check_first(first)
    if min_scenes < 1:
        raise BadInput(f"minScenes must be at least 1, got {min_scenes}", field="minScenes")
    rows = await session.execute(
        text(tag_lift_sql(by_region=region is not None)),
        {"region": region, "min_scenes": min_scenes},
    )
    lifts: list[TagLift] = []
    for name, n, clusters, mean, ss in rows:
        if int(clusters) < 2:
            continue
        low, high = lift_interval(int(n), int(clusters), float(mean), float(ss))
        lifts.append(TagLift(name, float(mean), low, high, int(n), int(clusters)))
    lifts.sort(key=lambda t: (-t.low, t.tag))
    return lifts[:first]


# --- search -------------------------------------------------------------------------------------


async def search_scenes(
    session: AsyncSession, embedder: str, vector: np.ndarray[Any, Any], first: int
) -> list[SceneHit]:
    """Scenes whose description embedding is nearest the query vector (cosine similarity)."""
    check_first(first)
    literal = "[" + ",".join(f"{float(v):.7g}" for v in vector) + "]"
    hits = (
        await session.execute(
            text(
                """
                SELECT scene_id, 1 - (embedding <=> CAST(:q AS vector)) AS score
                FROM scene_embeddings
                WHERE embedder = :embedder
                ORDER BY embedding <=> CAST(:q AS vector)
                LIMIT :first
                """
            ),
            {"q": literal, "embedder": embedder, "first": first},
        )
    ).all()
    if not hits:
        await _check_embedded(session, embedder)
    return await _hits(session, [(int(i), float(s)) for i, s in hits])


async def similar_scenes(session: AsyncSession, scene_id: int, first: int) -> list[SceneHit]:
    """The scenes whose descriptions are nearest ``scene_id``'s (never itself)."""
    check_first(first)
    stored = (
        await session.execute(
            text("SELECT embedder FROM scene_embeddings WHERE scene_id = :id"), {"id": scene_id}
        )
    ).scalar_one_or_none()
    if stored is None:
        exists = (
            await session.execute(text("SELECT 1 FROM scenes WHERE id = :id"), {"id": scene_id})
        ).scalar_one_or_none()
        if exists is None:
            raise NotFound(f"no scene with id {scene_id}", field="sceneId")
        raise NotFound(
            f"scene {scene_id} has no embedding yet: run `contentintel embed-scenes`",
            field="sceneId",
        )
    hits = (
        await session.execute(
            text(
                """
                SELECT n.scene_id, 1 - (n.embedding <=> q.embedding) AS score
                FROM scene_embeddings q
                CROSS JOIN LATERAL (
                    SELECT scene_id, embedding FROM scene_embeddings x
                    WHERE x.embedder = q.embedder AND x.scene_id <> q.scene_id
                    ORDER BY x.embedding <=> q.embedding
                    LIMIT :first
                ) n
                WHERE q.scene_id = :id
                ORDER BY n.embedding <=> q.embedding
                """
            ),
            {"id": scene_id, "first": first},
        )
    ).all()
    return await _hits(session, [(int(i), float(s)) for i, s in hits])


async def _hits(session: AsyncSession, hits: list[tuple[int, float]]) -> list[SceneHit]:
    rows = await scenes_by_ids(session, [i for i, _ in hits])
    return [SceneHit(row, score) for row, (_, score) in zip(rows, hits, strict=True) if row]


async def _check_embedded(session: AsyncSession, embedder: str) -> None:
    counts: dict[str, int] = dict(
        (
            await session.execute(
                text("SELECT embedder, count(*) FROM scene_embeddings GROUP BY embedder")
            )
        ).all()
    )
    if counts.get(embedder):
        return
    if counts:
        raise NotFound(
            f"no scenes are embedded with {embedder} (found {', '.join(counts)}): run "
            "`contentintel embed-scenes` with the configured embedder",
            field="query",
        )
    raise NotFound("no scenes are embedded yet: run `contentintel embed-scenes`", field="query")


# --- curves and summaries -----------------------------------------------------------------------


async def curves_for_keys(
    session: AsyncSession, keys: Sequence[tuple[int, int | None, str | None]]
) -> list[Curve | None]:
    """For each (title id, episode, region): the stored retention curve (episode None: the
    movie's, or a show's first episode with one), else one derived from the scenes' exit
    rates, else None. At most two statements for every key."""
    if not keys:
        return []
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT ON (k.idx) k.idx, c.title_id, c.episode, c.region,
                   c.resolution_seconds, c.shares
            FROM unnest(CAST(:titles AS bigint[]), CAST(:episodes AS int[]),
                        CAST(:regions AS text[]))
                 WITH ORDINALITY AS k(title_id, episode, region, idx)
            JOIN retention_curves c ON c.title_id = k.title_id
                AND (k.episode IS NULL OR c.episode = k.episode)
                AND c.region IS NOT DISTINCT FROM k.region
            ORDER BY k.idx, c.episode NULLS FIRST
            """
        ),
        {
            "titles": [k[0] for k in keys],
            "episodes": [k[1] for k in keys],
            "regions": [k[2] for k in keys],
        },
    )
    out: list[Curve | None] = [None] * len(keys)
    for idx, title_id, episode, region, resolution, shares in rows:
        out[int(idx) - 1] = Curve(
            int(title_id), episode, region, int(resolution), [float(s) for s in shares], False
        )
    missing = [i for i, c in enumerate(out) if c is None]
    if missing:
        derived = await _derived_curves(session, [keys[i] for i in missing])
        for i, curve in zip(missing, derived, strict=True):
            out[i] = curve
    return out


async def _derived_curves(
    session: AsyncSession, keys: Sequence[tuple[int, int | None, str | None]]
) -> list[Curve | None]:
    rows = await session.execute(
        text(
            """
            SELECT k.idx, s.episode, s.start_seconds, s.end_seconds, e.exit_rate
            FROM unnest(CAST(:titles AS bigint[]), CAST(:episodes AS int[]),
                        CAST(:regions AS text[]))
                 WITH ORDINALITY AS k(title_id, episode, region, idx)
            JOIN scenes s ON s.title_id = k.title_id
                AND s.episode IS NOT DISTINCT FROM coalesce(k.episode, (
                    SELECT min(s2.episode) FROM scenes s2 WHERE s2.title_id = k.title_id))
            JOIN scene_engagement e ON e.scene_id = s.id AND e.region IS NOT DISTINCT FROM k.region
            ORDER BY k.idx, s.start_seconds
            """
        ),
        {
            "titles": [k[0] for k in keys],
            "episodes": [k[1] for k in keys],
            "regions": [k[2] for k in keys],
        },
    )
    spans: dict[int, list[tuple[int | None, float, float, float]]] = {}
    for idx, episode, start, end, exit_rate in rows:
        spans.setdefault(int(idx) - 1, []).append(
            (episode, float(start), float(end), float(exit_rate))
        )
    out: list[Curve | None] = []
    for i, key in enumerate(keys):
        scenes = spans.get(i)
        out.append(
            None
            if not scenes
            else derive_curve(key[0], scenes[0][0], key[2], [s[1:] for s in scenes])
        )
    return out


def derive_curve(
    title_id: int,
    episode: int | None,
    region: str | None,
    scenes: Sequence[tuple[float, float, float]],
    resolution: int = 10,
) -> Curve:
    """A retention curve from (start, end, exit rate) of consecutive scenes: viewers leave at
    a constant rate within each scene; gaps between scenes keep the share."""
    points_t: list[float] = [0.0]
    points_s: list[float] = [1.0]
    share = 1.0
    for start, end, exit_rate in scenes:
        points_t.append(start)
        points_s.append(share)
        share *= 1.0 - exit_rate
        points_t.append(end)
        points_s.append(share)
    length = max(points_t)
    grid = np.arange(0, math.ceil(length / resolution) * resolution + 1, resolution)
    values = np.interp(grid, points_t, points_s)
    return Curve(title_id, episode, region, resolution, [float(v) for v in values], True)


def summarise(curve: Curve | None, scenes: Sequence[SceneRow]) -> Summary | None:
    """Hook strength (share still watching after the first 5% of the runtime), the scene that
    loses the largest share of starting viewers after that point (the early drop-off is what
    the hook measures, so only the part of a scene after it counts; leaving in the end credits
    is finishing, not dropping off) and the most rewatched scene, from the title's curve (the
    movie, or a show's first episode) and its scenes."""
    if curve is None and not scenes:
        return None
    hook = hook_seconds = None
    drop: DropOff | None = None
    if curve is not None and curve.length_seconds > 0:
        base = curve.shares[0] or 1.0
        hook_seconds = round(curve.length_seconds * HOOK_SHARE)
        hook = curve.share_at(hook_seconds) / base
        for scene in scenes:
            if (
                scene.episode != curve.episode
                or NOT_A_DROP_OFF & set(scene.tags)
                or scene.end <= hook_seconds
            ):
                continue
            begin = max(scene.start, hook_seconds)
            lost = (curve.share_at(begin) - curve.share_at(scene.end)) / base
            if drop is None or lost > drop.drop:
                drop = DropOff(scene, lost)
    rewatched = [s for s in scenes if s.rewatch_rate is not None]
    most = (
        max(rewatched, key=lambda s: (s.rewatch_rate or 0.0, s.plays or 0, -s.id))
        if rewatched
        else None
    )
    return Summary(hook, hook_seconds, drop, most)


async def summaries_for_titles(
    session: AsyncSession, title_ids: Sequence[int]
) -> list[Summary | None]:
    curves = await curves_for_keys(session, [(i, None, None) for i in title_ids])
    scenes = await scenes_of_titles(session, title_ids)
    by_title: dict[int, list[SceneRow]] = {}
    for scene in scenes:
        by_title.setdefault(scene.title_id, []).append(scene)
    return [
        summarise(curve, by_title.get(title_id, []))
        for title_id, curve in zip(title_ids, curves, strict=True)
    ]


async def title_exists(session: AsyncSession, title_id: int) -> bool:
    found = await session.execute(text("SELECT 1 FROM titles WHERE id = :id"), {"id": title_id})
    return found.scalar_one_or_none() is not None
