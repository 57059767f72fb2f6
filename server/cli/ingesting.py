"""What every ``ingest`` command shares: where rejects go, the file format, the expected
failures as messages and exit codes, and the counts table."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from server.cli.console import console, out, print_rejections
from server.config import Settings
from server.ingest.rows import InputFileError
from server.ingest.summary import StrictModeError


def rejects_path_or_exit(path: Path, rejects: Path | None, settings: Settings) -> Path:
    """Exit 2 unless ``path`` is a file; where its rejected rows go (given, or a stamped file
    under DATA_DIR/rejects)."""
    if not path.is_file():
        console.print(f"[red]error:[/red] {path}: no such file")
        raise typer.Exit(2)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return rejects or settings.data_dir / "rejects" / f"{path.stem}-{stamp}.rejects.csv"


def format_or_exit(path: Path, fmt: str, detect: Callable[[Path], str]) -> str:
    """``fmt``, or with ``auto`` the format ``detect`` reads from the file's extension (exit 2
    when it cannot tell)."""
    try:
        return detect(path) if fmt == "auto" else fmt
    except InputFileError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@contextlib.contextmanager
def ingest_errors(path: Path) -> Iterator[None]:
    """An ingest's expected failures as a message and an exit code. Put it outside the
    transaction (``with ingest_errors(path), engine.begin() as conn``): the rollback happens
    first, so "nothing written" is true when it is printed."""
    try:
        yield
    except InputFileError as exc:
        console.print(f"[red]error:[/red] {path.name}: {exc}\nnothing written")
        raise typer.Exit(1) from None
    except StrictModeError as exc:
        print_rejections(exc.summary.rejected)
        console.print(f"[red]strict mode:[/red] {exc}")
        if exc.summary.rejects_file:
            console.print(f"rejected rows written to {exc.summary.rejects_file}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: rolled back, the database is as before[/yellow]")
        raise typer.Exit(130) from None


def print_ingest_counts(summary: Any, elapsed: float, title: str, warnings: int = 50) -> None:
    """Warnings (the first ``warnings``), rejected rows and the counts table of an ingest."""
    for warning in summary.warnings[:warnings]:
        console.print(f"[yellow]warning[/yellow] {warning}")
    if len(summary.warnings) > warnings:
        console.print(f"… and {len(summary.warnings) - warnings} more warnings")
    print_rejections(summary.rejected)
    table = Table(title=title, show_header=True)
    for column in ("inserted", "updated", "unchanged", "rejected", "warnings", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{summary.inserted:,}",
        f"{summary.updated:,}",
        f"{summary.unchanged:,}",
        f"{summary.rejected_rows:,}",
        f"{len(summary.warnings):,}",
        f"{elapsed:.2f}",
    )
    out.print(table)
