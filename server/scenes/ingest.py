"""Scene and engagement ingest: validate, COPY into staging tables, merge, in one transaction.

Scenes: a file is authoritative for every (title, episode) it mentions: that group's scenes
become exactly the file's (matched by ordinal: an unchanged scene keeps its id, engagement and
embedding; a changed one is updated in place; an ordinal missing from the file is deleted). A
group with any bad row is rejected as a whole, so a group is never half-replaced. Scenes of
titles or episodes the file does not mention are left alone.

Engagement: rows are upserted by (scene, region) and retention curves by (title, episode,
region); nothing is deleted. Scores of every title whose engagement changed are recomputed
(``server.scenes.score``) in the same transaction.

Both are idempotent: re-ingesting a file writes nothing and says so.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from server.ingest.copy import attribute_rows, copy_rows
from server.ingest.flow import read_progress, validate_then_merge
from server.ingest.rows import InputFileError, RawRow, RowError
from server.ingest.summary import PhaseProgress, RowTally, StrictModeError
from server.scenes.readers import read_engagement_rows, read_scene_rows
from server.scenes.records import (
    RATES,
    CurveRecord,
    EngagementRecord,
    EngagementValidator,
    SceneIndex,
    SceneRecord,
    SceneValidator,
    TitleIndex,
    TitleInfo,
)
from server.scenes.score import recompute_scores, score_sql


@dataclass
class SceneIngestSummary(RowTally):
    deleted: int = 0
    embedded: int = 0
    seconds: float = 0.0
    rows: int = 0
    """Rows accepted from the file."""

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


# --- database lookups ---------------------------------------------------------------------------


def load_title_index(conn: Connection) -> dict[str, TitleInfo]:
    rows = conn.execute(text("SELECT external_id, id, kind, duration_minutes FROM titles"))
    return {r[0]: TitleInfo(int(r[1]), str(r[2]), r[3]) for r in rows}


def load_scene_index(conn: Connection) -> dict[tuple[str, int | None, int], int]:
    rows = conn.execute(
        text(
            "SELECT t.external_id, s.episode, s.ordinal, s.id "
            "FROM scenes s JOIN titles t ON t.id = s.title_id"
        )
    )
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


# --- scene validation ---------------------------------------------------------------------------


@dataclass
class ValidatedScenes:
    scenes: list[SceneRecord]
    rejected: list[RowError]


def validate_scene_rows(rows: Iterable[RawRow], titles: TitleIndex) -> ValidatedScenes:
    """Row checks, then duplicates (first wins) and overlaps within each (title, episode), then
    whole-group rejection: a group with any bad row is not loaded."""
    validator = SceneValidator(titles)
    rejected: list[RowError] = []
    bad_groups: dict[tuple[str, int | None], int] = {}
    accepted: list[SceneRecord] = []
    first_line: dict[tuple[str, int | None, int], int] = {}
    for row in rows:
        if row.data is None:
            rejected.extend(row.errors)
            continue
        result = validator.validate(row.data, row.line)
        if isinstance(result, list):
            rejected.extend(result)
            group = _group_of(row.data, titles)
            if group is not None:
                bad_groups.setdefault(group, row.line)
            continue
        if result.key in first_line:
            rejected.append(
                RowError(
                    row.line,
                    "ordinal",
                    f"duplicate scene {_scene_name(result)}, first on line "
                    f"{first_line[result.key]}",
                    result.external_id,
                )
            )
            bad_groups.setdefault((result.external_id, result.episode), row.line)
            continue
        first_line[result.key] = row.line
        accepted.append(result)

    groups: dict[tuple[str, int | None], list[SceneRecord]] = {}
    for scene in accepted:
        groups.setdefault((scene.external_id, scene.episode), []).append(scene)
    for group, scenes in groups.items():
        ordered = sorted(scenes, key=lambda s: (s.start, s.end, s.line))
        for previous, current in itertools.pairwise(ordered):
            if current.start < previous.end:
                rejected.append(
                    RowError(
                        current.line,
                        "start",
                        f"scene {current.ordinal} ({current.start:g}-{current.end:g} s) overlaps "
                        f"scene {previous.ordinal} ({previous.start:g}-{previous.end:g} s, line "
                        f"{previous.line})",
                        current.external_id,
                    )
                )
                bad_groups.setdefault(group, current.line)
    good: list[SceneRecord] = []
    rejected_lines = {e.line for e in rejected}
    for scene in accepted:
        group = (scene.external_id, scene.episode)
        if group in bad_groups:
            if scene.line not in rejected_lines:
                where = f" episode {scene.episode}" if scene.episode is not None else ""
                rejected.append(
                    RowError(
                        scene.line,
                        "row",
                        f"not loaded: the scenes of {scene.external_id!r}{where} have a bad row "
                        f"(line {bad_groups[group]}); a scene list loads whole or not at all",
                        scene.external_id,
                    )
                )
            continue
        good.append(scene)
    rejected.sort(key=lambda e: e.line)
    return ValidatedScenes(good, rejected)


def _group_of(data: dict[str, Any], titles: TitleIndex) -> tuple[str, int | None] | None:
    ext = data.get("external_id")
    if not isinstance(ext, str) or ext.strip() not in titles:
        return None
    episode = data.get("episode")
    try:
        number = None if episode in (None, "") else int(episode)
    except (TypeError, ValueError):
        return None
    return ext.strip(), number


def _scene_name(scene: SceneRecord) -> str:
    where = f" of episode {scene.episode}" if scene.episode is not None else ""
    return f"{scene.ordinal}{where} of {scene.external_id!r}"


# --- scene merge --------------------------------------------------------------------------------

_SCENE_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_scenes (
    title_id bigint, episode smallint, ordinal integer, start_seconds real, end_seconds real,
    description text, characters text[], tags text[], people text[], content_hash text
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_scene_changed (id bigint, inserted boolean) ON COMMIT DROP;
TRUNCATE stage_scenes, stage_scene_changed;
"""
_SCENE_COLUMNS = (
    "title_id",
    "episode",
    "ordinal",
    "start_seconds",
    "end_seconds",
    "description",
    "characters",
    "tags",
    "people",
    "content_hash",
)

_SCENE_STEPS = (
    # Ordinals of a group in the file that the file no longer lists.
    """
    WITH groups AS (SELECT DISTINCT title_id, episode FROM stage_scenes),
    gone AS (
        DELETE FROM scenes s USING groups g
        WHERE s.title_id = g.title_id AND s.episode IS NOT DISTINCT FROM g.episode
          AND NOT EXISTS (
              SELECT 1 FROM stage_scenes st
              WHERE st.title_id = s.title_id AND st.episode IS NOT DISTINCT FROM s.episode
                AND st.ordinal = s.ordinal)
        RETURNING s.id
    )
    SELECT count(*) FROM gone
    """,
    """
    WITH up AS (
        INSERT INTO scenes (title_id, episode, ordinal, start_seconds, end_seconds, description,
                            characters, content_hash)
        SELECT title_id, episode, ordinal, start_seconds, end_seconds, description, characters,
               content_hash
        FROM stage_scenes
        ON CONFLICT (title_id, episode, ordinal) DO UPDATE SET
            start_seconds = excluded.start_seconds, end_seconds = excluded.end_seconds,
            description = excluded.description, characters = excluded.characters,
            content_hash = excluded.content_hash, updated_at = now()
        WHERE scenes.content_hash IS DISTINCT FROM excluded.content_hash
        RETURNING id, (xmax = 0) AS inserted
    )
    INSERT INTO stage_scene_changed SELECT id, inserted FROM up
    """,
    "DELETE FROM scene_tag_links l USING stage_scene_changed c "
    "WHERE l.scene_id = c.id AND NOT c.inserted",
    "DELETE FROM scene_people p USING stage_scene_changed c "
    "WHERE p.scene_id = c.id AND NOT c.inserted",
    """
    INSERT INTO scene_tags (name)
    SELECT DISTINCT unnest(tags) FROM stage_scenes ORDER BY 1
    ON CONFLICT (name) DO NOTHING
    """,
    """
    INSERT INTO scene_tag_links (scene_id, tag_id)
    SELECT s.id, t.id
    FROM stage_scene_changed c
    JOIN scenes s ON s.id = c.id
    JOIN stage_scenes st ON st.title_id = s.title_id
        AND st.episode IS NOT DISTINCT FROM s.episode AND st.ordinal = s.ordinal
    CROSS JOIN LATERAL unnest(st.tags) AS tag(name)
    JOIN scene_tags t ON t.name = tag.name
    """,
    """
    INSERT INTO people (name)
    SELECT DISTINCT p.name FROM stage_scenes st CROSS JOIN LATERAL unnest(st.people) AS p(name)
    ORDER BY 1
    ON CONFLICT (name) DO NOTHING
    """,
    """
    INSERT INTO scene_people (scene_id, person_id, position)
    SELECT s.id, pe.id, (p.position - 1)::smallint
    FROM stage_scene_changed c
    JOIN scenes s ON s.id = c.id
    JOIN stage_scenes st ON st.title_id = s.title_id
        AND st.episode IS NOT DISTINCT FROM s.episode AND st.ordinal = s.ordinal
    CROSS JOIN LATERAL unnest(st.people) WITH ORDINALITY AS p(name, position)
    JOIN people pe ON pe.name = p.name
    """,
)


@dataclass(frozen=True)
class SceneMergeCounts:
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    title_ids: list[int]


def merge_scenes(
    conn: Connection,
    scenes: Sequence[SceneRecord],
    *,
    use_copy: bool = True,
    progress: PhaseProgress | None = None,
) -> SceneMergeCounts:
    """Stage ``scenes`` and merge them (see the module docstring). ``use_copy`` needs a sync
    psycopg connection; without it staging uses executemany (async connections in tests)."""
    if not scenes:
        return SceneMergeCounts(0, 0, 0, 0, [])
    conn.execute(text(_SCENE_STAGE_DDL))
    rows = [
        (
            s.title_id,
            s.episode,
            s.ordinal,
            s.start,
            s.end,
            s.description,
            list(s.characters),
            list(s.tags),
            list(s.people),
            s.content_hash,
        )
        for s in scenes
    ]
    copy_rows(conn, "stage_scenes", _SCENE_COLUMNS, rows, use_copy=use_copy)
    if progress:
        progress("stage", len(rows), len(rows))
    deleted = 0
    for number, step in enumerate(_SCENE_STEPS, start=1):
        result = conn.execute(text(step))
        if number == 1:
            deleted = int(result.scalar_one())
        if progress:
            progress("merge", number, len(_SCENE_STEPS))
    inserted, updated = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM stage_scene_changed"
        )
    ).one()
    title_ids = sorted({s.title_id for s in scenes})
    if deleted:
        # Engagement of deleted scenes went with them: the rest of those titles rescore.
        recompute_scores(conn, title_ids)
    return SceneMergeCounts(
        int(inserted), int(updated), len(scenes) - int(inserted) - int(updated), deleted, title_ids
    )


# --- engagement validation and merge -------------------------------------------------------------


@dataclass
class ValidatedEngagement:
    engagement: list[EngagementRecord]
    curves: list[CurveRecord]
    rejected: list[RowError]


def validate_engagement_rows(
    rows: Iterable[RawRow], titles: TitleIndex, scenes: SceneIndex
) -> ValidatedEngagement:
    """Row checks, then duplicates: the first row for a (scene, region) or a (title, episode,
    region) curve wins, later ones are rejected naming the first line."""
    validator = EngagementValidator(titles, scenes)
    batch = ValidatedEngagement([], [], [])
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        if row.data is None:
            batch.rejected.extend(row.errors)
            continue
        result = validator.validate(row.data, row.line)
        if isinstance(result, list):
            batch.rejected.extend(result)
            continue
        key: tuple[Any, ...] = (type(result).__name__, *result.key)
        first = seen.get(key)
        if first is not None:
            region = f" in {result.region}" if result.region else ""
            what = "curve" if isinstance(result, CurveRecord) else "engagement row"
            batch.rejected.append(
                RowError(
                    row.line,
                    "region" if result.region else "external_id",
                    f"duplicate {what}{region}, first on line {first}",
                    result.external_id,
                )
            )
            continue
        seen[key] = row.line
        if isinstance(result, CurveRecord):
            batch.curves.append(result)
        else:
            batch.engagement.append(result)
    return batch


_ENGAGEMENT_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_engagement (
    scene_id bigint, region text, plays bigint, watched_fraction real, rewatch_rate real,
    skip_rate real, exit_rate real
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_curves (
    title_id bigint, episode smallint, region text, resolution_seconds integer, shares real[]
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_engagement_changed (title_id bigint, inserted boolean)
    ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_rescore (title_id bigint PRIMARY KEY) ON COMMIT DROP;
TRUNCATE stage_engagement, stage_curves, stage_engagement_changed, stage_rescore;
"""
_ENGAGEMENT_COLUMNS = ("scene_id", "region", "plays", *RATES)
_CURVE_COLUMNS = ("title_id", "episode", "region", "resolution_seconds", "shares")
_METRICS = "plays, watched_fraction, rewatch_rate, skip_rate, exit_rate"
_SAME_ROW = "e.scene_id = st.scene_id AND coalesce(e.region, '') = coalesce(st.region, '')"
_ENGAGEMENT_STEPS = (
    # Rows that are new or differ from the stored ones, with their titles.
    f"""
    INSERT INTO stage_engagement_changed (title_id, inserted)
    SELECT s.title_id, e.id IS NULL
    FROM stage_engagement st
    JOIN scenes s ON s.id = st.scene_id
    LEFT JOIN scene_engagement e ON {_SAME_ROW}
    WHERE e.id IS NULL
       OR (e.plays, e.watched_fraction, e.rewatch_rate, e.skip_rate, e.exit_rate)
          IS DISTINCT FROM (st.plays, st.watched_fraction, st.rewatch_rate, st.skip_rate,
                            st.exit_rate)
    """,
    "INSERT INTO stage_rescore SELECT DISTINCT title_id FROM stage_engagement_changed",
    # Every row of those titles (the file's over the stored ones) written once, with its score:
    # the score needs all of a title's rows, so it is computed before the write instead of
    # rewriting each row afterwards.
    f"""
    INSERT INTO scene_engagement (scene_id, region, {_METRICS}, score)
    SELECT scene_id, region, {_METRICS}, {score_sql("c")}
    FROM (
        SELECT s.title_id, st.scene_id, st.region, st.plays, st.watched_fraction,
               st.rewatch_rate, st.skip_rate, st.exit_rate
        FROM stage_engagement st
        JOIN scenes s ON s.id = st.scene_id
        JOIN stage_rescore r ON r.title_id = s.title_id
        UNION ALL
        SELECT s.title_id, e.scene_id, e.region, e.plays, e.watched_fraction,
               e.rewatch_rate, e.skip_rate, e.exit_rate
        FROM scene_engagement e
        JOIN scenes s ON s.id = e.scene_id
        JOIN stage_rescore r ON r.title_id = s.title_id
        WHERE NOT EXISTS (SELECT 1 FROM stage_engagement st WHERE {_SAME_ROW})
    ) c
    WINDOW w AS (PARTITION BY c.title_id, c.region)
    ON CONFLICT (scene_id, region) DO UPDATE SET
        plays = excluded.plays, watched_fraction = excluded.watched_fraction,
        rewatch_rate = excluded.rewatch_rate, skip_rate = excluded.skip_rate,
        exit_rate = excluded.exit_rate, score = excluded.score
    WHERE (scene_engagement.plays, scene_engagement.watched_fraction,
           scene_engagement.rewatch_rate, scene_engagement.skip_rate,
           scene_engagement.exit_rate, scene_engagement.score)
          IS DISTINCT FROM (excluded.plays, excluded.watched_fraction, excluded.rewatch_rate,
                            excluded.skip_rate, excluded.exit_rate, excluded.score)
    """,
)
_CURVE_STEP = """
    INSERT INTO retention_curves (title_id, episode, region, resolution_seconds, shares)
    SELECT title_id, episode, region, resolution_seconds, shares FROM stage_curves
    ON CONFLICT (title_id, episode, region) DO UPDATE SET
        resolution_seconds = excluded.resolution_seconds, shares = excluded.shares
    WHERE (retention_curves.resolution_seconds, retention_curves.shares)
          IS DISTINCT FROM (excluded.resolution_seconds, excluded.shares)
    RETURNING (xmax = 0) AS inserted
"""


@dataclass(frozen=True)
class EngagementMergeCounts:
    inserted: int
    updated: int
    unchanged: int
    curves_inserted: int
    curves_updated: int
    curves_unchanged: int
    rescored_titles: int


def merge_engagement(
    conn: Connection,
    engagement: Sequence[EngagementRecord],
    curves: Sequence[CurveRecord] = (),
    *,
    use_copy: bool = True,
    progress: PhaseProgress | None = None,
) -> EngagementMergeCounts:
    if not engagement and not curves:
        return EngagementMergeCounts(0, 0, 0, 0, 0, 0, 0)
    conn.execute(text(_ENGAGEMENT_STAGE_DDL))
    rows = attribute_rows(engagement, _ENGAGEMENT_COLUMNS)
    copy_rows(conn, "stage_engagement", _ENGAGEMENT_COLUMNS, rows, use_copy=use_copy)
    curve_rows = [
        (c.title_id, c.episode, c.region, c.resolution_seconds, list(c.shares)) for c in curves
    ]
    copy_rows(conn, "stage_curves", _CURVE_COLUMNS, curve_rows, use_copy=use_copy)
    if progress:
        progress("stage", len(rows) + len(curve_rows), len(rows) + len(curve_rows))
    total_steps = len(_ENGAGEMENT_STEPS) + 2
    conn.execute(text("ANALYZE stage_engagement"))
    for number, step in enumerate(_ENGAGEMENT_STEPS, start=1):
        conn.execute(text(step))
        if progress:
            progress("merge", number, total_steps)
    curve_flags = [bool(r[0]) for r in conn.execute(text(_CURVE_STEP))] if curve_rows else []
    if progress:
        progress("merge", total_steps - 1, total_steps)
    inserted, updated = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM stage_engagement_changed"
        )
    ).one()
    rescored = int(conn.execute(text("SELECT count(*) FROM stage_rescore")).scalar_one())
    if progress:
        progress("merge", total_steps, total_steps)
    curves_inserted = sum(curve_flags)
    curves_updated = len(curve_flags) - curves_inserted
    return EngagementMergeCounts(
        inserted=int(inserted),
        updated=int(updated),
        unchanged=len(rows) - int(inserted) - int(updated),
        curves_inserted=curves_inserted,
        curves_updated=curves_updated,
        curves_unchanged=len(curve_rows) - len(curve_flags),
        rescored_titles=rescored,
    )


# --- files --------------------------------------------------------------------------------------


def ingest_scenes_file(
    conn: Connection,
    path: Path,
    *,
    fmt: str,
    strict: bool = False,
    rejects_path: Path | None = None,
    embedder: Any = None,
    progress: PhaseProgress | None = None,
) -> SceneIngestSummary:
    """Ingest a scenes file on ``conn`` (the caller owns the transaction and commits). With an
    ``embedder``, new or changed descriptions of the file's titles are embedded in the same
    transaction."""
    started = time.perf_counter()
    summary = SceneIngestSummary(source=str(path))
    rows = read_scene_rows(path, fmt, read_progress(path, progress))

    def validate() -> tuple[list[SceneRecord], list[RowError]]:
        batch = validate_scene_rows(rows, load_title_index(conn))
        return batch.scenes, batch.rejected

    def merge(scenes: Sequence[SceneRecord]) -> None:
        counts = merge_scenes(conn, scenes, progress=progress)
        summary.inserted, summary.updated = counts.inserted, counts.updated
        summary.unchanged, summary.deleted = counts.unchanged, counts.deleted
        if embedder is not None:
            from server.scenes.embed import embed_scenes

            embedded = embed_scenes(conn, embedder, title_ids=counts.title_ids, progress=progress)
            summary.embedded = embedded.embedded

    scenes = validate_then_merge(
        conn, summary, validate, merge, strict=strict, rejects_path=rejects_path
    )
    summary.rows = len(scenes)
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class EngagementIngestSummary(SceneIngestSummary):
    curves_inserted: int = 0
    curves_updated: int = 0
    curves_unchanged: int = 0
    rescored_titles: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.curves_inserted or self.curves_updated)


def ingest_engagement_file(
    conn: Connection,
    path: Path,
    *,
    fmt: str,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: PhaseProgress | None = None,
) -> EngagementIngestSummary:
    started = time.perf_counter()
    summary = EngagementIngestSummary(source=str(path))
    rows = read_engagement_rows(path, fmt, read_progress(path, progress))

    def validate() -> tuple[list[EngagementRecord | CurveRecord], list[RowError]]:
        titles, scenes = load_title_index(conn), load_scene_index(conn)
        batch = validate_engagement_rows(rows, titles, scenes)
        return [*batch.engagement, *batch.curves], batch.rejected

    def merge(records: Sequence[EngagementRecord | CurveRecord]) -> None:
        engagement = [r for r in records if isinstance(r, EngagementRecord)]
        curves = [r for r in records if isinstance(r, CurveRecord)]
        counts = merge_engagement(conn, engagement, curves, progress=progress)
        summary.inserted, summary.updated = counts.inserted, counts.updated
        summary.unchanged = counts.unchanged
        summary.curves_inserted = counts.curves_inserted
        summary.curves_updated = counts.curves_updated
        summary.curves_unchanged = counts.curves_unchanged
        summary.rescored_titles = counts.rescored_titles

    summary.rows = len(
        validate_then_merge(
            conn, summary, validate, merge, strict=strict, rejects_path=rejects_path
        )
    )
    summary.seconds = time.perf_counter() - started
    return summary


def raw_rows(records: Iterable[dict[str, Any]]) -> Iterator[RawRow]:
    """Records from code (the demo generator, tests) as numbered rows."""
    for line, record in enumerate(records, start=1):
        yield RawRow(line, record)


__all__ = [
    "EngagementIngestSummary",
    "InputFileError",
    "SceneIngestSummary",
    "StrictModeError",
    "ingest_engagement_file",
    "ingest_scenes_file",
    "merge_engagement",
    "merge_scenes",
    "validate_engagement_rows",
    "validate_scene_rows",
]
