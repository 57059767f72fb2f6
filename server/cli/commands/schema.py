"""``schema``: the GraphQL SDL, as committed in ``schema.graphql``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from server.cli.console import out

app = typer.Typer()


@app.command("schema")
def export_schema(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = Path("schema.graphql"),
) -> None:
    """Export the GraphQL schema (SDL) from the code, as committed in schema.graphql."""
    from server.graphql.schema import schema_sdl

    output.write_text(schema_sdl(), encoding="utf-8")
    out.print(f"wrote {output}")
