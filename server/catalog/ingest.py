"""Catalog ingest: validate, COPY into staging tables, merge into the catalog in one transaction.

The merge is keyed by external id and driven by each record's content hash: a title whose hash
is unchanged is not touched (so re-ingesting a file writes nothing), a changed title has its
row updated and its catalog-sourced tags, credits and countries replaced.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
from sqlalchemy import Connection, text

from server.catalog.readers import NETFLIX_FIELD_NAMES, read_rows
from server.catalog.records import CanonicalTitle, RecordValidator
from server.ingest.copy import copy_rows
from server.ingest.flow import read_progress, settle_rejections, tune_for_ingest, without_gc
from server.ingest.rows import InputFileError, RawRow, RowError, RowWarning
from server.ingest.summary import PhaseProgress, RowTally, StrictModeError
from server.kit.countries import CountryResolver
from server.models.catalog import CreditRole, TagKind, TitleKind


@dataclass
class IngestSummary(RowTally):
    written: bool = False


@dataclass
class ValidatedBatch:
    titles: list[CanonicalTitle]
    rejected: list[RowError]
    warnings: list[RowWarning]


def validate_rows(rows: Iterable[RawRow], validator: RecordValidator) -> ValidatedBatch:
    """Validate raw rows; the first occurrence of an external id wins, later ones are rejected."""
    batch = ValidatedBatch([], [], [])
    for _ in _accepted_titles(rows, validator, batch):
        pass
    return batch


def _accepted_titles(
    rows: Iterable[RawRow],
    validator: RecordValidator,
    batch: ValidatedBatch,
    field_names: Mapping[str, str] | None = None,
) -> Iterator[CanonicalTitle]:
    """``validate_rows`` one row at a time: fills ``batch`` and yields each accepted title.

    ``field_names`` renames canonical fields in errors and warnings to the file's own column
    names (``name`` -> ``title`` for the Netflix CSV), so reports point at what the user sees.
    """
    rename = field_names or {}
    first_line: dict[str, int] = {}
    for row in rows:
        batch.warnings.extend(row.warnings)
        if row.data is None:
            batch.rejected.extend(row.errors)
            continue
        result = validator.validate(row.data, row.line)
        batch.warnings.extend(
            replace(w, field=rename.get(w.field, w.field)) for w in result.warnings
        )
        if result.title is None:
            batch.rejected.extend(
                replace(e, field=rename.get(e.field, e.field)) for e in result.errors
            )
            continue
        ext = result.title.external_id
        if ext in first_line:
            batch.rejected.append(
                RowError(
                    row.line,
                    rename.get("external_id", "external_id"),
                    f"duplicate id {ext!r}, first on line {first_line[ext]}",
                    ext,
                )
            )
            continue
        first_line[ext] = row.line
        batch.titles.append(result.title)
        yield result.title


def ingest_catalog_file(
    conn: Connection,
    path: Path,
    *,
    fmt: str,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: PhaseProgress | None = None,
) -> IngestSummary:
    """Ingest one file on ``conn``. The caller owns the transaction and commits on success.

    When there is something to merge, the transaction gets the ingest kit's settings (``SET LOCAL``:
    asynchronous commit, more ``work_mem``) until it ends.

    Without ``strict`` the merge overlaps validation: every ``_CHUNK_TITLES`` accepted titles
    are staged and their merge is sent in pipeline mode, so the server works on it while the
    next rows are validated. The result is the same as validating everything first: titles
    are merged in file order, and what needs the whole batch (the ids of new tags and people,
    assigned in sorted order) is merged once validation is done. In strict mode nothing may be
    written before every row has been checked, so it validates first.
    """
    summary = IngestSummary(source=str(path))
    rows = read_rows(path, fmt, read_progress(path, progress))
    names = NETFLIX_FIELD_NAMES if fmt == "netflix-csv" else None
    batch = ValidatedBatch([], [], [])

    def validated() -> None:
        summary.warnings = batch.warnings
        settle_rejections(summary, batch.rejected, strict=strict, rejects_path=rejects_path)

    if strict:
        with without_gc():
            for _ in _accepted_titles(rows, RecordValidator(), batch, names):
                pass
        validated()
        if batch.titles:
            tune_for_ingest(conn)
        counts = merge_titles(conn, batch.titles, use_copy=True, progress=progress)
    else:
        titles = _accepted_titles(rows, RecordValidator(), batch, names)
        counts = _merge_while_validating(conn, titles, validated, progress)
    summary.inserted, summary.updated, summary.unchanged = counts
    summary.written = summary.changed
    if summary.inserted + summary.updated >= ANALYZE_AFTER_TITLES:
        conn.execute(text(f"ANALYZE {', '.join(CATALOG_TABLES)}"))
    return summary


ANALYZE_AFTER_TITLES = 1000
"""An ingest that writes this many titles refreshes the catalog tables' planner statistics
before it commits (about 0.2 s on the real catalog). Until autovacuum's next pass the planner
would go on estimating the tables at their old size, and plans cached from before (prepared
statements of long-lived connections) would keep the join order chosen for a near-empty
catalog: a credits-by-title query cached that way ran for minutes on the real one. ANALYZE
invalidates those plans. Inside the ingest's transaction it counts the rows it wrote."""
CATALOG_TABLES = (
    "titles", "tags", "title_tags", "people", "credits", "countries", "title_countries",
)  # fmt: skip


# --- staging and merge -------------------------------------------------------------------------

_CHUNK_TITLES = 1000
"""Titles staged and merged per round while the rest of the file is being validated."""

# Per round: ``stage_*`` hold the chunk being merged (emptied after each round); the
# ``merge_*`` tables collect, keyed by title id, the links of every changed title for the
# steps that need the whole batch; ``stage_changed`` lists every changed title.
_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_titles (
    external_id text PRIMARY KEY, kind title_kind, name text, synopsis text,
    release_year smallint, date_added date, maturity_rating text, duration_minutes smallint,
    seasons smallint, original_language text, content_hash text
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_title_tags (
    external_id text, kind tag_kind, name text, weight real
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_credits (
    external_id text, role credit_role, position smallint, name text
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_countries (
    external_id text, code text, position smallint
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_changed (
    id bigint, external_id text, inserted boolean
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS stage_chunk_changed (
    id bigint, external_id text, inserted boolean
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS merge_title_tags (
    title_id bigint, kind tag_kind, name text, weight real, new_title boolean
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS merge_credits (
    title_id bigint, role credit_role, position smallint, name text
) ON COMMIT DROP;
TRUNCATE stage_titles, stage_title_tags, stage_credits, stage_countries, stage_changed,
    stage_chunk_changed, merge_title_tags, merge_credits;
"""

_STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "stage_titles": (
        "external_id",
        "kind",
        "name",
        "synopsis",
        "release_year",
        "date_added",
        "maturity_rating",
        "duration_minutes",
        "seasons",
        "original_language",
        "content_hash",
    ),
    "stage_title_tags": ("external_id", "kind", "name", "weight"),
    "stage_credits": ("external_id", "role", "position", "name"),
    "stage_countries": ("external_id", "code", "position"),
}

# One round, for the staged chunk.
_CHUNK_STEPS = (
    # Titles: insert new ones, update those whose content hash changed, leave the rest alone.
    """
    WITH up AS (
        INSERT INTO titles (external_id, kind, name, synopsis, release_year, date_added,
                            maturity_rating, duration_minutes, seasons, original_language,
                            content_hash)
        SELECT external_id, kind, name, synopsis, release_year, date_added, maturity_rating,
               duration_minutes, seasons, original_language, content_hash
        FROM stage_titles
        ON CONFLICT (external_id) DO UPDATE SET
            kind = excluded.kind, name = excluded.name, synopsis = excluded.synopsis,
            release_year = excluded.release_year, date_added = excluded.date_added,
            maturity_rating = excluded.maturity_rating,
            duration_minutes = excluded.duration_minutes, seasons = excluded.seasons,
            original_language = excluded.original_language,
            content_hash = excluded.content_hash, updated_at = now()
        WHERE titles.content_hash IS DISTINCT FROM excluded.content_hash
        RETURNING id, external_id, (xmax = 0) AS inserted
    ), chunk AS (
        INSERT INTO stage_chunk_changed SELECT id, external_id, inserted FROM up
    )
    INSERT INTO stage_changed SELECT id, external_id, inserted FROM up
    """,
    "DELETE FROM title_countries tc USING stage_chunk_changed c "
    "WHERE tc.title_id = c.id AND NOT c.inserted",
    """
    INSERT INTO title_countries (title_id, country_code, position)
    SELECT c.id, s.code, s.position
    FROM stage_countries s JOIN stage_chunk_changed c USING (external_id)
    """,
    """
    INSERT INTO merge_title_tags (title_id, kind, name, weight, new_title)
    SELECT c.id, s.kind, s.name, s.weight, c.inserted
    FROM stage_title_tags s JOIN stage_chunk_changed c USING (external_id)
    """,
    """
    INSERT INTO merge_credits (title_id, role, position, name)
    SELECT c.id, s.role, s.position, s.name
    FROM stage_credits s JOIN stage_chunk_changed c USING (external_id)
    """,
    "TRUNCATE stage_titles, stage_title_tags, stage_credits, stage_countries, stage_chunk_changed",
)

# Once every chunk is in: what needs the whole batch (new tags and people get their ids in
# sorted order, as if the batch had been merged in one go).
_MERGE_STEPS = (
    "DELETE FROM title_tags tt USING stage_changed c "
    "WHERE tt.title_id = c.id AND NOT c.inserted AND tt.source = 'catalog'",
    "DELETE FROM credits cr USING stage_changed c WHERE cr.title_id = c.id AND NOT c.inserted",
    """
    INSERT INTO tags (kind, name)
    SELECT DISTINCT kind, name FROM merge_title_tags
    ORDER BY 1, 2
    ON CONFLICT (kind, name) DO NOTHING
    """,
    # A new title has no tags yet, so they cannot conflict: a plain insert.
    """
    INSERT INTO title_tags (title_id, tag_id, weight, source)
    SELECT s.title_id, t.id, s.weight, 'catalog'
    FROM merge_title_tags s JOIN tags t ON t.kind = s.kind AND t.name = s.name
    WHERE s.new_title
    """,
    # An updated title keeps its manual and model tags; the catalog does not override them.
    """
    INSERT INTO title_tags (title_id, tag_id, weight, source)
    SELECT s.title_id, t.id, s.weight, 'catalog'
    FROM merge_title_tags s JOIN tags t ON t.kind = s.kind AND t.name = s.name
    WHERE NOT s.new_title
    ON CONFLICT (title_id, tag_id) DO NOTHING
    """,
    """
    INSERT INTO people (name)
    SELECT DISTINCT name FROM merge_credits
    ORDER BY 1
    ON CONFLICT (name) DO NOTHING
    """,
    """
    INSERT INTO credits (title_id, role, position, person_id)
    SELECT s.title_id, s.role, s.position, p.id
    FROM merge_credits s JOIN people p ON p.name = s.name
    """,
)


def merge_titles(
    conn: Connection,
    titles: Sequence[CanonicalTitle],
    *,
    use_copy: bool,
    progress: PhaseProgress | None = None,
) -> tuple[int, int, int]:
    """Stage ``titles`` and merge them; returns (inserted, updated, unchanged).

    ``use_copy`` loads the staging tables with COPY (needs a synchronous psycopg connection);
    without it they are loaded with one executemany per table (the GraphQL mutation path,
    which runs on the async connection through ``run_sync``). Titles are staged and merged
    ``_CHUNK_TITLES`` at a time, which gives the same result as one batch.
    """
    if not titles:
        return 0, 0, 0
    merge = _Merge(conn, use_copy=use_copy, pipelined=use_copy)
    try:
        for start in range(0, len(titles), _CHUNK_TITLES):
            merge.add(titles[start : start + _CHUNK_TITLES])
        return merge.finish(progress)
    except BaseException:
        merge.abandon()
        raise


def _merge_while_validating(
    conn: Connection,
    titles: Iterator[CanonicalTitle],
    validated: Callable[[], None],
    progress: PhaseProgress | None,
) -> tuple[int, int, int]:
    """Merge ``titles`` (COPY path) while they are still being validated; see
    ``ingest_catalog_file``. ``validated`` runs once every title has been pulled."""
    merge: _Merge | None = None
    try:
        chunk: list[CanonicalTitle] = []
        for title in titles:
            chunk.append(title)
            if len(chunk) == _CHUNK_TITLES:
                if merge is None:
                    tune_for_ingest(conn)
                    merge = _Merge(conn, use_copy=True, pipelined=True)
                merge.add(chunk)
                chunk = []
        validated()
        if merge is None:
            if not chunk:
                return 0, 0, 0
            tune_for_ingest(conn)
            merge = _Merge(conn, use_copy=True, pipelined=True)
        if chunk:
            merge.add(chunk)
        return merge.finish(progress)
    except BaseException:
        if merge is not None:
            merge.abandon()
        raise


class _Merge:
    """One merge on ``conn``. ``add`` stages a chunk of titles and merges it into ``titles``
    and ``title_countries``; ``finish`` merges the tags and credits of all chunks.

    ``pipelined`` (COPY path only) sends a chunk's merge statements in psycopg pipeline mode
    and returns without waiting for them: the server works on them while the caller validates
    the next rows. The next ``add`` or ``finish`` waits for them first (any error surfaces
    there); nothing else may use the connection in between.
    """

    def __init__(self, conn: Connection, *, use_copy: bool, pipelined: bool) -> None:
        self.conn = conn
        self.use_copy = use_copy
        # Pipeline mode needs a sync psycopg connection (the COPY path) on libpq 14 or later.
        self.pipelined = pipelined and use_copy and psycopg.Pipeline.is_supported()
        self.staged = 0
        self.countries: set[str] = set()
        self._running: AbstractContextManager[object] | None = None
        conn.execute(text(_STAGE_DDL))

    def add(self, titles: Sequence[CanonicalTitle]) -> None:
        self._wait()
        rows = _stage_rows(titles)
        codes = {code for t in titles for code in t.origin_countries} - self.countries
        _ensure_countries(self.conn, codes)
        self.countries |= codes
        for table, table_rows in rows.items():
            copy_rows(self.conn, table, _STAGE_COLUMNS[table], table_rows, use_copy=self.use_copy)
        self.staged += len(titles)
        if not self.pipelined:
            for step in _CHUNK_STEPS:
                self.conn.execute(text(step))
            return
        raw = self.conn.connection.driver_connection
        if raw is None:
            raise RuntimeError("no driver connection for pipeline mode")
        pipeline = raw.pipeline()
        pipeline.__enter__()
        self._running = pipeline
        try:
            with raw.cursor() as cursor:
                for step in _CHUNK_STEPS:
                    cursor.execute(step)
        except BaseException:
            self.abandon()
            raise

    def finish(self, progress: PhaseProgress | None) -> tuple[int, int, int]:
        self._wait()
        conn = self.conn
        if progress:
            progress("stage", self.staged, self.staged)
        for number, step in enumerate(_MERGE_STEPS, start=1):
            conn.execute(text(step))
            if progress:
                progress("merge", number, len(_MERGE_STEPS))
        inserted, updated = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
                "FROM stage_changed"
            )
        ).one()
        conn.execute(
            text(
                "TRUNCATE stage_titles, stage_title_tags, stage_credits, stage_countries, "
                "stage_changed, stage_chunk_changed, merge_title_tags, merge_credits"
            )
        )
        return int(inserted), int(updated), self.staged - int(inserted) - int(updated)

    def _wait(self) -> None:
        """Wait for the statements sent by the last ``add``; raises their error, if any."""
        running, self._running = self._running, None
        if running is not None:
            running.__exit__(None, None, None)

    def abandon(self) -> None:
        """Leave pipeline mode after an error elsewhere, keeping that error the one raised."""
        running, self._running = self._running, None
        if running is not None:
            with contextlib.suppress(Exception):
                running.__exit__(*sys.exc_info())


_KIND = {kind: kind.value for kind in TitleKind}
_TAG_KIND = {kind: kind.value for kind in TagKind}
_CAST, _DIRECTOR = CreditRole.CAST.value, CreditRole.DIRECTOR.value


def _stage_rows(titles: Sequence[CanonicalTitle]) -> dict[str, list[tuple[object, ...]]]:
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in _STAGE_COLUMNS}
    title_rows = rows["stage_titles"]
    tags = rows["stage_title_tags"]
    credits = rows["stage_credits"]
    countries = rows["stage_countries"]
    for t in titles:
        ext = t.external_id
        title_rows.append(
            (
                ext,
                _KIND[t.kind],
                t.name,
                t.synopsis,
                t.release_year,
                t.date_added,
                t.maturity_rating,
                t.duration_minutes,
                t.seasons,
                t.original_language,
                t.content_hash,
            )
        )
        tags.extend((ext, _TAG_KIND[tag.kind], tag.name, tag.weight) for tag in t.all_tags())
        credits.extend((ext, _CAST, position, name) for position, name in enumerate(t.cast))
        credits.extend(
            (ext, _DIRECTOR, position, name) for position, name in enumerate(t.directors)
        )
        countries.extend((ext, code, position) for position, code in enumerate(t.origin_countries))
    return rows


def _ensure_countries(conn: Connection, codes: set[str]) -> None:
    if not codes:
        return
    resolver = CountryResolver.default()
    conn.execute(
        text("INSERT INTO countries (code, name) VALUES (:code, :name) ON CONFLICT DO NOTHING"),
        [{"code": c, "name": resolver.info(c).name} for c in sorted(codes)],
    )


__all__ = [
    "IngestSummary",
    "InputFileError",
    "StrictModeError",
    "ingest_catalog_file",
    "merge_titles",
    "validate_rows",
]
