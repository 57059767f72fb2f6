"""The rejects file: every rejected row with its line, id, field and reason, as CSV."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from server.ingest.rows import RowError

REJECTS_COLUMNS = ("line", "external_id", "field", "reason")


def write_rejects(path: Path, errors: Sequence[RowError]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REJECTS_COLUMNS)
        for error in errors:
            writer.writerow([error.line, error.external_id or "", error.field, error.reason])
