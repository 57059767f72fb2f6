"""Command-line options that several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HostOption = Annotated[str | None, typer.Option(help="Address to bind (CONTENTINTEL_HOST).")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (CONTENTINTEL_PORT).")]
StrictOption = Annotated[
    bool, typer.Option(help="Any bad row aborts the file; nothing is written.")
]
RejectsOption = Annotated[
    Path | None, typer.Option(help="Where to write rejected rows (default: DATA_DIR/rejects/…).")
]
EmbedderOption = Annotated[
    str | None, typer.Option(help="minilm or hashing (default: CONTENTINTEL_EMBEDDER).")
]
