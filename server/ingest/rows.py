"""What one input row becomes on its way in: a raw record, or the errors that reject it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class InputFileError(Exception):
    """The file as a whole cannot be read (wrong header, unknown format, unreadable)."""


@dataclass(frozen=True)
class RowNote:
    """Something said about one input row: its line, the field concerned and the text."""

    line: int
    field: str
    text: str
    external_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.external_id})" if self.external_id else "")
        return f"{where}: {self.field}: {self.text}"


class RowError(RowNote):
    """Why one input row was rejected: its line, the field at fault and the reason."""

    @property
    def reason(self) -> str:
        return self.text


class RowWarning(RowNote):
    """Something accepted but worth a look (an unknown country name, a repaired field)."""

    @property
    def message(self) -> str:
        return self.text


@dataclass
class RawRow:
    """The physical line a record starts on and either its fields (a dict: strings from a CSV
    file, JSON values from JSONL) or the errors that make it unusable."""

    line: int
    data: dict[str, Any] | None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
