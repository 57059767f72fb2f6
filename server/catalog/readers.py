"""Readers for catalog files: the public Netflix CSV and the canonical JSONL.

Each reader yields ``RawRow``s: the physical line a record starts on and either a canonical
dict (see ``records``) or the errors that make the row unusable. Files are decoded as UTF-8
with ``surrogateescape`` so one bad byte rejects its row, not the file, and line numbers stay
exact. A wrong or missing header is a file-level ``InputFileError``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from server.catalog.records import RowError, RowWarning

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
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")

Progress = Callable[[int], None]
"""Called with the number of bytes consumed so far."""


class InputFileError(Exception):
    """The file as a whole cannot be read (wrong header, unknown format, unreadable)."""


@dataclass
class RawRow:
    line: int
    data: dict[str, Any] | None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "netflix-csv"
    raise InputFileError(
        f"{path.name}: cannot tell the format from the extension; use .csv (Netflix catalog "
        "columns) or .jsonl (canonical records), or pass --format"
    )


def read_rows(path: Path, fmt: str, progress: Progress | None = None) -> Iterator[RawRow]:
    """Read a file; ``progress`` receives the bytes consumed (the last call: the file size)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    if fmt == "netflix-csv":
        return read_netflix_csv(data, progress)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    raise InputFileError(f"unknown format {fmt!r} (expected netflix-csv or jsonl)")


Source = str | bytes
"""File contents: bytes (progress counts bytes) or already decoded text (counts characters)."""

_BOM = b"\xef\xbb\xbf"


def text_lines(source: Source, progress: Progress | None) -> Iterator[str]:
    """The lines of ``source``, split on ``\n``, ``\r\n`` (and ``\r`` in text) only.

    Bytes are decoded line by line with ``surrogateescape`` (a UTF-8 sequence never holds a
    newline byte), so an invalid byte marks its own row and line numbers stay exact.
    """
    lines: Iterator[str] | Iterator[bytes]
    if isinstance(source, bytes):
        bom = len(_BOM) if source.startswith(_BOM) else 0
        lines = io.BytesIO(source[bom:])
    else:
        bom = 1 if source.startswith("\ufeff") else 0
        lines = io.StringIO(source[bom:], newline="")
    consumed = bom
    since_report = 0
    for line in lines:
        consumed += len(line)
        since_report += len(line)
        if progress and since_report > 65536:
            progress(consumed)
            since_report = 0
        yield line if isinstance(line, str) else line.decode("utf-8", errors="surrogateescape")
    if progress:
        progress(consumed)


def has_invalid_utf8(source: Source) -> bool:
    if isinstance(source, bytes):
        try:
            source.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    return _INVALID_UTF8.search(source) is not None


@dataclass(frozen=True)
class CsvLine:
    """One record of a CSV file: its first line number and its fields, or why it is unreadable."""

    line: int
    fields: list[str]
    error: str | None = None


def csv_records(
    source: Source, progress: Progress | None = None, **reader_options: Any
) -> tuple[list[str], Iterator[CsvLine]]:
    """The stripped header and the records after it, with exact line numbers (a quoted field
    may span lines); blank lines are skipped, a malformed record is reported and skipped.
    ``reader_options`` go to ``csv.reader`` (delimiter, quoting)."""
    reader = csv.reader(text_lines(source, progress), strict=False, **reader_options)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputFileError("the file is empty: expected a header line") from None
    except csv.Error as exc:
        raise InputFileError(f"line 1: unreadable header ({exc})") from None

    def records() -> Iterator[CsvLine]:
        previous_end = reader.line_num
        while True:
            start = previous_end + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                previous_end = reader.line_num
                yield CsvLine(start, [], f"malformed CSV ({exc})")
                continue
            previous_end = reader.line_num
            if fields and fields != [""]:
                yield CsvLine(start, fields)

    return header, records()


def read_netflix_csv(source: Source, progress: Progress | None = None) -> Iterator[RawRow]:
    # One check of the whole file decides whether rows need the per-field check at all.
    check_utf8 = has_invalid_utf8(source)
    names, records = csv_records(source, progress)
    _check_header(names)
    index = {name: i for i, name in enumerate(names)}
    for record in records:
        start, fields = record.line, record.fields
        if record.error:
            yield RawRow(start, None, [RowError(start, "row", record.error)])
            continue
        if len(fields) != len(names):
            ext = fields[index["show_id"]] if len(fields) > index["show_id"] else None
            yield RawRow(
                start,
                None,
                [RowError(start, "row", f"expected {len(names)} fields, got {len(fields)}", ext)],
            )
            continue
        yield _netflix_row(start, dict(zip(names, fields, strict=True)), check_utf8=check_utf8)


def _check_header(header: list[str]) -> None:
    missing = [c for c in NETFLIX_COLUMNS if c not in header]
    unexpected = [c for c in header if c not in NETFLIX_COLUMNS]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing or unexpected or duplicated:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(repr(c) for c in unexpected))
        if duplicated:
            parts.append("repeated " + ", ".join(duplicated))
        raise InputFileError(
            "line 1: wrong header (" + "; ".join(parts) + "); expected the Netflix catalog "
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


def _netflix_row(line: int, row: dict[str, str], *, check_utf8: bool = True) -> RawRow:
    ext = row["show_id"].strip() or None
    errors: list[RowError] = []
    warnings: list[RowWarning] = []
    if check_utf8:
        for column, value in row.items():
            if _INVALID_UTF8.search(value):
                errors.append(RowError(line, column, "invalid UTF-8", ext))
        if errors:
            return RawRow(line, None, errors)

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


def read_jsonl(source: Source, progress: Progress | None = None) -> Iterator[RawRow]:
    """One JSON object per line; only ``\n``/``\r\n`` end a record (JSON strings may hold
    U+2028 and friends unescaped)."""
    for number, line in enumerate(text_lines(source, progress), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if _INVALID_UTF8.search(stripped):
            yield RawRow(number, None, [RowError(number, "row", "invalid UTF-8")])
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield RawRow(number, None, [RowError(number, "row", f"invalid JSON ({exc.msg})")])
            continue
        if not isinstance(data, dict):
            yield RawRow(number, None, [RowError(number, "row", "expected a JSON object")])
            continue
        yield RawRow(number, data)
