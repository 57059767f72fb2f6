"""Readers and validators for regional viewing files.

Three formats, each a header line then one record per line:

- ``top10-countries``: Netflix's ``all-weeks-countries.tsv`` (tab-separated).
- ``top10-global``: Netflix's ``all-weeks-global.tsv`` (tab-separated).
- ``viewing``: the generic viewing-metric CSV (``title,kind,region,period_start,period_end,
  metric,value`` and an optional ``external_id``), for non-Netflix data.

Every reader yields ``ParsedRow``s: the physical line and either a typed record or the errors
that reject the row (field named, as the file names it). A wrong header is an
``InputFileError`` for the whole file. Duplicates of a record's key are rejected, pointing at
the line that came first.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from server.ingest.readers import Progress, Source, header_problems, read_table
from server.ingest.rows import InputFileError, RawRow, RowError, RowWarning
from server.kit.countries import CountryResolver
from server.models.audiences import GLOBAL_CATEGORIES
from server.models.catalog import TitleKind

COUNTRY_COLUMNS = (
    "country_name",
    "country_iso2",
    "week",
    "category",
    "weekly_rank",
    "show_title",
    "season_title",
    "cumulative_weeks_in_top_10",
)
GLOBAL_COLUMNS = (
    "week",
    "category",
    "weekly_rank",
    "show_title",
    "season_title",
    "weekly_hours_viewed",
    "runtime",
    "weekly_views",
    "cumulative_weeks_in_top_10",
)
VIEWING_COLUMNS = ("title", "kind", "region", "period_start", "period_end", "metric", "value")
VIEWING_OPTIONAL = ("external_id",)

COUNTRY_CATEGORIES = {"Films": TitleKind.MOVIE, "TV": TitleKind.SHOW}
VIEWING_KINDS = {
    "movie": TitleKind.MOVIE,
    "film": TitleKind.MOVIE,
    "films": TitleKind.MOVIE,
    "show": TitleKind.SHOW,
    "tv": TitleKind.SHOW,
    "tv show": TitleKind.SHOW,
}
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_NOT_APPLICABLE = {"", "N/A"}
MAX_TITLE = 300

R = TypeVar("R")


@dataclass(frozen=True)
class CountryChartRow:
    line: int
    region_code: str
    week: date
    kind: TitleKind
    rank: int
    show_title: str
    season_title: str | None
    cumulative_weeks: int | None


@dataclass(frozen=True)
class GlobalChartRow:
    line: int
    week: date
    category: str
    kind: TitleKind
    rank: int
    show_title: str
    season_title: str | None
    hours_viewed: int | None
    runtime_hours: float | None
    views: int | None
    cumulative_weeks: int | None


@dataclass(frozen=True)
class ViewingRow:
    line: int
    show_title: str
    kind: TitleKind
    region_code: str
    period_start: date
    period_end: date
    metric: str
    value: float
    external_id: str | None


@dataclass
class ParsedRow(Generic[R]):
    line: int
    record: R | None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)


class _Fields:
    """One row's fields with typed getters that collect errors instead of raising."""

    def __init__(self, line: int, values: dict[str, str]) -> None:
        self.line = line
        self.values = values
        self.errors: list[RowError] = []
        self.warnings: list[RowWarning] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def text(self, column: str, *, required: bool = True) -> str | None:
        value = self.values.get(column, "").strip()
        if not value or value in _NOT_APPLICABLE:
            if required:
                self.fail(column, "required, empty")
            return None
        if len(value) > MAX_TITLE:
            self.fail(column, f"longer than {MAX_TITLE} characters")
            return None
        return value

    def day(self, column: str) -> date | None:
        value = self.values.get(column, "").strip()
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"expected a date YYYY-MM-DD, got {value!r}")
            return None

    def present(self, column: str, *, required: bool) -> str | None:
        """The column's text, or ``None`` when empty or N/A (an error when ``required``)."""
        value = self.values.get(column, "").strip()
        if value in _NOT_APPLICABLE:
            if required:
                self.fail(column, "required, empty")
            return None
        return value

    def integer(self, column: str, low: int, high: int | None, *, required: bool) -> int | None:
        value = self.present(column, required=required)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            try:
                as_float = float(value)
            except ValueError:
                as_float = math.nan
            if not as_float.is_integer():
                self.fail(column, f"expected a whole number, got {value!r}")
                return None
            number = int(as_float)
        if number < low or (high is not None and number > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            self.fail(column, f"{number} out of range ({bounds})")
            return None
        return number

    def number(self, column: str, *, required: bool) -> float | None:
        value = self.present(column, required=required)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            self.fail(column, f"expected a number, got {value!r}")
            return None
        if not math.isfinite(number):
            self.fail(column, f"expected a finite number, got {value!r}")
            return None
        return number


def _table(
    source: Source,
    columns: Sequence[str],
    optional: Sequence[str],
    delimiter: str,
    what: str,
    progress: Progress | None,
) -> Iterator[RawRow]:
    """Lines of a delimited file as ``RawRow``s of ``{column: value}`` (or of the errors)."""

    def check_header(header: list[str]) -> None:
        problems = header_problems(header, (*columns, *optional), columns)
        if problems:
            sep = "tab" if delimiter == "\t" else "comma"
            raise InputFileError(
                f"line 1: wrong header ({problems}); expected the {what} columns "
                f"({sep}-separated): {', '.join(columns)}"
                + (f" (optional: {', '.join(optional)})" if optional else "")
            )

    # Netflix's TSVs never quote; a '"' is part of the title.
    options: dict[str, Any] = {"quoting": csv.QUOTE_NONE} if delimiter == "\t" else {}
    return read_table(source, check_header, _invalid_utf8, progress, delimiter=delimiter, **options)


def _invalid_utf8(line: int, columns: list[str], row: dict[str, str]) -> list[RowError]:
    return [RowError(line, columns[0], "invalid UTF-8")]


def _rows(
    table: Iterator[RawRow],
    build: Callable[[_Fields], R | None],
    key: Callable[[R], tuple[object, ...]],
    describe: Callable[[R], str],
) -> Iterator[ParsedRow[R]]:
    first_line: dict[tuple[object, ...], int] = {}
    for item in table:
        if item.data is None:
            yield ParsedRow(item.line, None, item.errors)
            continue
        line, values = item.line, item.data
        fields = _Fields(line, values)
        record = build(fields)
        if record is None or fields.errors:
            yield ParsedRow(line, None, fields.errors, fields.warnings)
            continue
        k = key(record)
        if k in first_line:
            error = RowError(
                line, "row", f"duplicate {describe(record)}, first on line {first_line[k]}"
            )
            yield ParsedRow(line, None, [error], fields.warnings)
            continue
        first_line[k] = line
        yield ParsedRow(line, record, [], fields.warnings)


def read_country_charts(
    source: Source, regions: set[str], progress: Progress | None = None
) -> Iterator[ParsedRow[CountryChartRow]]:
    """Rows of ``all-weeks-countries.tsv``; ``regions``: the known region codes."""
    resolver = CountryResolver.default()

    def build(f: _Fields) -> CountryChartRow | None:
        code = f.values["country_iso2"].strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", code):
            f.fail("country_iso2", f"expected an ISO 3166-1 alpha-2 code, got {code!r}")
        elif code not in regions:
            f.fail("country_iso2", f"unknown region {code!r}: add it to the regions table")
        else:
            name = f.values["country_name"].strip()
            named = resolver.resolve(name) if name else None
            if named is not None and named != code:
                f.fail("country_name", f"{name!r} is country {named}, not {code}")
            elif named is None:
                f.warnings.append(
                    RowWarning(f.line, "country_name", f"unknown country name {name!r}")
                )
        week = f.day("week")
        category = f.values["category"].strip()
        kind = COUNTRY_CATEGORIES.get(category)
        if kind is None:
            f.fail("category", f"unknown category {category!r} (expected Films or TV)")
        rank = f.integer("weekly_rank", 1, 10, required=True)
        show = f.text("show_title")
        season = f.text("season_title", required=False)
        weeks = f.integer("cumulative_weeks_in_top_10", 1, None, required=False)
        if f.errors or week is None or kind is None or rank is None or show is None:
            return None
        return CountryChartRow(f.line, code, week, kind, rank, show, season, weeks)

    return _rows(
        _table(source, COUNTRY_COLUMNS, (), "\t", "Top 10 by country", progress),
        build,
        lambda r: (r.region_code, r.week, r.kind, r.rank),
        lambda r: f"chart position ({r.region_code}, {r.week}, {r.kind.value}, #{r.rank})",
    )


def read_global_charts(
    source: Source, progress: Progress | None = None
) -> Iterator[ParsedRow[GlobalChartRow]]:
    """Rows of ``all-weeks-global.tsv``."""

    def build(f: _Fields) -> GlobalChartRow | None:
        week = f.day("week")
        category = f.values["category"].strip()
        if category not in GLOBAL_CATEGORIES:
            f.fail(
                "category",
                f"unknown category {category!r} (expected one of {', '.join(GLOBAL_CATEGORIES)})",
            )
        kind = TitleKind.MOVIE if category.startswith("Films") else TitleKind.SHOW
        rank = f.integer("weekly_rank", 1, 10, required=True)
        show = f.text("show_title")
        season = f.text("season_title", required=False)
        hours = f.integer("weekly_hours_viewed", 0, None, required=False)
        runtime = f.number("runtime", required=False)
        if runtime is not None and runtime <= 0:
            f.fail("runtime", f"expected hours > 0, got {runtime}")
        views = f.integer("weekly_views", 0, None, required=False)
        weeks = f.integer("cumulative_weeks_in_top_10", 1, None, required=False)
        if f.errors or week is None or rank is None or show is None:
            return None
        return GlobalChartRow(
            f.line, week, category, kind, rank, show, season, hours, runtime, views, weeks
        )

    return _rows(
        _table(source, GLOBAL_COLUMNS, (), "\t", "global Top 10", progress),
        build,
        lambda r: (r.week, r.category, r.rank),
        lambda r: f"chart position ({r.week}, {r.category}, #{r.rank})",
    )


def read_viewing(
    source: Source, regions: set[str], progress: Progress | None = None
) -> Iterator[ParsedRow[ViewingRow]]:
    """Rows of the generic viewing-metric CSV (see the README, "Generic viewing CSV")."""

    def build(f: _Fields) -> ViewingRow | None:
        show = f.text("title")
        raw_kind = f.values["kind"].strip()
        kind = VIEWING_KINDS.get(raw_kind.casefold())
        if kind is None:
            f.fail("kind", f"unknown kind {raw_kind!r} (expected MOVIE or SHOW)")
        code = f.values["region"].strip().upper()
        if code not in regions:
            f.fail("region", f"unknown region {code!r} (an ISO alpha-2 code of the regions table)")
        start = f.day("period_start")
        end = f.day("period_end")
        if start is not None and end is not None and end < start:
            f.fail("period_end", f"{end} is before period_start {start}")
        metric = f.values["metric"].strip()
        if not _METRIC.fullmatch(metric):
            f.fail(
                "metric", f"expected a lower-case identifier like hours or views, got {metric!r}"
            )
        value = f.number("value", required=True)
        if value is not None and value < 0:
            f.fail("value", f"must be >= 0, got {value}")
        elif value is not None and metric.endswith(("_rate", "_share")) and value > 1:
            f.fail("value", f"{metric} is a fraction: expected 0..1, got {value}")
        external = f.values.get("external_id", "").strip() or None
        if f.errors or show is None or kind is None or start is None or end is None:
            return None
        if value is None:
            return None
        return ViewingRow(f.line, show, kind, code, start, end, metric, value, external)

    return _rows(
        _table(source, VIEWING_COLUMNS, VIEWING_OPTIONAL, ",", "generic viewing", progress),
        build,
        lambda r: (r.show_title, r.kind, r.region_code, r.period_start, r.metric),
        lambda r: (
            f"metric ({r.show_title!r}, {r.kind.value}, {r.region_code}, "
            f"{r.period_start}, {r.metric})"
        ),
    )
