"""Builders for small Top 10 / viewing files in the real formats."""

from __future__ import annotations

from collections.abc import Iterable

from server.audiences.readers import COUNTRY_COLUMNS, GLOBAL_COLUMNS, VIEWING_COLUMNS

NAMES = {"US": "United States", "KR": "South Korea", "TH": "Thailand", "FR": "France"}


def country_tsv(rows: Iterable[tuple[object, ...]]) -> str:
    """Rows of (code, week, category, rank, show_title[, season_title[, cumulative]])."""
    lines = ["\t".join(COUNTRY_COLUMNS)]
    for row in rows:
        code, week, category, rank, show, *rest = row
        season = rest[0] if rest else "N/A"
        weeks = rest[1] if len(rest) > 1 else 1
        lines.append(
            "\t".join(
                str(v)
                for v in (
                    NAMES.get(str(code), code),
                    code,
                    week,
                    category,
                    rank,
                    show,
                    season,
                    weeks,
                )
            )
        )
    return "\n".join(lines) + "\n"


def global_tsv(rows: Iterable[tuple[object, ...]]) -> str:
    """Rows of (week, category, rank, show_title, hours[, views])."""
    lines = ["\t".join(GLOBAL_COLUMNS)]
    for row in rows:
        week, category, rank, show, hours, *rest = row
        views = rest[0] if rest else ""
        lines.append(
            "\t".join(str(v) for v in (week, category, rank, show, "N/A", hours, "", views, 1))
        )
    return "\n".join(lines) + "\n"


def viewing_csv(rows: Iterable[tuple[object, ...]], *, external_id: bool = False) -> str:
    header = list(VIEWING_COLUMNS) + (["external_id"] if external_id else [])
    lines = [",".join(header)]
    lines += [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"
