"""``db …``: migrations, the drift check and the Citus layout."""

from __future__ import annotations

from typing import Annotated

import typer

from server.cli.console import console, out
from server.cli.runtime import database, migrated_engine, settings_or_exit
from server.db import migrations
from server.models import drift

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = settings_or_exit()
    with database(settings) as target:
        migrations.upgrade(target.url, revision)
        out.print(f"database at {migrations.current_revision(target.url) or 'base'}")


@app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step; `base` = empty)."""
    settings = settings_or_exit()
    with database(settings) as target:
        migrations.downgrade(target.url, revision)
        out.print(f"database at {migrations.current_revision(target.url) or 'base'}")


@app.command("current")
def db_current() -> None:
    """Print the database's migration revision and the code's head."""
    settings = settings_or_exit()
    with database(settings) as target:
        current = migrations.current_revision(target.url)
        out.print(f"current: {current or 'base (empty)'}\nhead:    {migrations.head_revision()}")


@app.command("check")
def db_check() -> None:
    """Compare the database with the models; exit 1 on any drift."""
    settings = settings_or_exit()
    with database(settings) as target:
        report = drift.check(target.url)
    if report.current != report.head:
        out.print(
            f"[red]drift:[/red] database at {report.current or 'base'}, head is {report.head}"
        )
    for line in report.differences:
        out.print(f"[red]drift:[/red] {line}")
    if not report.clean:
        raise typer.Exit(1)
    out.print(f"no drift: database at head {report.head} and matches the models")


@app.command("distribute")
def db_distribute() -> None:
    """Distribute the tables over a Citus cluster (see docs/scaling.md)."""
    from server.db.citus import DISTRIBUTED_TABLES, REFERENCE_TABLES, distribute

    settings = settings_or_exit()
    with migrated_engine(settings) as engine:
        with engine.begin() as conn:
            report = distribute(conn)
    if not report.available:
        console.print(
            "[yellow]the `citus` extension is not available on this Postgres server:[/yellow] "
            "nothing was changed. On a Citus coordinator this command would make "
            f"{', '.join(REFERENCE_TABLES)} reference tables and distribute "
            f"{', '.join(DISTRIBUTED_TABLES)} by title_id, co-located (docs/scaling.md)."
        )
        raise typer.Exit(1)
    for line in report.done:
        out.print(line)
    if report.skipped:
        out.print(f"already distributed: {', '.join(report.skipped)}")
