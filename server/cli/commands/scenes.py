"""``ingest scenes``, ``ingest engagement``, ``embed-scenes`` and ``curve``: scene-level
engagement."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from server.cli.console import console, out, print_rejections
from server.cli.ingesting import format_or_exit, ingest_errors, rejects_path_or_exit
from server.cli.options import EmbedderOption, RejectsOption, StrictOption
from server.cli.progress import PhaseBar, progress_bar, rate_progress_bar
from server.cli.runtime import (
    configure_logging,
    embedder_or_exit,
    migrated_engine,
    settings_or_exit,
)
from server.config import Settings
from server.scenes.ingest import (
    EngagementIngestSummary,
    SceneIngestSummary,
    ingest_engagement_file,
    ingest_scenes_file,
)
from server.scenes.readers import detect_format

app = typer.Typer()
ingest_app = typer.Typer()


FormatOption = Annotated[str, typer.Option("--format", help="auto (by extension), csv or jsonl.")]


def _prepare(path: Path, fmt: str, rejects: Path | None, settings: Settings) -> tuple[str, Path]:
    rejects_path = rejects_path_or_exit(path, rejects, settings)
    return format_or_exit(path, fmt, detect_format), rejects_path


def _run_ingest(path: Path, settings: Settings, work: object) -> SceneIngestSummary:
    with migrated_engine(settings) as engine:
        with ingest_errors(path), progress_bar() as progress, engine.begin() as conn:
            summary: SceneIngestSummary = work(conn, PhaseBar(progress))  # type: ignore[operator]
    return summary


def _report(summary: SceneIngestSummary, unit: str, extra: dict[str, str]) -> None:
    print_rejections(summary.rejected)
    table = Table(title=f"ingest {Path(summary.source).name}", show_header=True)
    columns = {
        "inserted": f"{summary.inserted:,}",
        "updated": f"{summary.updated:,}",
        "unchanged": f"{summary.unchanged:,}",
        **extra,
        "rejected": f"{summary.rejected_rows:,}",
        "seconds": f"{summary.seconds:.2f}",
    }
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(*columns.values())
    out.print(table)
    rate = summary.rows / max(summary.seconds, 1e-9)
    out.print(f"{summary.rows:,} {unit} in the file accepted ({rate:,.0f} rows/s)")
    if not summary.changed:
        out.print("nothing changed: the database already matches this file")
    if summary.rejects_file:
        out.print(f"rejected rows written to {summary.rejects_file}")


@ingest_app.command("scenes")
def ingest_scenes(
    path: Annotated[Path, typer.Argument(help="Scenes CSV or JSONL file.")],
    fmt: FormatOption = "auto",
    strict: StrictOption = False,
    rejects: RejectsOption = None,
    embed: Annotated[
        bool, typer.Option(help="Embed new or changed descriptions in the same transaction.")
    ] = True,
) -> None:
    """Load scenes: each (title, episode) in the file gets exactly the file's scenes."""

    settings = settings_or_exit()
    configure_logging(settings)
    chosen, rejects_path = _prepare(path, fmt, rejects, settings)
    model = embedder_or_exit(settings) if embed else None
    summary = _run_ingest(
        path,
        settings,
        lambda conn, bar: ingest_scenes_file(
            conn,
            path,
            fmt=chosen,
            strict=strict,
            rejects_path=rejects_path,
            embedder=model,
            progress=bar,
        ),
    )
    _report(
        summary,
        "scenes",
        {"deleted": f"{summary.deleted:,}", "embedded": f"{summary.embedded:,}"},
    )


@ingest_app.command("engagement")
def ingest_engagement(
    path: Annotated[Path, typer.Argument(help="Engagement (and retention curve) CSV or JSONL.")],
    fmt: FormatOption = "auto",
    strict: StrictOption = False,
    rejects: RejectsOption = None,
) -> None:
    """Load scene engagement and retention curves; rescore the titles that changed."""
    settings = settings_or_exit()
    configure_logging(settings)
    chosen, rejects_path = _prepare(path, fmt, rejects, settings)
    summary = _run_ingest(
        path,
        settings,
        lambda conn, bar: ingest_engagement_file(
            conn, path, fmt=chosen, strict=strict, rejects_path=rejects_path, progress=bar
        ),
    )
    assert isinstance(summary, EngagementIngestSummary)
    curves = summary.curves_inserted + summary.curves_updated
    _report(
        summary,
        "rows",
        {
            "curves written": f"{curves:,}",
            "titles rescored": f"{summary.rescored_titles:,}",
        },
    )


@app.command("embed-scenes")
def embed_scenes_command(
    embedder: EmbedderOption = None,
) -> None:
    """Embed scene descriptions that are new or changed (ingest scenes does this by default)."""
    from server.scenes.embed import embed_scenes

    settings = settings_or_exit(**({"embedder": embedder} if embedder else {}))
    configure_logging(settings)
    model = embedder_or_exit(settings)
    with migrated_engine(settings) as engine:
        with rate_progress_bar("scenes") as progress, engine.begin() as conn:
            summary = embed_scenes(conn, model, progress=PhaseBar(progress))
    out.print(
        f"{summary.embedder}: {summary.scenes:,} scenes, {summary.embedded:,} embedded "
        f"in {summary.seconds:.1f} s"
    )


@app.command("curve")
def draw_curve_command(
    title_id: Annotated[int, typer.Argument(help="Internal title id.")],
    out_path: Annotated[Path, typer.Option("--out", help="PNG file to write.")] = Path("curve.png"),
    episode: Annotated[int | None, typer.Option(help="Episode of a show (default: first).")] = None,
    region: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 region.")] = None,
    marks: Annotated[int, typer.Option(help="How many top and worst scenes to mark.")] = 3,
) -> None:
    """Plot a title's retention curve with its top and worst scenes marked."""
    from server.kit.countries import CountryResolver
    from server.scenes.plot import draw_curve, load_curve

    settings = settings_or_exit()
    configure_logging(settings)
    code = None
    if region is not None:
        code = CountryResolver.default().resolve(region)
        if code is None:
            console.print(f"[red]error:[/red] unknown region {region!r}")
            raise typer.Exit(2)
    started = time.perf_counter()
    with migrated_engine(settings) as engine:
        with engine.connect() as conn:
            data = load_curve(conn, title_id, episode, code)
    if data is None:
        console.print(
            f"[red]error:[/red] title {title_id} has no scene engagement"
            + (f" for episode {episode}" if episode else "")
            + (f" in {code}" if code else "")
            + " (or does not exist)"
        )
        raise typer.Exit(1)
    draw_curve(data, out_path, marks=marks)
    out.print(
        f"wrote {out_path} ({data.title}: {len(data.scenes)} scenes, "
        f"{time.perf_counter() - started:.1f} s)"
    )
