"""Record readers: delimited text with a checked header, and JSONL.

Both yield ``RawRow``s with the physical line a record starts on. Files are decoded as UTF-8
with ``surrogateescape`` so one bad byte rejects its row, not the file, and line numbers stay
exact. A wrong or missing header is a file-level ``InputFileError``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from server.ingest.rows import InputFileError, RawRow, RowError

Progress = Callable[[int], None]
"""Called with the number of bytes consumed so far."""

Source = str | bytes
"""File contents: bytes (progress counts bytes) or already decoded text (counts characters)."""

INVALID_UTF8 = re.compile("[\udc80-\udcff]")
"""Undecodable bytes, as ``surrogateescape`` keeps them."""

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
    return INVALID_UTF8.search(source) is not None


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


def header_problems(
    header: Sequence[str], allowed: Sequence[str], required: Sequence[str]
) -> str | None:
    """What is wrong with a header (``missing …; unexpected …; repeated …``), or ``None``."""
    missing = [c for c in required if c not in header]
    unexpected = [c for c in header if c not in allowed]
    repeated = sorted({c for c in header if header.count(c) > 1})
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if unexpected:
        parts.append("unexpected " + ", ".join(repr(c) for c in unexpected))
    if repeated:
        parts.append("repeated " + ", ".join(repeated))
    return "; ".join(parts) if parts else None


Utf8Errors = Callable[[int, list[str], dict[str, str]], list[RowError]]
"""(line, columns holding undecodable bytes, the row's values) -> the row's errors."""


def read_table(
    source: Source,
    check_header: Callable[[list[str]], None],
    utf8_errors: Utf8Errors,
    progress: Progress | None = None,
    *,
    id_column: str | None = None,
    skip_empty: bool = False,
    **reader_options: Any,
) -> Iterator[RawRow]:
    """The rows of a delimited file with a header, as ``{column: text}``.

    ``check_header`` raises ``InputFileError`` for a header it does not accept. A malformed
    record or one with the wrong number of fields is rejected (naming the ``id_column`` value
    when there is one); a row with undecodable bytes gets ``utf8_errors``. ``skip_empty``
    leaves empty cells out (they are absent values). ``reader_options`` go to ``csv.reader``.
    """
    # One check of the whole file decides whether rows need the per-field check at all.
    check_utf8 = has_invalid_utf8(source)
    header, records = csv_records(source, progress, **reader_options)
    check_header(header)
    width = len(header)
    id_at = header.index(id_column) if id_column in header else None
    for record in records:
        start, fields = record.line, record.fields
        if record.error:
            yield RawRow(start, None, [RowError(start, "row", record.error)])
            continue
        if len(fields) != width:
            ext = fields[id_at] if id_at is not None and len(fields) > id_at else None
            error = RowError(start, "row", f"expected {width} fields, got {len(fields)}", ext)
            yield RawRow(start, None, [error])
            continue
        if skip_empty:
            values = {k: v for k, v in zip(header, fields, strict=True) if v != ""}
        else:
            values = dict(zip(header, fields, strict=True))
        if check_utf8:
            bad = [c for c, v in zip(header, fields, strict=True) if INVALID_UTF8.search(v)]
            if bad:
                yield RawRow(start, None, utf8_errors(start, bad, values))
                continue
        yield RawRow(start, values)


def read_jsonl(source: Source, progress: Progress | None = None) -> Iterator[RawRow]:
    """One JSON object per line; only ``\n``/``\r\n`` end a record (JSON strings may hold
    U+2028 and friends unescaped)."""
    for number, line in enumerate(text_lines(source, progress), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if INVALID_UTF8.search(stripped):
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
