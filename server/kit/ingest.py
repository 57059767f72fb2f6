"""What every file ingest (catalog, charts, viewing metrics, scenes, engagement) shares."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar


class RejectingSummary(Protocol):
    @property
    def rejected_rows(self) -> int: ...

    @property
    def rejected(self) -> Sequence[Any]: ...

    @property
    def rejects_file(self) -> Path | None: ...


S = TypeVar("S", bound=RejectingSummary)


class StrictModeError(Exception, Generic[S]):
    """``--strict`` and at least one bad row: nothing was written."""

    def __init__(self, summary: S) -> None:
        super().__init__(f"{summary.rejected_rows} bad row(s); nothing written (strict mode)")
        self.summary = summary
