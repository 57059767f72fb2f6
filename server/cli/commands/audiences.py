"""``ingest top10-countries``, ``ingest top10-global``, ``ingest viewing``, ``scores`` and
``cohorts``: regional viewing data and what is computed from it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from server.audiences.ingest import Format, ViewingIngestSummary
from server.cli.console import console, out
from server.cli.ingesting import ingest_errors, print_ingest_counts, rejects_path_or_exit
from server.cli.options import RejectsOption, StrictOption
from server.cli.progress import PhaseBar, progress_bar
from server.cli.runtime import configure_logging, migrated_engine, settings_or_exit

app = typer.Typer()
ingest_app = typer.Typer()


def _ingest(path: Path, fmt: Format, strict: bool, rejects: Path | None) -> None:
    from server.audiences.ingest import ingest_viewing_file
    from server.strategy.pipeline import rescore

    settings = settings_or_exit()
    configure_logging(settings)
    rejects_path = rejects_path_or_exit(path, rejects, settings)
    with migrated_engine(settings) as engine:
        started = time.perf_counter()
        with ingest_errors(path), progress_bar() as progress, engine.begin() as conn:
            summary = ingest_viewing_file(
                conn,
                path,
                fmt,
                strict=strict,
                rejects_path=rejects_path,
                progress=PhaseBar(progress),
                rescore=rescore,
            )
        elapsed = time.perf_counter() - started
    _print_summary(summary, elapsed)


def _print_summary(summary: ViewingIngestSummary, elapsed: float) -> None:
    title = f"ingest {Path(summary.source).name} ({summary.fmt})"
    print_ingest_counts(summary, elapsed, title, warnings=20)
    m = summary.matches
    out.print(
        f"{summary.accepted:,} rows accepted ({summary.accepted / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    if m.names:
        out.print(
            f"title matching, {m.names:,} distinct names: {m.matched:,} matched "
            f"({m.exact:,} exact, {m.fuzzy:,} fuzzy, {m.manual:,} manual), "
            f"{m.ambiguous:,} ambiguous, {m.unmatched:,} unmatched; "
            f"{m.rows_matched:,} of {m.rows_total:,} rows linked to a catalog title"
        )
    for name, kind, reason in summary.unmatched_examples[:5]:
        out.print(f"  [dim]unmatched[/dim] {name!r} ({kind}): {reason}")
    if m.ambiguous or m.unmatched:
        out.print("  (all in table chart_names; set title_id and method='manual' to resolve)")
    if summary.scores:
        s = summary.scores
        out.print(
            f"scores: {s.regional:,} title x region rows ({s.titles:,} titles, {s.regions} "
            f"regions), {s.global_titles:,} titles with global figures"
        )
    if not summary.changed and not summary.relinked and summary.accepted:
        out.print("nothing changed: the database already matches this file (scores kept)")
    if summary.rejects_file:
        out.print(f"rejected rows written to {summary.rejects_file}")


@ingest_app.command("top10-countries")
def ingest_top10_countries(
    path: Annotated[Path, typer.Argument(help="Netflix all-weeks-countries.tsv.")],
    strict: StrictOption = False,
    rejects: RejectsOption = None,
) -> None:
    """Load weekly Top 10 charts per country; match names to titles; recompute scores."""
    _ingest(path, "top10-countries", strict, rejects)


@ingest_app.command("top10-global")
def ingest_top10_global(
    path: Annotated[Path, typer.Argument(help="Netflix all-weeks-global.tsv.")],
    strict: StrictOption = False,
    rejects: RejectsOption = None,
) -> None:
    """Load the weekly global Top 10 (hours, views); match names; recompute scores."""
    _ingest(path, "top10-global", strict, rejects)


@ingest_app.command("viewing")
def ingest_viewing(
    path: Annotated[Path, typer.Argument(help="Generic viewing-metric CSV (see README).")],
    strict: StrictOption = False,
    rejects: RejectsOption = None,
) -> None:
    """Load any viewing metric per title x region x period (hours, views, completion_rate)."""
    _ingest(path, "viewing", strict, rejects)


@app.command()
def scores() -> None:
    """Recompute regional and global scores of catalog titles from the stored charts."""
    from server.strategy.pipeline import rescore

    settings = settings_or_exit()
    configure_logging(settings)
    with migrated_engine(settings) as engine:
        with engine.begin() as conn:
            s = rescore(conn)
    out.print(
        f"scores: {s.regional:,} title x region rows ({s.titles:,} titles, {s.regions} regions), "
        f"{s.global_titles:,} titles with global figures, in {s.seconds:.2f} s"
    )


@app.command()
def cohorts(
    k: Annotated[
        int | None, typer.Option("--k", help="Number of cohorts (default: best silhouette, 5..8).")
    ] = None,
) -> None:
    """Recompute country taste profiles and cluster regions into labelled audience cohorts."""
    from server.audiences.profiles import compute_cohorts

    settings = settings_or_exit()
    configure_logging(settings)
    if k is not None and k < 1:
        console.print("[red]error:[/red] --k must be at least 1")
        raise typer.Exit(2)
    with migrated_engine(settings) as engine:
        with engine.begin() as conn:
            summary = compute_cohorts(conn, k)
    p = summary.profiles
    out.print(
        f"taste profiles: {p.regions} regions ({p.tastes} taste vectors"
        + (f", {p.embedder}" if p.embedder else ", no embeddings: run `contentintel embed`")
        + f"), {p.genres:,} region x genre and {p.micro_genres:,} region x micro-genre rows"
    )
    if not summary.cohorts:
        out.print("no chart data: nothing to cluster (run `contentintel ingest top10-countries`)")
        return
    subs = sum(len(c.children) for c in summary.cohorts)
    out.print(
        f"{summary.k} cohorts"
        + (f" (silhouette {summary.silhouette:.3f})" if summary.silhouette is not None else "")
        + f", {subs} sub-cohorts"
        + (
            f" (silhouette of the finest level {summary.leaf_silhouette:.3f})"
            if summary.leaf_silhouette is not None
            else ""
        )
        + f" in {summary.seconds:.1f} s:"
    )
    for number, cohort in enumerate(summary.cohorts, start=1):
        codes = " ".join(code for code, _ in cohort.members)
        split = (
            f" · {len(cohort.children)} sub-cohorts, silhouette {cohort.silhouette:.3f}"
            if cohort.children and cohort.silhouette is not None
            else ""
        )
        out.print(
            f"  {number}. [bold]{cohort.label}[/bold] ({len(cohort.members)}){split}\n     {codes}"
        )
        for sub, child in enumerate(cohort.children, start=1):
            out.print(
                f"     {number}.{sub} {child.label} ({len(child.members)}): "
                + " ".join(code for code, _ in child.members)
            )
