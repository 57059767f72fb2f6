"""Validation rules of the regional viewing readers: one test per rule, with line and field."""

from __future__ import annotations

from datetime import date

import pytest

from server.audiences.readers import (
    read_country_charts,
    read_global_charts,
    read_viewing,
)
from server.ingest.rows import InputFileError
from server.models.catalog import TitleKind
from tests.audiences.charts import country_tsv, global_tsv, viewing_csv

REGIONS = {"US", "KR", "TH", "FR"}


def errors(rows: list) -> list[tuple[int, str, str]]:  # type: ignore[type-arg]
    return [(e.line, e.field, e.reason) for r in rows for e in r.errors]


def test_country_row_is_parsed() -> None:
    data = country_tsv([("KR", "2021-10-03", "TV", 1, "Squid Game", "Squid Game: Season 1", 2)])
    [row] = list(read_country_charts(data, REGIONS))
    assert row.record is not None
    r = row.record
    assert (r.line, r.region_code, r.week, r.kind, r.rank) == (
        2,
        "KR",
        date(2021, 10, 3),
        TitleKind.SHOW,
        1,
    )
    assert (r.show_title, r.season_title, r.cumulative_weeks) == (
        "Squid Game",
        "Squid Game: Season 1",
        2,
    )


def test_film_season_na_is_null() -> None:
    [row] = list(read_country_charts(country_tsv([("US", "2021-10-03", "Films", 3, "X")]), REGIONS))
    assert row.record is not None
    assert row.record.season_title is None
    assert row.record.kind is TitleKind.MOVIE


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (("XX", "2021-10-03", "TV", 1, "A"), "country_iso2", "unknown region 'XX'"),
        (("U1", "2021-10-03", "TV", 1, "A"), "country_iso2", "expected an ISO 3166-1 alpha-2"),
        (("US", "2021-13-03", "TV", 1, "A"), "week", "expected a date YYYY-MM-DD"),
        (("US", "2021-10-03", "Shorts", 1, "A"), "category", "unknown category 'Shorts'"),
        (("US", "2021-10-03", "TV", 11, "A"), "weekly_rank", "11 out of range (1..10)"),
        (("US", "2021-10-03", "TV", 0, "A"), "weekly_rank", "0 out of range (1..10)"),
        (("US", "2021-10-03", "TV", "two", "A"), "weekly_rank", "expected a whole number"),
        (("US", "2021-10-03", "TV", 1, ""), "show_title", "required, empty"),
        (("US", "2021-10-03", "TV", 1, "A", "N/A", 0), "cumulative_weeks_in_top_10", "out of"),
    ],
)
def test_country_row_rules(row: tuple[object, ...], field: str, reason: str) -> None:
    rows = list(read_country_charts(country_tsv([row]), REGIONS))
    [(line, got_field, got_reason)] = errors(rows)
    assert (line, got_field) == (2, field)
    assert reason in got_reason
    assert rows[0].record is None


def test_country_name_must_agree_with_code() -> None:
    data = country_tsv([("US", "2021-10-03", "TV", 1, "A")]).replace("United States", "France")
    [(line, field, reason)] = errors(list(read_country_charts(data, REGIONS)))
    assert (line, field) == (2, "country_name")
    assert "'France' is country FR, not US" in reason


def test_unknown_country_name_is_a_warning() -> None:
    data = country_tsv([("US", "2021-10-03", "TV", 1, "A")]).replace("United States", "Merica")
    [row] = list(read_country_charts(data, REGIONS))
    assert row.record is not None
    assert [(w.line, w.field) for w in row.warnings] == [(2, "country_name")]


def test_duplicate_chart_position_points_at_first_line() -> None:
    data = country_tsv(
        [
            ("US", "2021-10-03", "TV", 1, "A"),
            ("KR", "2021-10-03", "TV", 1, "B"),
            ("US", "2021-10-03", "TV", 1, "C"),
        ]
    )
    rows = list(read_country_charts(data, REGIONS))
    assert [r.record is not None for r in rows] == [True, True, False]
    [(line, field, reason)] = errors(rows)
    assert (line, field) == (4, "row")
    assert "duplicate chart position (US, 2021-10-03, SHOW, #1), first on line 2" in reason


def test_wrong_field_count_and_invalid_utf8() -> None:
    good = country_tsv([("US", "2021-10-03", "TV", 1, "A")]).encode()
    data = (
        good
        + b"United States\tUS\t2021-10-03\tTV\t2\n"
        + ("United States\tUS\t2021-10-03\tTV\t3\tB\xff\tN/A\t1\n".encode("latin-1"))
    )
    rows = list(read_country_charts(data, REGIONS))
    assert errors(rows) == [
        (3, "row", "expected 8 fields, got 5"),
        (4, "show_title", "invalid UTF-8"),
    ]


def test_wrong_header_is_a_file_error() -> None:
    with pytest.raises(InputFileError, match="missing country_iso2"):
        list(read_country_charts("country_name\tweek\n", REGIONS))
    with pytest.raises(InputFileError, match="empty"):
        list(read_country_charts("", REGIONS))


def test_global_row_and_rules() -> None:
    data = global_tsv(
        [
            ("2021-10-03", "TV (Non-English)", 1, "Squid Game", 448_730_000),
            ("2021-10-03", "Films (English)", 1, "Film A", ""),
            ("2021-10-03", "Shorts (English)", 2, "B", 10),
            ("2021-10-03", "TV (English)", 1, "C", -5),
            ("2021-10-03", "TV (Non-English)", 1, "Dup", 1),
        ]
    )
    rows = list(read_global_charts(data))
    first = rows[0].record
    assert first is not None
    assert first.kind is TitleKind.SHOW
    assert first.hours_viewed == 448_730_000
    assert first.views is None
    assert rows[1].record is not None
    assert rows[1].record.kind is TitleKind.MOVIE
    assert rows[1].record.hours_viewed is None
    got = errors(rows)
    assert [(line, field) for line, field, _ in got] == [
        (4, "category"),
        (5, "weekly_hours_viewed"),
        (6, "row"),
    ]
    assert "first on line 2" in got[2][2]


def test_viewing_rows_and_rules() -> None:
    data = viewing_csv(
        [
            ("Squid Game", "SHOW", "KR", "2021-09-20", "2021-09-26", "hours", 1500000),
            ("Squid Game", "tv", "KR", "2021-09-20", "2021-09-26", "completion_rate", 0.8),
            ("X", "SHOW", "KR", "2021-09-20", "2021-09-26", "completion_rate", 1.5),
            ("X", "Comic", "KR", "2021-09-20", "2021-09-26", "hours", 1),
            ("X", "SHOW", "ZZ", "2021-09-20", "2021-09-26", "hours", 1),
            ("X", "SHOW", "KR", "2021-09-20", "2021-09-19", "hours", 1),
            ("X", "SHOW", "KR", "2021-09-20", "2021-09-26", "Hours Viewed", 1),
            ("X", "SHOW", "KR", "2021-09-20", "2021-09-26", "hours", -1),
            ("X", "SHOW", "KR", "2021-09-20", "2021-09-26", "hours", "nan"),
            ("Squid Game", "SHOW", "KR", "2021-09-20", "2021-09-30", "hours", 7),
        ]
    )
    rows = list(read_viewing(data, REGIONS))
    assert rows[0].record is not None
    assert rows[0].record.value == 1_500_000
    assert rows[1].record is not None
    assert rows[1].record.kind is TitleKind.SHOW
    assert [(line, field) for line, field, _ in errors(rows)] == [
        (4, "value"),
        (5, "kind"),
        (6, "region"),
        (7, "period_end"),
        (8, "metric"),
        (9, "value"),
        (10, "value"),
        (11, "row"),
    ]
