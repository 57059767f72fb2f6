"""Counts every ingest summary derives the same way, and the strict-mode failure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from server.ingest.rows import RowError, RowWarning

PhaseProgress = Callable[[str, int, int], None]
"""Called with (phase, done, total): ``read`` (bytes), ``stage`` (rows), ``merge`` (steps), and
whatever a feature adds (``embed``)."""


class RejectingSummary(Protocol):
    @property
    def rejected_rows(self) -> int: ...

    @property
    def rejected(self) -> Sequence[Any]: ...

    @property
    def rejects_file(self) -> Path | None: ...


S = TypeVar("S", bound=RejectingSummary)


@dataclass(kw_only=True)
class RowTally:
    """What every ingest summary counts, and the counts derived from it the same way (the
    base of the features' summary dataclasses)."""

    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    """Row errors; one row can have several."""
    warnings: list[RowWarning] = field(default_factory=list)
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


class StrictModeError(Exception, Generic[S]):
    """``--strict`` and at least one bad row: nothing was written."""

    def __init__(self, summary: S) -> None:
        super().__init__(f"{summary.rejected_rows} bad row(s); nothing written (strict mode)")
        self.summary = summary
