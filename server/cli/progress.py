"""Progress bars of long jobs: one bar per phase, with a rate (bytes/s, rows/s, titles/s)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from server.cli.console import console


class PhaseBar:
    """One rich progress bar per ingest phase: bytes read, rows staged, merge steps."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            label = {
                "read": "reading + validating",
                "stage": "COPY to staging",
                "merge": "merging",
                "embed": "embedding texts",
                "fit": "fitting genre projection",
                "write": "writing vectors",
            }
            self.tasks[phase] = self.progress.add_task(label.get(phase, phase), total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total)


@contextlib.contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


@contextlib.contextmanager
def rate_progress_bar(unit: str) -> Iterator[Progress]:
    """A progress bar showing items per second (``unit``/s) instead of bytes."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield progress


class RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s")
