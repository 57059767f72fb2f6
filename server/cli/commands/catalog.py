"""``ingest catalog``: titles from the Netflix CSV or canonical JSONL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from server.catalog.ingest import IngestSummary, ingest_catalog_file
from server.catalog.readers import detect_format
from server.cli.console import out
from server.cli.ingesting import (
    format_or_exit,
    ingest_errors,
    print_ingest_counts,
    rejects_path_or_exit,
)
from server.cli.options import RejectsOption, StrictOption
from server.cli.progress import PhaseBar, progress_bar
from server.cli.runtime import configure_logging, migrated_engine, settings_or_exit

app = typer.Typer()
ingest_app = typer.Typer()


@ingest_app.command("catalog")
def ingest_catalog(
    path: Annotated[Path, typer.Argument(help="Netflix catalog CSV or canonical JSONL file.")],
    fmt: Annotated[
        str, typer.Option("--format", help="auto (by extension), netflix-csv or jsonl.")
    ] = "auto",
    strict: StrictOption = False,
    rejects: RejectsOption = None,
) -> None:
    """Load titles from PATH: upsert by external id; bad rows are listed, never half-written."""
    settings = settings_or_exit()
    configure_logging(settings)
    rejects_path = rejects_path_or_exit(path, rejects, settings)
    chosen = format_or_exit(path, fmt, detect_format)
    with migrated_engine(settings) as engine:
        started = time.perf_counter()
        with ingest_errors(path), progress_bar() as progress, engine.begin() as conn:
            summary = ingest_catalog_file(
                conn,
                path,
                fmt=chosen,
                strict=strict,
                rejects_path=rejects_path,
                progress=PhaseBar(progress),
            )
        elapsed = time.perf_counter() - started
    _print_summary(summary, elapsed)


def _print_summary(summary: IngestSummary, elapsed: float) -> None:
    print_ingest_counts(summary, elapsed, f"ingest {Path(summary.source).name}")
    titles = summary.accepted
    out.print(
        f"{titles:,} titles in the file accepted ({titles / max(elapsed, 1e-9):,.0f} titles/s)"
    )
    if not summary.changed:
        out.print("nothing changed: the catalog already matches this file")
    if summary.rejects_file:
        out.print(f"rejected rows written to {summary.rejects_file}")
