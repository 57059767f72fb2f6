"""Readers for catalog files: the public Netflix CSV and the canonical JSONL.

Built on the ingest kit's readers (``server.ingest.readers``): each yields ``RawRow``s, the
physical line a record starts on and either a canonical dict (see ``records``) or the errors
that make the row unusable. A wrong or missing header is a file-level ``InputFileError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from server.ingest.files import detect_format as detect_file_format
from server.ingest.files import read_file, unknown_format
from server.ingest.readers import Progress, Source, header_problems, read_jsonl, read_table
from server.ingest.rows import InputFileError, RawRow, RowError, RowWarning

NETFLIX_COLUMNS = (
    "show_id",
    "type",
    "title",
    "director",
    "cast",
    "country",
    "date_added",
    "release_year",
    "rating",
    "duration",
    "listed_in",
    "description",
)
NETFLIX_TYPES = {"Movie": "MOVIE", "TV Show": "SHOW"}
NETFLIX_FIELD_NAMES = {
    "external_id": "show_id",
    "kind": "type",
    "name": "title",
    "directors": "director",
    "cast": "cast",
    "origin_countries": "country",
    "date_added": "date_added",
    "release_year": "release_year",
    "maturity_rating": "rating",
    "duration_minutes": "duration",
    "seasons": "duration",
    "genres": "listed_in",
    "synopsis": "description",
}
"""Canonical field -> Netflix CSV column, for error reports."""
_MINUTES = re.compile(r"^(\d+)\s*min$", re.IGNORECASE)
_SEASONS = re.compile(r"^(\d+)\s*Seasons?$", re.IGNORECASE)


def detect_format(path: Path) -> str:
    return detect_file_format(
        path,
        csv="netflix-csv",
        advice="use .csv (Netflix catalog columns) or .jsonl (canonical records), or pass --format",
    )


def read_rows(path: Path, fmt: str, progress: Progress | None = None) -> Iterator[RawRow]:
    """Read a file; ``progress`` receives the bytes consumed (the last call: the file size)."""
    data = read_file(path)
    if fmt == "netflix-csv":
        return read_netflix_csv(data, progress)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    raise unknown_format(fmt, "netflix-csv or jsonl")


def read_netflix_csv(source: Source, progress: Progress | None = None) -> Iterator[RawRow]:
    rows = read_table(source, _check_header, _invalid_utf8, progress, id_column="show_id")
    for row in rows:
        yield row if row.data is None else _netflix_row(row.line, row.data)


def _invalid_utf8(line: int, columns: list[str], row: dict[str, str]) -> list[RowError]:
    ext = row["show_id"].strip() or None
    return [RowError(line, column, "invalid UTF-8", ext) for column in columns]


def _check_header(header: list[str]) -> None:
    problems = header_problems(header, NETFLIX_COLUMNS, NETFLIX_COLUMNS)
    if problems:
        raise InputFileError(
            f"line 1: wrong header ({problems}); expected the Netflix catalog "
            "columns: " + ",".join(NETFLIX_COLUMNS)
        )


def _split(value: str) -> list[str]:
    if not value:
        return []
    return [part for part in map(str.strip, value.split(",")) if part]


@lru_cache(maxsize=4096)
def _parse_added(value: str) -> date | None:
    """``September 25, 2021`` -> date; ``None`` if it does not parse (cached: dates repeat)."""
    try:
        return datetime.strptime(value, "%B %d, %Y").date()
    except ValueError:
        return None


def _netflix_row(line: int, row: dict[str, str]) -> RawRow:
    ext = row["show_id"].strip() or None
    errors: list[RowError] = []
    warnings: list[RowWarning] = []

    raw_type = row["type"].strip()
    kind = NETFLIX_TYPES.get(raw_type)
    if kind is None:
        errors.append(
            RowError(line, "type", f"unknown type {raw_type!r} (expected Movie or TV Show)", ext)
        )

    rating = row["rating"].strip()
    duration = row["duration"].strip()
    if not duration and _MINUTES.match(rating):
        # A known defect of the public file: a few rows carry the runtime in the rating column.
        warnings.append(
            RowWarning(line, "rating", f"{rating!r} is a runtime; moved to duration", ext)
        )
        duration, rating = rating, ""

    minutes = seasons = None
    if duration:
        if m := _MINUTES.match(duration):
            minutes = int(m.group(1))
        elif m := _SEASONS.match(duration):
            seasons = int(m.group(1))
        else:
            errors.append(
                RowError(
                    line, "duration", f"bad duration {duration!r} (e.g. 90 min, 2 Seasons)", ext
                )
            )
        if kind == "MOVIE" and seasons is not None:
            errors.append(RowError(line, "duration", f"{duration!r} does not fit a Movie", ext))
        if kind == "SHOW" and minutes is not None:
            errors.append(RowError(line, "duration", f"{duration!r} does not fit a TV Show", ext))

    added: date | None = None
    raw_added = row["date_added"].strip()
    if raw_added:
        added = _parse_added(raw_added)
        if added is None:
            errors.append(
                RowError(
                    line,
                    "date_added",
                    f"bad date {row['date_added']!r} (e.g. September 25, 2021)",
                    ext,
                )
            )
    if errors:
        return RawRow(line, None, errors, warnings)

    data = {
        "external_id": row["show_id"],
        "kind": kind,
        "name": row["title"],
        "synopsis": row["description"] or None,
        "release_year": row["release_year"].strip() or None,
        "date_added": added,
        "maturity_rating": rating or None,
        "duration_minutes": minutes,
        "seasons": seasons,
        "genres": _split(row["listed_in"]),
        "cast": _split(row["cast"]),
        "directors": _split(row["director"]),
        "origin_countries": _split(row["country"]),
    }
    return RawRow(line, data, errors, warnings)
