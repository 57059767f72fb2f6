"""``gaps``: content strategy, demand vs supply per micro-genre and market."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from server.cli.console import console, out
from server.cli.runtime import configure_logging, migrated_engine, settings_or_exit

app = typer.Typer()


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        console.print(f"[red]error:[/red] {option} must be a date YYYY-MM-DD, got {value!r}")
        raise typer.Exit(2) from None


@app.command("gaps")
def gaps(
    region: Annotated[
        str | None, typer.Option(help="Market: a region code (ISO 3166-1 alpha-2).")
    ] = None,
    cohort: Annotated[int | None, typer.Option(help="Market: an audience cohort id.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First chart week (YYYY-MM-DD).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last chart week (YYYY-MM-DD).")] = None,
    level: Annotated[str, typer.Option(help="micro-genre or parent-genre.")] = "micro-genre",
    soft: Annotated[bool, typer.Option(help="Soft memberships instead of hard.")] = False,
    first: Annotated[int, typer.Option(help="Rows to print.")] = 20,
    min_titles: Annotated[
        int, typer.Option(help="Only groups with at least this many charting titles.")
    ] = 0,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Draw the supply-vs-demand quadrant (PNG).")
    ] = None,
) -> None:
    """Which micro-genres a market demands beyond what the catalog supplies, ranked by the
    lower bound of the opportunity; optionally draws the quadrant."""
    from server.kit.errors import ExpectedError
    from server.strategy.plot import draw_quadrant
    from server.strategy.service import Level, Market, MembershipKind, compute_gaps

    if (region is None) == (cohort is None):
        console.print("[red]error:[/red] give exactly one of --region / --cohort")
        raise typer.Exit(2)
    if level not in ("micro-genre", "parent-genre"):
        console.print(f"[red]error:[/red] --level must be micro-genre or parent-genre: {level!r}")
        raise typer.Exit(2)
    if not 0 <= first <= 500 or min_titles < 0:
        console.print("[red]error:[/red] --first must be in 0..500 and --min-titles >= 0")
        raise typer.Exit(2)
    s, e = _date(start, "--from"), _date(end, "--to")
    market = Market(region=region.upper() if region else None, cohort_id=cohort)
    lvl = Level.MICRO_GENRE if level == "micro-genre" else Level.PARENT_GENRE
    settings = settings_or_exit()
    configure_logging(settings)
    with migrated_engine(settings) as engine, engine.connect() as conn:
        try:
            report = compute_gaps(
                conn,
                market,
                start=s.date() if s else None,
                end=e.date() if e else None,
                level=lvl,
                membership=MembershipKind.SOFT if soft else MembershipKind.HARD,
            )
        except ExpectedError as exc:
            where = f" ({exc.field})" if exc.field else ""
            console.print(f"[red]error{where}:[/red] {exc}")
            raise typer.Exit(1) from None
        from sqlalchemy import text

        names: dict[int | str, str] = {
            int(r.id): str(r.label)
            for r in conn.execute(text("SELECT id, label FROM micro_genres"))
        }
        wanted = sorted({t for g in report.gaps[:first] for t, _ in g.top_titles[:1]})
        title_names = {
            int(r.id): str(r.name)
            for r in conn.execute(
                text("SELECT id, name FROM titles WHERE id = ANY(:ids)"), {"ids": wanted}
            )
        }
    rows = [g for g in report.gaps if g.charting_titles >= min_titles][:first]
    table = Table(
        title=(
            f"{market.key}: {lvl.value.lower().replace('_', ' ')} gaps, "
            f"{report.window_start}..{report.window_end}, coverage {report.coverage:.1%} "
            f"({report.matched_points:,.0f} of {report.chart_points:,.0f} chart points are "
            "catalog titles)"
        )
    )
    for column in (
        "#",
        "group",
        "titles",
        "charting",
        "supply",
        "demand",
        "opportunity [90%]",
        "momentum pts/wk [90%]",
        "top charting title",
    ):
        table.add_column(
            column, justify="left" if column in ("group", "top charting title") else "right"
        )
    for g in rows:
        key: int | str = g.micro_genre_id if g.micro_genre_id is not None else (g.genre or "")
        top = title_names.get(g.top_titles[0][0], "") if g.top_titles else ""
        table.add_row(
            str(g.rank),
            names.get(key, str(key)),
            f"{g.catalog_titles:.0f}",
            str(g.charting_titles),
            f"{g.supply_share:.2%}",
            f"{g.demand_share:.2%}",
            f"{g.opportunity:.2f} [{g.low:.2f}, {g.high:.2f}]",
            f"{100 * g.momentum:+.2f} [{100 * g.momentum_low:+.2f}, {100 * g.momentum_high:+.2f}]"
            + (" rising" if g.rising else ""),
            top,
        )
    # Wide on purpose: a narrow terminal soft-wraps lines rather than cutting the labels.
    Console(width=max(out.width, 180)).print(table)
    if out_path is not None:
        draw_quadrant(
            report,
            names,
            out_path,
            f"{market.key}: demand vs supply per {lvl.value.lower().replace('_', ' ')}, "
            f"{report.window_start}..{report.window_end} (coverage {report.coverage:.0%})",
        )
        out.print(f"wrote {out_path}")
