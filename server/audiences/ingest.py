"""Regional viewing ingest: validate, COPY into staging, merge, match chart names to catalog
titles, recompute regional scores. One transaction, owned by the caller.

Re-ingesting a file writes nothing new: chart rows are keyed by their chart position (region,
week, kind, rank; or week, category, rank), viewing metrics by (title, kind, region, period
start, metric); a row whose values are unchanged is not touched. Chart names are re-matched
against the whole chart table each time (so titles ingested into the catalog since are picked
up), keeping hand-made matches.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, text

from server.audiences import matching
from server.audiences.readers import (
    CountryChartRow,
    GlobalChartRow,
    ParsedRow,
    ViewingRow,
    read_country_charts,
    read_global_charts,
    read_viewing,
)
from server.audiences.scores import ScoresSummary, persist_scores
from server.ingest.copy import attribute_rows, copy_rows
from server.ingest.files import read_file
from server.ingest.flow import validate_then_merge
from server.ingest.rows import InputFileError, RowError
from server.ingest.summary import PhaseProgress, RowTally

Format = Literal["top10-countries", "top10-global", "viewing"]
FORMATS: tuple[Format, ...] = ("top10-countries", "top10-global", "viewing")
R = TypeVar("R")
Rescore = Callable[[Connection], ScoresSummary]
"""Recomputes what derives from the charts after an ingest changed them, in its transaction."""


@dataclass
class MatchCounts:
    """Distinct chart names of the file by match outcome, and the file's rows they cover."""

    exact: int = 0
    fuzzy: int = 0
    manual: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    rows_matched: int = 0
    rows_total: int = 0

    @property
    def matched(self) -> int:
        return self.exact + self.fuzzy + self.manual

    @property
    def names(self) -> int:
        return self.matched + self.ambiguous + self.unmatched


@dataclass
class ViewingIngestSummary(RowTally):
    fmt: Format
    matches: MatchCounts = field(default_factory=MatchCounts)
    unmatched_examples: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, kind, reason) of a few names left unmatched, most charted first."""
    relinked: int = 0
    """Rows whose catalog title link changed (a title added to the catalog, a manual match)."""
    scores: ScoresSummary | None = None
    """Set when the scores were recomputed (something changed; not for viewing metrics)."""
    seconds: float = 0.0


def known_regions(conn: Connection) -> set[str]:
    return set(conn.execute(text("SELECT code FROM regions")).scalars())


def ingest_viewing_file(
    conn: Connection,
    path: Path,
    fmt: Format,
    *,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: PhaseProgress | None = None,
    rescore: Rescore | None = persist_scores,
) -> ViewingIngestSummary:
    """Ingest one file in ``fmt`` on ``conn`` (the caller commits). Raises ``InputFileError``
    for a file that cannot be read at all and ``StrictModeError`` (nothing written) for bad
    rows in strict mode. When the charts or their links changed, ``rescore`` recomputes what
    derives from them (the scores; ``server.strategy.pipeline.rescore`` adds the content
    strategy); None leaves them as they are."""
    started = time.perf_counter()
    data = read_file(path)
    summary = ingest_viewing_bytes(
        conn,
        data,
        fmt,
        source=str(path),
        strict=strict,
        progress=progress,
        rescore=rescore,
        rejects_path=rejects_path,
    )
    summary.seconds = time.perf_counter() - started
    return summary


def ingest_viewing_bytes(
    conn: Connection,
    data: bytes | str,
    fmt: Format,
    *,
    source: str = "<input>",
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: PhaseProgress | None = None,
    rescore: Rescore | None = persist_scores,
) -> ViewingIngestSummary:
    """``ingest_viewing_file`` for file contents already in memory (tests, the demo)."""
    summary = ViewingIngestSummary(source=source, fmt=fmt)
    total = len(data)
    on_bytes = (lambda done: progress("read", done, total)) if progress else None
    regions = known_regions(conn) if fmt != "top10-global" else set()
    parsed: Iterator[ParsedRow[Any]]
    if fmt == "top10-countries":
        parsed = read_country_charts(data, regions, on_bytes)
    elif fmt == "top10-global":
        parsed = read_global_charts(data, on_bytes)
    elif fmt == "viewing":
        parsed = read_viewing(data, regions, on_bytes)
    else:
        raise InputFileError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")

    def validate() -> tuple[list[Any], list[RowError]]:
        records: list[Any] = _collect(parsed, summary)
        if fmt == "viewing":
            records = _check_external_ids(conn, records, summary)
        return records, summary.rejected

    def merge(records: Sequence[Any]) -> None:
        spec = _SPECS[fmt]
        conn.execute(text(spec.stage_ddl))
        copy_rows(conn, spec.stage, spec.columns, attribute_rows(records, spec.columns))
        if progress:
            progress("stage", len(records), len(records))
        inserted, updated = conn.execute(text(spec.merge)).one()
        summary.inserted, summary.updated = int(inserted or 0), int(updated or 0)
        summary.unchanged = len(records) - summary.inserted - summary.updated
        if progress:
            progress("merge", 1, 3)
        _, relinked = rematch_source(conn, fmt)
        if progress:
            progress("merge", 2, 3)
        summary.matches, summary.unmatched_examples = _file_match_counts(conn, fmt)
        summary.relinked = relinked
        if rescore is not None and (summary.changed or relinked) and fmt != "viewing":
            summary.scores = rescore(conn)
        if progress:
            progress("merge", 3, 3)
        conn.execute(text(f"TRUNCATE {spec.stage}"))

    validate_then_merge(conn, summary, validate, merge, strict=strict, rejects_path=rejects_path)
    return summary


def _collect(rows: Iterable[ParsedRow[R]], summary: ViewingIngestSummary) -> list[R]:
    records: list[R] = []
    for row in rows:
        summary.warnings.extend(row.warnings)
        if row.record is None:
            summary.rejected.extend(row.errors)
        else:
            records.append(row.record)
    return records


def _check_external_ids(
    conn: Connection, records: list[Any], summary: ViewingIngestSummary
) -> list[Any]:
    wanted = sorted({r.external_id for r in records if r.external_id})
    if not wanted:
        return records
    known = set(
        conn.execute(
            text("SELECT external_id FROM titles WHERE external_id = ANY(:ids)"), {"ids": wanted}
        ).scalars()
    )
    kept = []
    for r in records:
        if r.external_id and r.external_id not in known:
            summary.rejected.append(
                RowError(
                    r.line, "external_id", f"no catalog title with external id {r.external_id!r}"
                )
            )
        else:
            kept.append(r)
    summary.rejected.sort(key=lambda e: e.line)
    return kept


# --- staging and merge -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    stage: str
    stage_ddl: str
    record: type[Any]
    """The file's record class: the staging table has a column per field, of the same name
    (``kind``, a ``StrEnum``, stages as its value)."""
    merge: str
    table: str
    names_where: str = "true"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self.record))


_COUNT = "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"

_SPECS: dict[Format, _Spec] = {
    "top10-countries": _Spec(
        stage="stage_country_weeks",
        stage_ddl="""
            CREATE TEMP TABLE IF NOT EXISTS stage_country_weeks (
                line integer, region_code text, week date, kind title_kind, rank smallint,
                show_title text, season_title text, cumulative_weeks smallint
            ) ON COMMIT DROP;
            TRUNCATE stage_country_weeks""",
        record=CountryChartRow,
        merge=f"""
            WITH up AS (
                INSERT INTO top10_country_weeks (region_code, week, kind, rank, show_title,
                                                 season_title, cumulative_weeks)
                SELECT region_code, week, kind, rank, show_title, season_title, cumulative_weeks
                FROM stage_country_weeks
                ON CONFLICT (region_code, week, kind, rank) DO UPDATE SET
                    show_title = excluded.show_title, season_title = excluded.season_title,
                    cumulative_weeks = excluded.cumulative_weeks,
                    title_id = CASE WHEN top10_country_weeks.show_title = excluded.show_title
                                    THEN top10_country_weeks.title_id END
                WHERE (top10_country_weeks.show_title, top10_country_weeks.season_title,
                       top10_country_weeks.cumulative_weeks)
                      IS DISTINCT FROM (excluded.show_title, excluded.season_title,
                                        excluded.cumulative_weeks)
                RETURNING (xmax = 0) AS inserted
            ) {_COUNT}""",
        table="top10_country_weeks",
    ),
    "top10-global": _Spec(
        stage="stage_global_weeks",
        stage_ddl="""
            CREATE TEMP TABLE IF NOT EXISTS stage_global_weeks (
                line integer, week date, category text, kind title_kind, rank smallint,
                show_title text, season_title text, hours_viewed bigint, runtime_hours real,
                views bigint, cumulative_weeks smallint
            ) ON COMMIT DROP;
            TRUNCATE stage_global_weeks""",
        record=GlobalChartRow,
        merge=f"""
            WITH up AS (
                INSERT INTO top10_global_weeks (week, category, rank, kind, show_title,
                                                season_title, hours_viewed, runtime_hours,
                                                views, cumulative_weeks)
                SELECT week, category, rank, kind, show_title, season_title, hours_viewed,
                       runtime_hours, views, cumulative_weeks
                FROM stage_global_weeks
                ON CONFLICT (week, category, rank) DO UPDATE SET
                    kind = excluded.kind, show_title = excluded.show_title,
                    season_title = excluded.season_title,
                    hours_viewed = excluded.hours_viewed,
                    runtime_hours = excluded.runtime_hours, views = excluded.views,
                    cumulative_weeks = excluded.cumulative_weeks,
                    title_id = CASE WHEN top10_global_weeks.show_title = excluded.show_title
                                    THEN top10_global_weeks.title_id END
                WHERE (top10_global_weeks.kind, top10_global_weeks.show_title,
                       top10_global_weeks.season_title, top10_global_weeks.hours_viewed,
                       top10_global_weeks.runtime_hours, top10_global_weeks.views,
                       top10_global_weeks.cumulative_weeks)
                      IS DISTINCT FROM (excluded.kind, excluded.show_title,
                                        excluded.season_title, excluded.hours_viewed,
                                        excluded.runtime_hours, excluded.views,
                                        excluded.cumulative_weeks)
                RETURNING (xmax = 0) AS inserted
            ) {_COUNT}""",
        table="top10_global_weeks",
    ),
    "viewing": _Spec(
        stage="stage_viewing",
        stage_ddl="""
            CREATE TEMP TABLE IF NOT EXISTS stage_viewing (
                line integer, show_title text, kind title_kind, region_code text,
                period_start date, period_end date, metric text, value double precision,
                external_id text
            ) ON COMMIT DROP;
            TRUNCATE stage_viewing""",
        record=ViewingRow,
        merge=f"""
            WITH up AS (
                INSERT INTO viewing_metrics (show_title, kind, region_code, period_start,
                                             period_end, metric, value, external_id, title_id)
                SELECT s.show_title, s.kind, s.region_code, s.period_start, s.period_end,
                       s.metric, s.value, s.external_id, t.id
                FROM stage_viewing s LEFT JOIN titles t ON t.external_id = s.external_id
                ON CONFLICT (show_title, kind, region_code, period_start, metric) DO UPDATE SET
                    period_end = excluded.period_end, value = excluded.value,
                    external_id = excluded.external_id, title_id = excluded.title_id
                WHERE (viewing_metrics.period_end, viewing_metrics.value,
                       viewing_metrics.external_id)
                      IS DISTINCT FROM (excluded.period_end, excluded.value,
                                        excluded.external_id)
                RETURNING (xmax = 0) AS inserted
            ) {_COUNT}""",
        table="viewing_metrics",
        names_where="external_id IS NULL",
    ),
}


def rematch_source(conn: Connection, fmt: Format) -> tuple[list[matching.Match], int]:
    """Re-match every distinct chart name of ``fmt``'s table, refresh ``chart_names`` (hand-made
    matches kept) and the table's ``title_id``s. Returns the matches made and the number of
    rows whose title link changed."""
    spec = _SPECS[fmt]
    counts = {
        (r.show_title, r.kind): int(r.n)
        for r in conn.execute(
            text(
                f"SELECT show_title, kind::text AS kind, count(*) AS n FROM {spec.table} "
                f"WHERE {spec.names_where} GROUP BY 1, 2"
            )
        )
    }
    manual = {
        (r.show_title, r.kind)
        for r in conn.execute(
            text(
                "SELECT show_title, kind::text AS kind FROM chart_names "
                "WHERE source = :s AND method = 'manual'"
            ),
            {"s": fmt},
        )
    }
    matches = matching.match_names(conn, [k for k in counts if k not in manual])
    # Manual matches keep their link; only their row count follows the table.
    conn.execute(
        text(
            "UPDATE chart_names SET chart_rows = c.n, updated_at = now() FROM "
            "(SELECT * FROM unnest(CAST(:s AS text[]), CAST(:k AS text[]), CAST(:n AS int[]))"
            " AS u(show_title, kind, n)) c "
            "WHERE chart_names.source = :src AND chart_names.method = 'manual' "
            "AND chart_names.show_title = c.show_title AND chart_names.kind::text = c.kind "
            "AND chart_names.chart_rows <> c.n"
        ),
        {
            "s": [s for s, _ in counts],
            "k": [k for _, k in counts],
            "n": list(counts.values()),
            "src": fmt,
        },
    )
    # Staged outcomes merged in: unchanged names are not touched (a re-ingest writes nothing).
    conn.execute(
        text(
            "DROP TABLE IF EXISTS pg_temp.stage_chart_names; "
            "CREATE TEMP TABLE stage_chart_names (LIKE chart_names INCLUDING DEFAULTS) "
            "ON COMMIT DROP"
        )
    )
    columns = (
        "source",
        "show_title",
        "kind",
        "title_id",
        "method",
        "similarity",
        "reason",
        "detail",
        "candidates",
        "chart_rows",
    )
    if matches:
        copy_rows(
            conn,
            "stage_chart_names",
            columns,
            [
                (
                    fmt,
                    m.show_title,
                    m.kind,
                    m.title_id,
                    m.method,
                    m.similarity,
                    m.reason,
                    m.detail,
                    _json([c.as_json() for c in m.candidates]),
                    counts[(m.show_title, m.kind)],
                )
                for m in matches
            ],
        )
    conn.execute(
        text(
            "DELETE FROM chart_names n WHERE n.source = :s AND n.method IS DISTINCT FROM 'manual' "
            "AND NOT EXISTS (SELECT 1 FROM stage_chart_names g "
            "WHERE g.show_title = n.show_title AND g.kind = n.kind)"
        ),
        {"s": fmt},
    )
    outcome = columns[3:]
    mine = ", ".join(f"chart_names.{c}" for c in outcome)
    theirs = ", ".join(f"excluded.{c}" for c in outcome)
    conn.execute(
        text(
            f"INSERT INTO chart_names ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM stage_chart_names "
            "ON CONFLICT (source, show_title, kind) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in outcome)
            + ", updated_at = now() WHERE chart_names.method IS DISTINCT FROM 'manual' "
            f"AND ({mine}) IS DISTINCT FROM ({theirs})"
        )
    )
    relinked = conn.execute(
        text(
            f"UPDATE {spec.table} w SET title_id = n.title_id FROM chart_names n "
            "WHERE n.source = :s AND n.show_title = w.show_title AND n.kind = w.kind "
            "AND w.title_id IS DISTINCT FROM n.title_id"
            + (" AND w.external_id IS NULL" if fmt == "viewing" else "")
        ),
        {"s": fmt},
    ).rowcount
    return matches, int(relinked or 0)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _file_match_counts(
    conn: Connection, fmt: Format
) -> tuple[MatchCounts, list[tuple[str, str, str]]]:
    """Match outcome of the names of the file just staged (and the rows they cover)."""
    spec = _SPECS[fmt]
    rows = conn.execute(
        text(
            f"""
            SELECT n.method, n.reason, s.show_title, s.kind::text AS kind, s.rows
            FROM (SELECT show_title, kind, count(*) AS rows FROM {spec.stage}
                  {"WHERE external_id IS NULL" if fmt == "viewing" else ""}
                  GROUP BY 1, 2) s
            LEFT JOIN chart_names n
              ON n.source = :s AND n.show_title = s.show_title AND n.kind = s.kind
            ORDER BY s.rows DESC, s.show_title
            """
        ),
        {"s": fmt},
    ).all()
    counts = MatchCounts()
    examples: list[tuple[str, str, str]] = []
    for r in rows:
        counts.rows_total += int(r.rows)
        if r.method in ("exact", "fuzzy", "manual"):
            setattr(counts, r.method, getattr(counts, r.method) + 1)
            counts.rows_matched += int(r.rows)
        elif r.reason == "ambiguous":
            counts.ambiguous += 1
        else:
            counts.unmatched += 1
            if len(examples) < 10:
                examples.append((r.show_title, r.kind, r.reason or "no_candidate"))
    if fmt == "viewing":
        direct = conn.execute(
            text("SELECT count(*) FROM stage_viewing WHERE external_id IS NOT NULL")
        ).scalar_one()
        counts.rows_total += int(direct)
        counts.rows_matched += int(direct)
    return counts, examples
