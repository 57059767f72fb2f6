"""Readers for scene and engagement files: CSV with a header, or JSONL (one object per line).

Built on the ingest kit's readers: both yield ``RawRow``s (the line a record starts on and a
dict, or the errors that make the row unusable) and report progress in bytes. A CSV header with
unknown or missing columns is a file-level ``InputFileError``. Empty CSV cells are absent values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from server.ingest.files import detect_format as detect_file_format
from server.ingest.files import read_file, unknown_format
from server.ingest.readers import Progress, Source, header_problems, read_jsonl, read_table
from server.ingest.rows import InputFileError, RawRow, RowError

SCENE_COLUMNS = (
    "external_id",
    "episode",
    "ordinal",
    "start",
    "end",
    "description",
    "tags",
    "characters",
    "people",
)
SCENE_REQUIRED = ("external_id", "ordinal", "start", "end")
ENGAGEMENT_COLUMNS = (
    "external_id",
    "episode",
    "ordinal",
    "region",
    "plays",
    "watched_fraction",
    "rewatch_rate",
    "skip_rate",
    "exit_rate",
)
ENGAGEMENT_REQUIRED = (
    "external_id",
    "ordinal",
    "plays",
    "watched_fraction",
    "rewatch_rate",
    "skip_rate",
    "exit_rate",
)
CURVE_COLUMNS = ("external_id", "episode", "region", "resolution_seconds", "shares")
CURVE_REQUIRED = ("external_id", "resolution_seconds", "shares")


def detect_format(path: Path) -> str:
    return detect_file_format(path, csv="csv", advice="use .csv or .jsonl")


def read_scene_rows(path: Path, fmt: str, progress: Progress | None = None) -> Iterator[RawRow]:
    data = read_file(path)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    if fmt == "csv":
        return read_csv(data, [(SCENE_COLUMNS, SCENE_REQUIRED)], progress)
    raise unknown_format(fmt, "csv or jsonl")


def read_engagement_rows(
    path: Path, fmt: str, progress: Progress | None = None
) -> Iterator[RawRow]:
    """Scene engagement rows or retention curves (a CSV file holds one kind, told by its
    header; a JSONL file may mix both: objects with ``shares`` are curves)."""
    data = read_file(path)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    if fmt == "csv":
        layouts = [(ENGAGEMENT_COLUMNS, ENGAGEMENT_REQUIRED), (CURVE_COLUMNS, CURVE_REQUIRED)]
        return read_csv(data, layouts, progress)
    raise unknown_format(fmt, "csv or jsonl")


Layout = tuple[tuple[str, ...], tuple[str, ...]]
"""(allowed columns, required columns)."""


def read_csv(
    source: Source, layouts: list[Layout], progress: Progress | None = None
) -> Iterator[RawRow]:
    return read_table(
        source,
        lambda header: _check_header(header, layouts),
        _invalid_utf8,
        progress,
        skip_empty=True,
    )


def _invalid_utf8(line: int, columns: list[str], row: dict[str, str]) -> list[RowError]:
    return [RowError(line, "row", "invalid UTF-8")]


def _check_header(header: list[str], layouts: list[Layout]) -> None:
    problems: list[str] = []
    for allowed, required in layouts:
        wrong = header_problems(header, allowed, required)
        if wrong is None:
            return
        problems.append(
            wrong + f" (expected columns {','.join(allowed)}; required {','.join(required)})"
        )
    raise InputFileError("line 1: wrong header: " + " / or: ".join(problems))
