"""``embed``: title embeddings into pgvector."""

from __future__ import annotations

from typing import Annotated

import typer

from server.cli.console import out
from server.cli.options import EmbedderOption
from server.cli.progress import PhaseBar, rate_progress_bar
from server.cli.runtime import (
    configure_logging,
    embedder_or_exit,
    migrated_engine,
    settings_or_exit,
)

app = typer.Typer()


@app.command()
def embed(
    embedder: EmbedderOption = None,
    rebuild: Annotated[
        bool, typer.Option(help="Re-embed every title and refit the projection.")
    ] = False,
    refit: Annotated[
        bool, typer.Option(help="Refit the genre projection on the current catalog.")
    ] = False,
) -> None:
    """Embed new or changed titles (synopsis, tags, metadata, people facets) into pgvector."""
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
