"""Catalog ingest: validate, COPY into staging tables, merge into the catalog in one transaction.

The merge is keyed by external id and driven by each record's content hash: a title whose hash
is unchanged is not touched (so re-ingesting a file writes nothing), a changed title has its
row updated and its catalog-sourced tags, credits and countries replaced.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from server.catalog.countries import CountryResolver
from server.catalog.readers import InputFileError, RawRow, read_rows
from server.catalog.records import CanonicalTitle, RecordValidator, RowError, RowWarning
from server.models.catalog import CreditRole

PhaseProgress = Callable[[str, int, int], None]
"""Called with (phase, done, total): phases are ``read`` (bytes), ``stage`` and ``merge`` (rows)."""


@dataclass
class IngestSummary:
    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    written: bool = False
    rejects_file: Path | None = None

    @property
    def accepted(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def rejected_rows(self) -> int:
        return len({e.line for e in self.rejected})

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


class StrictModeError(Exception):
    """``--strict`` and at least one bad row: nothing was written."""

    def __init__(self, summary: IngestSummary) -> None:
        super().__init__(f"{summary.rejected_rows} bad row(s); nothing written (strict mode)")
        self.summary = summary


@dataclass
class ValidatedBatch:
    titles: list[CanonicalTitle]
    rejected: list[RowError]
    warnings: list[RowWarning]


def validate_rows(rows: Iterable[RawRow], validator: RecordValidator) -> ValidatedBatch:
    """Validate raw rows; the first occurrence of an external id wins, later ones are rejected."""
    batch = ValidatedBatch([], [], [])
    first_line: dict[str, int] = {}
    for row in rows:
        batch.warnings.extend(row.warnings)
        if row.data is None:
            batch.rejected.extend(row.errors)
            continue
        result = validator.validate(row.data, row.line)
        batch.warnings.extend(result.warnings)
        if result.title is None:
            batch.rejected.extend(result.errors)
            continue
        ext = result.title.external_id
        if ext in first_line:
            batch.rejected.append(
                RowError(
                    row.line,
                    "external_id",
                    f"duplicate id {ext!r}, first on line {first_line[ext]}",
                    ext,
                )
            )
            continue
        first_line[ext] = row.line
        batch.titles.append(result.title)
    return batch


def ingest_catalog_file(
    conn: Connection,
    path: Path,
    *,
    fmt: str,
    strict: bool = False,
    rejects_path: Path | None = None,
    progress: PhaseProgress | None = None,
) -> IngestSummary:
    """Ingest one file on ``conn``. The caller owns the transaction and commits on success."""
    summary = IngestSummary(source=str(path))
    total_bytes = path.stat().st_size if path.exists() else 0
    on_bytes = (lambda done: progress("read", done, total_bytes)) if progress else None
    rows = read_rows(path, fmt, on_bytes)
    batch = validate_rows(rows, RecordValidator())
    summary.rejected = batch.rejected
    summary.warnings = batch.warnings
    if summary.rejected and rejects_path is not None:
        write_rejects(rejects_path, summary.rejected)
        summary.rejects_file = rejects_path
    if strict and summary.rejected:
        raise StrictModeError(summary)
    counts = merge_titles(conn, batch.titles, use_copy=True, progress=progress)
    summary.inserted, summary.updated, summary.unchanged = counts
    summary.written = summary.changed
    return summary


def write_rejects(path: Path, errors: Sequence[RowError]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "external_id", "field", "reason"])
        for error in errors:
            writer.writerow([error.line, error.external_id or "", error.field, error.reason])


# --- staging and merge -------------------------------------------------------------------------

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
TRUNCATE stage_titles, stage_title_tags, stage_credits, stage_countries, stage_changed;
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

_MERGE_STEPS = (
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
    )
    INSERT INTO stage_changed SELECT id, external_id, inserted FROM up
    """,
    "DELETE FROM title_tags tt USING stage_changed c "
    "WHERE tt.title_id = c.id AND NOT c.inserted AND tt.source = 'catalog'",
    "DELETE FROM credits cr USING stage_changed c WHERE cr.title_id = c.id AND NOT c.inserted",
    "DELETE FROM title_countries tc USING stage_changed c "
    "WHERE tc.title_id = c.id AND NOT c.inserted",
    """
    INSERT INTO tags (kind, name)
    SELECT DISTINCT s.kind, s.name FROM stage_title_tags s JOIN stage_changed c USING (external_id)
    ORDER BY 1, 2
    ON CONFLICT (kind, name) DO NOTHING
    """,
    """
    INSERT INTO title_tags (title_id, tag_id, weight, source)
    SELECT c.id, t.id, s.weight, 'catalog'
    FROM stage_title_tags s
    JOIN stage_changed c USING (external_id)
    JOIN tags t ON t.kind = s.kind AND t.name = s.name
    ON CONFLICT (title_id, tag_id) DO NOTHING
    """,
    """
    INSERT INTO people (name)
    SELECT DISTINCT s.name FROM stage_credits s JOIN stage_changed c USING (external_id)
    ORDER BY 1
    ON CONFLICT (name) DO NOTHING
    """,
    """
    INSERT INTO credits (title_id, role, position, person_id)
    SELECT c.id, s.role, s.position, p.id
    FROM stage_credits s
    JOIN stage_changed c USING (external_id)
    JOIN people p ON p.name = s.name
    """,
    """
    INSERT INTO title_countries (title_id, country_code, position)
    SELECT c.id, s.code, s.position
    FROM stage_countries s JOIN stage_changed c USING (external_id)
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
    which runs on the async connection through ``run_sync``).
    """
    if not titles:
        return 0, 0, 0
    conn.execute(text(_STAGE_DDL))
    rows = _stage_rows(titles)
    _ensure_countries(conn, {code for _, code, _ in rows["stage_countries"]})
    loaded = 0
    total = len(titles)
    for table, table_rows in rows.items():
        if use_copy:
            _copy(conn, table, _STAGE_COLUMNS[table], table_rows)
        else:
            _insert_many(conn, table, _STAGE_COLUMNS[table], table_rows)
        if table == "stage_titles":
            loaded = total
            if progress:
                progress("stage", loaded, total)
    conn.execute(text("ANALYZE stage_titles; ANALYZE stage_title_tags; ANALYZE stage_credits"))
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
            "TRUNCATE stage_titles, stage_title_tags, stage_credits, stage_countries, stage_changed"
        )
    )
    return int(inserted), int(updated), total - int(inserted) - int(updated)


def _stage_rows(titles: Sequence[CanonicalTitle]) -> dict[str, list[tuple[object, ...]]]:
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in _STAGE_COLUMNS}
    for t in titles:
        rows["stage_titles"].append(
            (
                t.external_id,
                t.kind.value,
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
        for tag in t.all_tags():
            rows["stage_title_tags"].append((t.external_id, tag.kind.value, tag.name, tag.weight))
        for role, names in ((CreditRole.CAST, t.cast), (CreditRole.DIRECTOR, t.directors)):
            for position, name in enumerate(names):
                rows["stage_credits"].append((t.external_id, role.value, position, name))
        for position, code in enumerate(t.origin_countries):
            rows["stage_countries"].append((t.external_id, code, position))
    return rows


def _ensure_countries(conn: Connection, codes: set[str]) -> None:
    if not codes:
        return
    resolver = CountryResolver.default()
    conn.execute(
        text("INSERT INTO countries (code, name) VALUES (:code, :name) ON CONFLICT DO NOTHING"),
        [{"code": c, "name": resolver.info(c).name} for c in sorted(codes)],
    )


def _copy(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> None:
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("no driver connection for COPY")
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _insert_many(
    conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> None:
    if not rows:
        return
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    conn.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


__all__ = [
    "IngestSummary",
    "InputFileError",
    "StrictModeError",
    "ingest_catalog_file",
    "merge_titles",
    "validate_rows",
]
