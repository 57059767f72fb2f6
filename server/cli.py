"""The ``contentintel`` command line: serve, demo, db …, ingest …"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
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
from rich.table import Table
from rich.text import Text

from server.catalog.ingest import (
    IngestSummary,
    InputFileError,
    StrictModeError,
    ingest_catalog_file,
)
from server.catalog.readers import detect_format
from server.catalog.records import RowError
from server.config import ENV_PREFIX, Settings, SettingsError, load_settings
from server.db import migrations
from server.db.engine import DatabaseTarget, make_engine, open_database

app = typer.Typer(
    help="contentintel: content-intelligence backend (GraphQL API, catalog, ingest, demo).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
ingest_app = typer.Typer(help="Load data files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.embeddings.embedders import Embedder

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def configure_logging(settings: Settings) -> None:
    from server.observability.logs import configure

    configure(settings.log_level.value, settings.log_format.value)


@contextlib.contextmanager
def database(settings: Settings, *, migrate: bool = False) -> Iterator[DatabaseTarget]:
    with open_database(settings) as target:
        if target.embedded:
            console.print(f"[dim]embedded Postgres in {settings.data_dir / 'pg'}[/dim]")
        if migrate:
            migrations.upgrade(target.url)
        yield target


@contextlib.contextmanager
def migrated_or_exit(settings: Settings) -> Iterator[DatabaseTarget]:
    with database(settings) as target:
        current = migrations.current_revision(target.url)
        head = migrations.head_revision()
        if current != head:
            console.print(
                f"[red]error:[/red] the database is at migration {current or 'none'}, "
                f"head is {head}: run `contentintel db upgrade` first"
            )
            raise typer.Exit(1)
        yield target


@contextlib.contextmanager
def migrated_engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the database (exit 1 unless it is migrated to head), disposed after."""
    with migrated_or_exit(settings) as target:
        engine = make_engine(target.url)
        try:
            yield engine
        finally:
            engine.dispose()


# --- serve / demo ------------------------------------------------------------------------------

HostOption = Annotated[str | None, typer.Option(help="Address to bind (CONTENTINTEL_HOST).")]
StrictOption = Annotated[
    bool, typer.Option(help="Any bad row aborts the file; nothing is written.")
]
RejectsOption = Annotated[
    Path | None, typer.Option(help="Where to write rejected rows (default: DATA_DIR/rejects/…).")
]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (CONTENTINTEL_PORT).")]


def _serve(settings: Settings, target: DatabaseTarget) -> None:
    import uvicorn

    from server.app import create_app
    from server.db.embedded import to_sqlalchemy_url

    url = f"http://{settings.host}:{settings.port}/graphql"
    out.print(f"GraphQL API and GraphiQL: [bold]{url}[/bold]")
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with the previous handler.
    # Make that handler an exit, so the embedded Postgres is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.value.lower(),
        "log_config": None,  # keep our handlers: JSON lines with the request id
        "access_log": False,  # the GraphQL layer logs each request with its operation and id
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers > 1:
        # Worker processes build their app from the environment: hand them the database.
        os.environ[f"{ENV_PREFIX}DATABASE_URL"] = target.url
        uvicorn.run(
            "server.app:app_from_environment", factory=True, workers=settings.workers, **common
        )
        return
    uvicorn.run(
        create_app(
            settings,
            database_url=target.url,
            read_database_url=to_sqlalchemy_url(settings.read_database_url)
            if settings.read_database_url
            else None,
        ),
        **common,
    )


def _overrides(host: str | None, port: int | None, **more: object) -> dict[str, object]:
    given = {"host": host, "port": port, **more}
    return {k: v for k, v in given.items() if v is not None}


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (CONTENTINTEL_WORKERS).")
    ] = None,
) -> None:
    """Serve the GraphQL API (migrations must be at head)."""
    settings = settings_or_exit(**_overrides(host, port, workers=workers))
    configure_logging(settings)
    with migrated_or_exit(settings) as target:
        _serve(settings, target)


@app.command()
def demo(
    host: HostOption = None,
    port: PortOption = None,
    titles: Annotated[int, typer.Option(help="Synthetic titles to generate.")] = 2400,
    seed: Annotated[int, typer.Option(help="Generator seed (same seed, same data).")] = 20261128,
) -> None:
    """Embedded Postgres, migrations, a synthetic catalog when empty, embeddings and
    micro-genres brought up to date, then serve."""
    from server.demo.audiences import refresh_demo_audiences
    from server.demo.seed import seed_demo_catalog
    from server.embeddings.pipeline import embed_catalog
    from server.forecast.demo import prepare_demo_forecasts
    from server.scenes.demo import seed_demo_scenes
    from server.similarity.microgenres import cluster_catalog, has_micro_genres

    # The demo is for a trusted machine: no API keys, readable logs.
    settings = settings_or_exit(**_overrides(host, port), auth="off", log_format="text")
    configure_logging(settings)
    console.print(
        "[bold red]demo: AUTHENTICATION IS OFF: anyone who can reach "
        f"{settings.host}:{settings.port} can read and write the catalog "
        "(`contentintel serve` requires API keys)[/bold red]"
    )
    model = embedder_or_exit(settings)
    with database(settings, migrate=True) as target:
        engine = make_engine(target.url)
        try:
            with engine.begin() as conn:
                summary = seed_demo_catalog(conn, n_titles=titles, seed=seed)
            if summary is None:
                out.print("catalog already has titles: keeping it (no demo data generated)")
            else:
                out.print(f"demo catalog: {summary.inserted:,} synthetic titles (seed {seed})")
            with engine.begin() as conn:
                out.print(seed_demo_scenes(conn, seed=seed, embedder=model))
            with rate_progress_bar("titles") as progress, engine.begin() as conn:
                embedded = embed_catalog(conn, model, progress=PhaseBar(progress))
            out.print(f"embeddings ({embedded.embedder}): {embedded.changed:,} titles updated")
            with engine.begin() as conn:
                stale = embedded.changed > 0 or not has_micro_genres(conn)
            if stale:
                with rate_progress_bar("titles") as progress, engine.begin() as conn:
                    clustered = cluster_catalog(conn, seed=seed, progress=PhaseBar(progress))
                out.print(
                    f"micro-genres: {clustered.micro_genres:,} over {clustered.titles:,} titles"
                )
            out.print(refresh_demo_audiences(engine))  # profiles, cohorts (server/demo/audiences)
            for line in prepare_demo_forecasts(engine, seed=seed, embedder=model.name):
                out.print(line)
        finally:
            engine.dispose()
        console.print("[bold red]demo: serving WITHOUT authentication (auth off)[/bold red]")
        _serve(settings, target)


@app.command()
def embed(
    embedder: Annotated[
        str | None, typer.Option(help="minilm or hashing (default: CONTENTINTEL_EMBEDDER).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Re-embed every title and refit the projection.")
    ] = False,
    refit: Annotated[
        bool, typer.Option(help="Refit the genre projection on the current catalog.")
    ] = False,
) -> None:
    """Embed new or changed titles (synopsis, tags, metadata facets) into pgvector."""
    from server.embeddings.pipeline import embed_catalog

    settings = settings_or_exit(**({"embedder": embedder} if embedder else {}))
    configure_logging(settings)
    model = embedder_or_exit(settings)
    with migrated_engine(settings) as engine:
        with rate_progress_bar("titles") as progress, engine.begin() as conn:
            summary = embed_catalog(
                conn, model, rebuild=rebuild, refit=refit, progress=PhaseBar(progress)
            )
    out.print(
        f"{summary.embedder}: {summary.titles:,} titles, {summary.changed:,} changed, "
        f"{summary.texts_embedded:,} texts embedded"
        + (f" ({summary.texts_per_second:,.0f} titles/s)" if summary.texts_embedded else "")
        + f" in {summary.seconds:.1f} s"
    )
    if summary.projection_fitted:
        m = summary.metrics
        out.print(
            f"projection fitted (id {summary.projection_id}); genre agreement@{m['k']} on "
            f"{m['held_out_titles']:,} held-out titles: random {m['genre_agreement_random']:.3f}, "
            f"raw text {m['genre_agreement_raw']:.3f}, "
            f"projected {m['genre_agreement_projected']:.3f}, "
            f"synopsis facet {m['genre_agreement_synopsis_facet']:.3f}"
        )


@app.command()
def cluster(
    seed: Annotated[int, typer.Option(help="Seed of k-means and the map layout.")] = 20261128,
) -> None:
    """Group embedded titles into labelled micro-genres and lay out the similarity map."""
    from server.similarity.microgenres import cluster_catalog

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


@app.command("schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Export the GraphQL schema (SDL) from the code, as committed in schema.graphql."""
    from server.graphql.schema import schema_sdl

    output.write_text(schema_sdl(), encoding="utf-8")
    out.print(f"wrote {output}")


# --- db ----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = settings_or_exit()
    with database(settings) as target:
        migrations.upgrade(target.url, revision)
        out.print(f"database at {migrations.current_revision(target.url) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step; `base` = empty)."""
    settings = settings_or_exit()
    with database(settings) as target:
        migrations.downgrade(target.url, revision)
        out.print(f"database at {migrations.current_revision(target.url) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the code's head."""
    settings = settings_or_exit()
    with database(settings) as target:
        current = migrations.current_revision(target.url)
        out.print(f"current: {current or 'base (empty)'}\nhead:    {migrations.head_revision()}")


@db_app.command("check")
def db_check() -> None:
    """Compare the database with the models; exit 1 on any drift."""
    settings = settings_or_exit()
    with database(settings) as target:
        report = migrations.check(target.url)
    if report.current != report.head:
        out.print(
            f"[red]drift:[/red] database at {report.current or 'base'}, head is {report.head}"
        )
    for line in report.differences:
        out.print(f"[red]drift:[/red] {line}")
    if not report.clean:
        raise typer.Exit(1)
    out.print(f"no drift: database at head {report.head} and matches the models")


# --- ingest ------------------------------------------------------------------------------------


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
    chosen = format_or_exit(path, fmt)
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


def rejects_path_or_exit(path: Path, rejects: Path | None, settings: Settings) -> Path:
    """Exit 2 unless ``path`` is a file; where its rejected rows go (given, or a stamped file
    under DATA_DIR/rejects)."""
    if not path.is_file():
        console.print(f"[red]error:[/red] {path}: no such file")
        raise typer.Exit(2)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return rejects or settings.data_dir / "rejects" / f"{path.stem}-{stamp}.rejects.csv"


def format_or_exit(path: Path, fmt: str, detect: Callable[[Path], str] = detect_format) -> str:
    """``fmt``, or with ``auto`` the format ``detect`` reads from the file's extension (exit 2
    when it cannot tell)."""
    try:
        return detect(path) if fmt == "auto" else fmt
    except InputFileError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def embedder_or_exit(settings: Settings) -> Embedder:
    """The configured embedder, or exit 2 with the install command when it is unavailable."""
    from server.embeddings.embedders import EmbedderUnavailable, get_embedder

    try:
        return get_embedder(settings.embedder)
    except EmbedderUnavailable as exc:
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
        _print_rejections(exc.summary.rejected)
        console.print(f"[red]strict mode:[/red] {exc}")
        if exc.summary.rejects_file:
            console.print(f"rejected rows written to {exc.summary.rejects_file}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: rolled back, the database is as before[/yellow]")
        raise typer.Exit(130) from None


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


def _print_rejections(errors: list[RowError], limit: int = 50) -> None:
    for error in errors[:limit]:
        console.print(f"[red]rejected[/red] {error}")
    if len(errors) > limit:
        console.print(f"… and {len(errors) - limit} more")


def print_ingest_counts(summary: Any, elapsed: float, title: str, warnings: int = 50) -> None:
    """Warnings (the first ``warnings``), rejected rows and the counts table of an ingest."""
    for warning in summary.warnings[:warnings]:
        console.print(f"[yellow]warning[/yellow] {warning}")
    if len(summary.warnings) > warnings:
        console.print(f"… and {len(summary.warnings) - warnings} more warnings")
    _print_rejections(summary.rejected)
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


# Feature modules register their commands on `app` / `ingest_app` (imported last on purpose).
from server.audiences import commands as _audience_commands  # noqa: E402, F401

# --- keys, db distribute (server/cli_ops.py) ---------------------------------------------
from server.cli_ops import db_distribute, keys_app  # noqa: E402  (they use this module's helpers)
from server.forecast import commands as _forecast_commands  # noqa: E402, F401

app.add_typer(keys_app, name="keys")
db_app.command("distribute")(db_distribute)


def main() -> None:  # pragma: no cover
    app()


# Feature command modules register themselves on `app` / `ingest_app`; imported last because
# they use the helpers above.
from server.scenes import cli as _scenes_cli  # noqa: E402, F401
from server.strategy import commands as _strategy_commands  # noqa: E402, F401
