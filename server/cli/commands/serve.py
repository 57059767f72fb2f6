"""``serve`` and ``demo``: the GraphQL API over the configured or the embedded database."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from server.cli.console import console, out
from server.cli.options import HostOption, PortOption
from server.cli.progress import PhaseBar, rate_progress_bar
from server.cli.runtime import (
    configure_logging,
    database,
    embedder_or_exit,
    migrated_or_exit,
    overrides,
    settings_or_exit,
)
from server.config import Settings
from server.db.engine import DatabaseTarget, make_engine

app = typer.Typer()


GRACEFUL_SHUTDOWN_S = 10
"""How long SIGTERM lets the requests in flight finish before a worker is killed."""
GRANIAN_LOGGING: dict[str, Any] = {
    "loggers": {
        # granian's own lines through our handlers (JSON lines, or text for the demo); its
        # access log stays off: the GraphQL layer logs each request with its operation and id
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False},
    }
}


def _serve(settings: Settings, target: DatabaseTarget) -> None:
    base = f"http://{settings.host}:{settings.port}"
    out.print(f"GraphQL API and GraphiQL: [bold]{base}/graphql[/bold]")
    out.print(f"Explorer: [bold]{base}/explore[/bold]")
    # Several workers' metrics meet in one directory (server/observability/metrics.py), named
    # before the app (and prometheus_client) is imported: the forked workers inherit its mode.
    metrics = shared_metrics_dir() if settings.workers > 1 else contextlib.nullcontext()
    with metrics:
        from server.app import worker_app

        run_workers(
            settings, functools.partial(worker_app, settings=settings, database_url=target.url)
        )


def run_workers(settings: Settings, load: Callable[[str], Any]) -> None:
    """Serve the app ``load`` builds in each of ``settings.workers`` worker processes
    (granian), until SIGTERM or SIGINT: then granian stops accepting, lets each worker finish
    its requests in flight (up to ``GRACEFUL_SHUTDOWN_S``) and run the app's shutdown, and
    returns, so that the embedded Postgres is stopped after. A worker that dies is replaced."""
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        "server.app:worker_app",  # a name for granian's logs: ``load`` builds the app
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        log_level=LogLevels(settings.log_level.value.lower()),
        log_dictconfig=GRANIAN_LOGGING,
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_S,
    ).serve(target_loader=load)


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[Path]:
    """An empty directory for the workers' metric files, named in the environment the
    workers inherit; one given by the operator is emptied first (stale files from an earlier
    run would be summed in), one made here is removed afterwards."""
    from server.observability.multiprocess import MULTIPROCESS_DIR_ENV

    given = os.environ.get(MULTIPROCESS_DIR_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="contentintel-metrics-") as made:
        os.environ[MULTIPROCESS_DIR_ENV] = made
        try:
            yield Path(made)
        finally:
            del os.environ[MULTIPROCESS_DIR_ENV]


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (CONTENTINTEL_WORKERS).")
    ] = None,
) -> None:
    """Serve the GraphQL API (migrations must be at head)."""
    settings = settings_or_exit(**overrides(host, port, workers=workers))
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
    from server.demo.audiences import refresh_demo_audiences, refresh_demo_comparables
    from server.demo.forecast import prepare_demo_forecasts
    from server.demo.scenes import seed_demo_scenes
    from server.demo.seed import seed_demo_catalog
    from server.embeddings.pipeline import embed_catalog
    from server.similarity.microgenres.clustering import cluster_catalog, has_micro_genres

    # The demo is for a trusted machine: no API keys, readable logs.
    settings = settings_or_exit(**overrides(host, port), auth="off", log_format="text")
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
            with engine.begin() as conn:
                out.print(refresh_demo_comparables(conn, refit=embedded.changed > 0))
        finally:
            engine.dispose()
        console.print("[bold red]demo: serving WITHOUT authentication (auth off)[/bold red]")
        _serve(settings, target)
