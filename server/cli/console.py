"""Where the command line writes: results on stdout, progress, warnings and errors on stderr."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from server.ingest.rows import RowError

console = Console(stderr=True, soft_wrap=True)
"""Progress, warnings and errors (stderr), so stdout holds only results."""
out = Console(soft_wrap=True)


def print_rejections(errors: Sequence[RowError], limit: int = 50) -> None:
    for error in errors[:limit]:
        console.print(f"[red]rejected[/red] {error}")
    if len(errors) > limit:
        console.print(f"… and {len(errors) - limit} more")
