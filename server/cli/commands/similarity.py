"""``cluster``, ``map`` and ``comparables``: micro-genres, the similarity map and the learned
comparables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from server.cli.console import console, out
from server.cli.progress import PhaseBar, rate_progress_bar
from server.cli.runtime import configure_logging, migrated_engine, settings_or_exit

app = typer.Typer()


@app.command()
def cluster(
    seed: Annotated[int, typer.Option(help="Seed of k-means and the map layout.")] = 20261128,
) -> None:
    """Group embedded titles into labelled micro-genres and lay out the similarity map."""
    from server.similarity.microgenres.clustering import cluster_catalog

    settings = settings_or_exit()
    configure_logging(settings)
    with migrated_engine(settings) as engine:
        with rate_progress_bar("titles") as progress, engine.begin() as conn:
            summary = cluster_catalog(conn, seed=seed, progress=PhaseBar(progress))
    if summary.unembedded:
        console.print(
            f"[yellow]warning[/yellow] {summary.unembedded:,} titles have no embedding and were "
            "left out: run `contentintel embed` first"
        )
    if not summary.titles:
        out.print("no embedded titles: nothing to cluster (run `contentintel embed`)")
        return
    out.print(
        f"{summary.micro_genres:,} micro-genres over {summary.titles:,} titles "
        f"({summary.parents} parent genres, {summary.mean_size:.1f} titles on average); "
        f'largest: "{summary.largest_label}" with {summary.largest_size:,} titles '
        f"({summary.largest_share:.1%}; cap {summary.cap:,}); "
        f"{summary.secondary:,} titles also in a secondary micro-genre"
    )
    out.print(
        f"map positions for {summary.positions:,} titles (layout {summary.layout_seconds:.1f} s); "
        f"done in {summary.seconds:.1f} s"
    )


@app.command("map")
def draw_similarity_map(
    out_path: Annotated[Path, typer.Option("--out", help="PNG file to write.")] = Path("map.png"),
    labels: Annotated[int, typer.Option(help="Name the N largest micro-genres.")] = 40,
) -> None:
    """Draw the similarity map (from `contentintel cluster`) as a PNG, coloured by micro-genre."""
    from server.similarity.mapplot import draw_map, load_map

    settings = settings_or_exit()
    configure_logging(settings)
    with migrated_engine(settings) as engine:
        with engine.connect() as conn:
            data = load_map(conn)
    if not data.points:
        console.print("[red]error:[/red] no map positions: run `contentintel cluster` first")
        raise typer.Exit(1)
    draw_map(data, out_path, labels=labels)
    out.print(f"wrote {out_path} ({len(data.points):,} titles, {len(data.genres):,} micro-genres)")


@app.command()
def comparables(
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Fit on chart weeks strictly before this date, YYYY-MM-DD (default: every week).",
        ),
    ] = None,
) -> None:
    """Fit the learned comparables (content -> audience profile) on the titles with chart
    history, and write every embedded title's comparables vector (`similarTitles(mode:
    COMPARABLES)`)."""
    from datetime import date

    from server.similarity.comparables.service import fit_comparables

    settings = settings_or_exit()
    configure_logging(settings)
    cutoff = None
    if before is not None:
        try:
            cutoff = date.fromisoformat(before)
        except ValueError:
            console.print(f"[red]error:[/red] --before must be a date YYYY-MM-DD, got {before!r}")
            raise typer.Exit(2) from None
    with migrated_engine(settings) as engine, engine.begin() as conn:
        try:
            summary = fit_comparables(conn, before=cutoff)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    out.print(
        f"learned comparables v{summary.version}: fitted on {summary.training_titles:,} titles "
        f"with chart history over {summary.regions} regions; {summary.vectors:,} title vectors "
        f"({summary.observed:,} observed profiles, the rest predicted from content) in "
        f"{summary.seconds:.1f} s"
    )
