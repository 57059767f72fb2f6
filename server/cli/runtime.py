"""What every command needs first: settings, logging, the database, the embedder."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from server.cli.console import console
from server.config import Settings, SettingsError, load_settings
from server.db import migrations
from server.db.engine import DatabaseTarget, make_engine, open_database

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.embeddings.embedders import Embedder


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


def embedder_or_exit(settings: Settings) -> Embedder:
    """The configured embedder, or exit 2 with the install command when it is unavailable."""
    from server.embeddings.embedders import EmbedderUnavailable, get_embedder

    try:
        return get_embedder(settings.embedder)
    except EmbedderUnavailable as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def overrides(host: str | None, port: int | None, **more: object) -> dict[str, object]:
    given = {"host": host, "port": port, **more}
    return {k: v for k, v in given.items() if v is not None}
