"""The top of the command line: the feature sub-apps assembled into one ``app``.

Commands are listed in ``--help`` in the order they are added here.
"""

from __future__ import annotations

import typer

from server.cli.commands import (
    audiences,
    catalog,
    db,
    embeddings,
    forecast,
    keys,
    scenes,
    schema,
    serve,
    similarity,
    strategy,
)

app = typer.Typer(
    help="contentintel: content-intelligence backend (GraphQL API, catalog, ingest, demo).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Load data files.", no_args_is_help=True)

for feature in (serve, embeddings, similarity, schema, audiences, forecast, scenes, strategy):
    app.add_typer(feature.app)
for feature_with_files in (catalog, audiences, scenes):
    ingest_app.add_typer(feature_with_files.ingest_app)
app.add_typer(db.app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(keys.app, name="keys")


def main() -> None:  # pragma: no cover
    app()
