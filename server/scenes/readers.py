"""Readers for scene and engagement files: CSV with a header, or JSONL (one object per line).

Both yield the catalog's ``RawRow`` (the line a record starts on and a dict, or the errors that
make the row unusable) and report progress in bytes, like the catalog readers. A CSV header with
unknown or missing columns is a file-level ``InputFileError``. Empty CSV cells are absent values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from server.catalog.readers import (
    InputFileError,
    Progress,
    RawRow,
    Source,
    csv_records,
    has_invalid_utf8,
    read_jsonl,
)
from server.catalog.records import RowError

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
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InputFileError(
        f"{path.name}: cannot tell the format from the extension; use .csv or .jsonl"
    )


def read_scene_rows(path: Path, fmt: str, progress: Progress | None = None) -> Iterator[RawRow]:
    data = _read(path)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    if fmt == "csv":
        return read_csv(data, [(SCENE_COLUMNS, SCENE_REQUIRED)], progress)
    raise InputFileError(f"unknown format {fmt!r} (expected csv or jsonl)")


def read_engagement_rows(
    path: Path, fmt: str, progress: Progress | None = None
) -> Iterator[RawRow]:
    """Scene engagement rows or retention curves (a CSV file holds one kind, told by its
    header; a JSONL file may mix both: objects with ``shares`` are curves)."""
    data = _read(path)
    if fmt == "jsonl":
        return read_jsonl(data, progress)
    if fmt == "csv":
        layouts = [(ENGAGEMENT_COLUMNS, ENGAGEMENT_REQUIRED), (CURVE_COLUMNS, CURVE_REQUIRED)]
        return read_csv(data, layouts, progress)
    raise InputFileError(f"unknown format {fmt!r} (expected csv or jsonl)")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None


Layout = tuple[tuple[str, ...], tuple[str, ...]]
"""(allowed columns, required columns)."""


def read_csv(
    source: Source, layouts: list[Layout], progress: Progress | None = None
) -> Iterator[RawRow]:
    check_utf8 = has_invalid_utf8(source)
    header, records = csv_records(source, progress)
    _check_header(header, layouts)
    for record in records:
        start, fields = record.line, record.fields
        if record.error:
            yield RawRow(start, None, [RowError(start, "row", record.error)])
            continue
        if len(fields) != len(header):
            yield RawRow(
                start,
                None,
                [RowError(start, "row", f"expected {len(header)} fields, got {len(fields)}")],
            )
            continue
        if check_utf8 and any(has_invalid_utf8(f) for f in fields):
            yield RawRow(start, None, [RowError(start, "row", "invalid UTF-8")])
            continue
        yield RawRow(start, {k: v for k, v in zip(header, fields, strict=True) if v != ""})


def _check_header(header: list[str], layouts: list[Layout]) -> None:
    problems: list[str] = []
    for allowed, required in layouts:
        missing = [c for c in required if c not in header]
        unexpected = [c for c in header if c not in allowed]
        repeated = sorted({c for c in header if header.count(c) > 1})
        if not (missing or unexpected or repeated):
            return
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(repr(c) for c in unexpected))
        if repeated:
            parts.append("repeated " + ", ".join(repeated))
        problems.append(
            "; ".join(parts) + f" (expected columns {','.join(allowed)}; required "
            f"{','.join(required)})"
        )
    raise InputFileError("line 1: wrong header: " + " / or: ".join(problems))
