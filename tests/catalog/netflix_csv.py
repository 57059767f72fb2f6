"""Builders for Netflix-catalog CSV test input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from server.catalog.readers import NETFLIX_COLUMNS

HEADER = ",".join(NETFLIX_COLUMNS)


def netflix_row(**values: str) -> dict[str, str]:
    """A valid row as a column -> value dict; any column can be overridden."""
    row = {
        "show_id": "s1",
        "type": "Movie",
        "title": "A Title",
        "director": "Jo Kim",
        "cast": "Ana Rivera, Tom Baker",
        "country": "United States",
        "date_added": "September 25, 2021",
        "release_year": "2020",
        "rating": "PG-13",
        "duration": "90 min",
        "listed_in": "Dramas, Thrillers",
        "description": "A description.",
    }
    row.update(values)
    return row


def csv_record(row: dict[str, str]) -> str:
    """One CSV record (quoted as needed; may span several physical lines), no line ending."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([row[c] for c in NETFLIX_COLUMNS])
    return out.getvalue().removesuffix("\n")


def csv_line(**values: str) -> str:
    return csv_record(netflix_row(**values))


def write_csv(path: Path, records: list[str | dict[str, str]], *, header: str = HEADER) -> Path:
    """Write a Netflix CSV; a ``str`` record is written verbatim. ``@XFF@`` becomes byte 0xFF."""
    lines = [header] + [r if isinstance(r, str) else csv_record(r) for r in records]
    data = ("\n".join(lines) + "\n").encode("utf-8").replace(b"@XFF@", b"\xff")
    path.write_bytes(data)
    return path
