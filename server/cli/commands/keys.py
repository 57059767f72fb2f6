"""``keys …``: API keys (only their SHA-256 is stored)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from server.auth import service as keys
from server.cli.console import console, out
from server.cli.runtime import migrated_engine, settings_or_exit
from server.kit.errors import ExpectedError
from server.kit.roles import Role

app = typer.Typer(help="API keys (sent as `Authorization: Bearer <key>`).", no_args_is_help=True)


@app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="viewer, analyst or admin.", case_sensitive=False)],
    name: Annotated[str, typer.Option(help="Who or what the key is for (unique among live keys).")],
) -> None:
    """Create a key; it is printed once, alone on the last line, and never stored."""
    settings = settings_or_exit()
    with migrated_engine(settings) as engine:
        try:
            with engine.begin() as conn:
                info, key = keys.create_key(conn, name, role)
        except ExpectedError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    console.print(
        f"created key {info.id} [bold]{info.name}[/bold] ({info.role.value}); "
        "copy it now, it is not shown again:"
    )
    print(key)


@app.command("list")
def keys_list(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """List keys (never the keys themselves: their first characters)."""
    settings = settings_or_exit()
    with migrated_engine(settings) as engine:
        with engine.connect() as conn:
            rows = keys.list_keys(conn, include_revoked=all_keys)
    table = Table(show_header=True)
    for column in ("id", "name", "role", "key starts", "created", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.role.value,
            row.prefix + "…",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "",
        )
    out.print(table)


@app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's name or numeric id.")],
) -> None:
    """Revoke a key: refused from then on (within CONTENTINTEL_KEY_CACHE_S seconds)."""
    settings = settings_or_exit()
    with migrated_engine(settings) as engine:
        try:
            with engine.begin() as conn:
                info = keys.revoke_key(conn, key)
        except ExpectedError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    out.print(f"revoked key {info.id} {info.name} ({info.role.value})")
