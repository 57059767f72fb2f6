"""``train`` and ``backtest``: forecast models."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated

import typer
from rich.table import Table

from server.cli.console import console, out
from server.cli.progress import PhaseBar, rate_progress_bar
from server.cli.runtime import (
    configure_logging,
    embedder_or_exit,
    migrated_engine,
    settings_or_exit,
)

app = typer.Typer()


EmbedderOption = Annotated[
    str | None,
    typer.Option(help="minilm or hashing: whose stored vectors to use (default: the setting)."),
]


def _embedder_name(embedder: str | None) -> tuple[object, str]:

    settings = settings_or_exit(**({"embedder": embedder} if embedder else {}))
    configure_logging(settings)
    return settings, embedder_or_exit(settings).name


ComparablesOption = Annotated[
    str,
    typer.Option(
        "--comparables",
        help="How comparables are found: learned (audience profiles predicted from content; "
        "the default) or content (text and tags cosine).",
    ),
]


def _check_comparables(value: str) -> None:
    if value not in ("learned", "content"):
        console.print(f"[red]error:[/red] --comparables must be learned or content, got {value!r}")
        raise typer.Exit(2)


@app.command()
def train(embedder: EmbedderOption = None, comparables: ComparablesOption = "learned") -> None:
    """Train a forecast model on every chart week, store it as a new version, make it current."""
    from server.forecast.data import NotEmbedded
    from server.forecast.training import train_model

    _check_comparables(comparables)
    settings, name = _embedder_name(embedder)
    with migrated_engine(settings) as engine:  # type: ignore[arg-type]
        try:
            with rate_progress_bar("steps") as progress, engine.begin() as conn:
                summary = train_model(
                    conn, name, progress=PhaseBar(progress), comparables=comparables
                )
        except (ValueError, NotEmbedded) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    m = summary.metrics
    out.print(
        f"forecast model v{summary.version} (current): {summary.training_titles:,} titles x "
        f"{summary.regions} regions, {name}, parameters {summary.params.as_dict()}, "
        f"trained in {summary.seconds:.1f} s"
    )
    if "tuning" in m:
        t = m["tuning"]
        best = max(t["grid"], key=lambda g: g["ndcg10"]) if t["grid"] else None
        if best:
            out.print(
                f"tuned on an inner split at {t['inner_cutoff']} ({t['inner_train_titles']} "
                f"train / {t['inner_test_titles']} held-out titles): NDCG@10 {best['ndcg10']:.3f}"
            )
    if m.get("skipped_unembedded"):
        out.print(
            f"[yellow]{m['skipped_unembedded']} charted titles skipped: not embedded[/yellow]"
        )


def _fmt(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4f}"


@app.command()
def backtest(
    cutoff: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="Train on weeks before this date.")
    ],
    embedder: EmbedderOption = None,
    comparables: ComparablesOption = "learned",
) -> None:
    """Time-split backtest: train before CUTOFF, test on titles first charting on/after it;
    prints and stores NDCG@10, precision@10 and ROC-AUC of the model and every baseline."""
    from server.forecast.data import NotEmbedded
    from server.forecast.training import TARGET_LIFT, run_backtest

    _check_comparables(comparables)
    settings, name = _embedder_name(embedder)
    day: date = cutoff.date()
    with migrated_engine(settings) as engine:  # type: ignore[arg-type]
        try:
            with rate_progress_bar("steps") as progress, engine.begin() as conn:
                result = run_backtest(
                    conn, name, day, progress=PhaseBar(progress), comparables=comparables
                )
        except (ValueError, NotEmbedded) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    table = Table(
        title=f"backtest {result.backtest_id} at {day} ({name}): {result.train_titles} train "
        f"titles, {result.test_titles} test titles, {result.regions} regions"
    )
    for column in ("method", "NDCG@10", "precision@10", "mean ROC-AUC"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for m in result.methods:
        table.add_row(
            m.method + (" (baseline)" if m.baseline else ""),
            _fmt(m.ndcg10),
            _fmt(m.precision10),
            _fmt(m.auc),
        )
    out.print(table)
    out.print(f"parameters (tuned on pre-cutoff weeks only): {result.params.as_dict()}")
    best, lift = result.best_baseline, result.lift
    if best is not None and lift is not None:
        verdict = "meets" if lift >= TARGET_LIFT else "misses"
        out.print(
            f"model vs best baseline ({best.method}): {lift:+.1%} NDCG@10 "
            f"({verdict} the +{TARGET_LIFT:.0%} target); {result.seconds:.1f} s"
        )
