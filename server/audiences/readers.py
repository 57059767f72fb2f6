"""Readers and validators for regional viewing files.

Three formats, each a header line then one record per line:

- ``top10-countries``: Netflix's ``all-weeks-countries.tsv`` (tab-separated).
- ``top10-global``: Netflix's ``all-weeks-global.tsv`` (tab-separated).
- ``viewing``: the generic viewing-metric CSV (``title,kind,region,period_start,period_end,
  metric,value`` and an optional ``external_id``), for non-Netflix data.

Every reader yields ``ParsedRow``s: the physical line and either a typed record or the errors
that reject the row (field named, as the file names it). Each field is checked by the pydantic
models of ``server.audiences.records``; the checks here need the regions table, several fields
or the lines before. A wrong header is an
``InputFileError`` for the whole file. Duplicates of a record's key are rejected, pointing at
the line that came first.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from server.audiences.records import (
    CountryChartInput,
    GlobalChartInput,
    ViewingInput,
)
from server.ingest.readers import Progress, Source, header_problems, read_table
from server.ingest.records import RecordParser, row_errors
from server.ingest.rows import InputFileError, RawRow, RowError, RowWarning
from server.kit.countries import CountryResolver
from server.models.catalog import TitleKind

COUNTRY_COLUMNS = tuple(CountryChartInput.model_fields)
GLOBAL_COLUMNS = tuple(GlobalChartInput.model_fields)
VIEWING_OPTIONAL = ("external_id",)
VIEWING_COLUMNS = tuple(c for c in ViewingInput.model_fields if c not in VIEWING_OPTIONAL)

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


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


@dataclass
class Checked(Generic[M]):
    """A line whose fields each passed their model: the checks that need more than one field
    or the regions table add their errors and warnings here."""

    line: int
    input: M
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))


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
    model: type[M],
    build: Callable[[Checked[M]], R],
    key: Callable[[R], tuple[object, ...]],
    describe: Callable[[R], str],
) -> Iterator[ParsedRow[R]]:
    """Each line validated by ``model``, then by ``build`` (the cross-field checks, which
    return the record), then checked against the earlier lines' keys."""
    first_line: dict[tuple[object, ...], int] = {}
    validate = RecordParser(model).parse
    for item in table:
        if item.data is None:
            yield ParsedRow(item.line, None, item.errors)
            continue
        line = item.line
        try:
            checked = Checked(line, validate(item.data))
        except ValidationError as exc:
            yield ParsedRow(line, None, row_errors(exc, line, None))
            continue
        record = build(checked)
        if checked.errors:
            yield ParsedRow(line, None, checked.errors, checked.warnings)
            continue
        k = key(record)
        if k in first_line:
            error = RowError(
                line, "row", f"duplicate {describe(record)}, first on line {first_line[k]}"
            )
            yield ParsedRow(line, None, [error], checked.warnings)
            continue
        first_line[k] = line
        yield ParsedRow(line, record, [], checked.warnings)


def read_country_charts(
    source: Source, regions: set[str], progress: Progress | None = None
) -> Iterator[ParsedRow[CountryChartRow]]:
    """Rows of ``all-weeks-countries.tsv``; ``regions``: the known region codes."""
    resolver = CountryResolver.default()

    def build(c: Checked[CountryChartInput]) -> CountryChartRow:
        row = c.input
        code = row.country_iso2
        if code not in regions:
            c.fail("country_iso2", f"unknown region {code!r}: add it to the regions table")
        else:
            name = row.country_name
            named = resolver.resolve(name) if name else None
            if named is not None and named != code:
                c.fail("country_name", f"{name!r} is country {named}, not {code}")
            elif named is None:
                c.warnings.append(
                    RowWarning(c.line, "country_name", f"unknown country name {name!r}")
                )
        return CountryChartRow(
            c.line,
            code,
            row.week,
            row.category,
            row.weekly_rank,
            row.show_title,
            row.season_title,
            row.cumulative_weeks_in_top_10,
        )

    return _rows(
        _table(source, COUNTRY_COLUMNS, (), "\t", "Top 10 by country", progress),
        CountryChartInput,
        build,
        lambda r: (r.region_code, r.week, r.kind, r.rank),
        lambda r: f"chart position ({r.region_code}, {r.week}, {r.kind.value}, #{r.rank})",
    )


def read_global_charts(
    source: Source, progress: Progress | None = None
) -> Iterator[ParsedRow[GlobalChartRow]]:
    """Rows of ``all-weeks-global.tsv``."""

    def build(c: Checked[GlobalChartInput]) -> GlobalChartRow:
        row = c.input
        return GlobalChartRow(
            c.line,
            row.week,
            row.category,
            row.kind,
            row.weekly_rank,
            row.show_title,
            row.season_title,
            row.weekly_hours_viewed,
            row.runtime,
            row.weekly_views,
            row.cumulative_weeks_in_top_10,
        )

    return _rows(
        _table(source, GLOBAL_COLUMNS, (), "\t", "global Top 10", progress),
        GlobalChartInput,
        build,
        lambda r: (r.week, r.category, r.rank),
        lambda r: f"chart position ({r.week}, {r.category}, #{r.rank})",
    )


def read_viewing(
    source: Source, regions: set[str], progress: Progress | None = None
) -> Iterator[ParsedRow[ViewingRow]]:
    """Rows of the generic viewing-metric CSV (see the README, "Generic viewing CSV")."""

    def build(c: Checked[ViewingInput]) -> ViewingRow:
        row = c.input
        if row.region not in regions:
            c.fail(
                "region",
                f"unknown region {row.region!r} (an ISO alpha-2 code of the regions table)",
            )
        if row.period_end < row.period_start:
            c.fail("period_end", f"{row.period_end} is before period_start {row.period_start}")
        if row.value < 0:
            c.fail("value", f"must be >= 0, got {row.value}")
        elif row.metric.endswith(("_rate", "_share")) and row.value > 1:
            c.fail("value", f"{row.metric} is a fraction: expected 0..1, got {row.value}")
        return ViewingRow(
            c.line,
            row.title,
            row.kind,
            row.region,
            row.period_start,
            row.period_end,
            row.metric,
            row.value,
            row.external_id,
        )

    return _rows(
        _table(source, VIEWING_COLUMNS, VIEWING_OPTIONAL, ",", "generic viewing", progress),
        ViewingInput,
        build,
        lambda r: (r.show_title, r.kind, r.region_code, r.period_start, r.metric),
        lambda r: (
            f"metric ({r.show_title!r}, {r.kind.value}, {r.region_code}, "
            f"{r.period_start}, {r.metric})"
        ),
    )
