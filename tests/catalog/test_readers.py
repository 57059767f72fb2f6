"""Unit tests for the catalog file readers (no database)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from server.catalog.readers import NETFLIX_COLUMNS, detect_format, read_netflix_csv, read_rows
from server.ingest.readers import read_jsonl
from server.ingest.rows import InputFileError, RawRow
from tests.catalog.netflix_csv import HEADER, csv_line


def read_csv_text(*lines: str, newline: str = "\n") -> list[RawRow]:
    return list(read_netflix_csv(newline.join([HEADER, *lines]) + newline))


def lines_and_ids(rows: list[RawRow]) -> list[tuple[int, str | None]]:
    return [(r.line, r.data["external_id"] if r.data else None) for r in rows]


# --- detect_format -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("netflix_titles.csv", "netflix-csv"),
        ("CATALOG.CSV", "netflix-csv"),
        ("titles.jsonl", "jsonl"),
        ("titles.JSONL", "jsonl"),
        ("titles.ndjson", "jsonl"),
        ("dir.v2/titles.jsonl", "jsonl"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(Path(name)) == fmt


@pytest.mark.parametrize(
    "name", ["titles.json", "titles.txt", "titles", "titles.csv.gz", "titles.tsv", ".csv"]
)
def test_detect_format_rejects_unknown_extensions(name: str) -> None:
    with pytest.raises(InputFileError) as info:
        detect_format(Path(name))
    assert "--format" in str(info.value)


def test_read_rows_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown format"):
        read_rows(path, "excel")


def test_read_rows_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.csv"):
        read_rows(tmp_path / "nope.csv", "netflix-csv")


# --- Netflix CSV: mapping ------------------------------------------------------------------------


def test_netflix_row_maps_to_canonical_dict() -> None:
    (row,) = read_csv_text(csv_line(country="United States, France,", cast=" Ana Rivera ,, Tom "))
    assert row.line == 2
    assert row.errors == []
    assert row.warnings == []
    assert row.data == {
        "external_id": "s1",
        "kind": "MOVIE",
        "name": "A Title",
        "synopsis": "A description.",
        "release_year": "2020",
        "date_added": date(2021, 9, 25),
        "maturity_rating": "PG-13",
        "duration_minutes": 90,
        "seasons": None,
        "genres": ["Dramas", "Thrillers"],
        "cast": ["Ana Rivera", "Tom"],
        "directors": ["Jo Kim"],
        "origin_countries": ["United States", "France"],
    }


def test_show_row_and_empty_optional_columns() -> None:
    (row,) = read_csv_text(
        csv_line(
            type="TV Show",
            duration="1 Season",
            director="",
            cast="",
            country="",
            date_added=" August 4, 2017",
            rating="",
            description="",
        )
    )
    assert row.data is not None
    assert row.data["kind"] == "SHOW"
    assert (row.data["seasons"], row.data["duration_minutes"]) == (1, None)
    assert row.data["directors"] == row.data["cast"] == row.data["origin_countries"] == []
    assert row.data["date_added"] == date(2017, 8, 4)
    assert row.data["maturity_rating"] is None
    assert row.data["synopsis"] is None


def test_runtime_in_rating_column_is_moved_with_a_warning() -> None:
    (row,) = read_csv_text(csv_line(show_id="s5542", rating="74 min", duration=""))
    assert row.data is not None
    assert (row.data["duration_minutes"], row.data["maturity_rating"]) == (74, None)
    assert len(row.warnings) == 1
    warning = row.warnings[0]
    assert (warning.line, warning.field, warning.external_id) == (2, "rating", "s5542")
    assert "74 min" in warning.message


def test_columns_in_another_order_and_padded_header() -> None:
    order = list(reversed(NETFLIX_COLUMNS))
    header = ", ".join(order)
    values = {c: "" for c in NETFLIX_COLUMNS}
    values.update(show_id="s7", type="Movie", title="Reversed", duration="5 min")
    text = header + "\n" + ",".join(values[c] for c in order) + "\n"
    (row,) = list(read_netflix_csv(text))
    assert row.data is not None
    assert (row.data["external_id"], row.data["name"], row.data["duration_minutes"]) == (
        "s7",
        "Reversed",
        5,
    )


# --- Netflix CSV: line numbers -------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_numbers_count_multiline_quoted_fields(newline: str) -> None:
    rows = read_csv_text(
        csv_line(show_id="s1", description=f"one{newline}two{newline}three"),
        csv_line(show_id="s2"),
        csv_line(show_id="s3", title=f"Split{newline}Title", description=f"a{newline}b"),
        csv_line(show_id="s4"),
        newline=newline,
    )
    assert lines_and_ids(rows) == [(2, "s1"), (5, "s2"), (6, "s3"), (9, "s4")]
    assert rows[0].data is not None
    assert rows[0].data["synopsis"] == f"one{newline}two{newline}three"


def test_blank_lines_are_skipped_but_counted() -> None:
    rows = read_csv_text(
        "", csv_line(show_id="s1"), "", "", csv_line(show_id="s2", description="x\ny"), ""
    )
    assert lines_and_ids(rows) == [(3, "s1"), (6, "s2")]


def test_bom_at_file_start_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + csv_line(show_id="s1") + "\n").encode("utf-8"))
    rows = list(read_rows(path, "netflix-csv"))
    assert lines_and_ids(rows) == [(2, "s1")]
    assert rows[0].errors == []


def test_bom_only_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(InputFileError, match="empty"):
        list(read_rows(path, "netflix-csv"))


def test_header_only_file_has_no_rows() -> None:
    assert list(read_netflix_csv(HEADER + "\n")) == []
    assert list(read_netflix_csv(HEADER)) == []


def test_last_line_without_newline() -> None:
    text = HEADER + "\n" + csv_line(show_id="s1") + "\n" + csv_line(show_id="s2")
    assert lines_and_ids(list(read_netflix_csv(text))) == [(2, "s1"), (3, "s2")]


# --- Netflix CSV: header errors ------------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(InputFileError, match="empty"):
        list(read_netflix_csv(""))


def test_missing_column() -> None:
    header = ",".join(c for c in NETFLIX_COLUMNS if c != "rating")
    with pytest.raises(InputFileError) as info:
        list(read_netflix_csv(header + "\n"))
    assert "line 1" in str(info.value)
    assert "missing rating" in str(info.value)


def test_extra_column() -> None:
    with pytest.raises(InputFileError) as info:
        list(read_netflix_csv(HEADER + ",imdb_score\n"))
    assert "unexpected 'imdb_score'" in str(info.value)


def test_repeated_column() -> None:
    with pytest.raises(InputFileError, match="repeated title"):
        list(read_netflix_csv(HEADER + ",title\n"))


def test_data_instead_of_header() -> None:
    with pytest.raises(InputFileError, match="wrong header"):
        list(read_netflix_csv(csv_line() + "\n"))


# --- Netflix CSV: row errors ---------------------------------------------------------------------


def test_wrong_field_count() -> None:
    good = csv_line(show_id="s1")
    rows = read_csv_text(good, good.rsplit(",", 1)[0].replace("s1", "s2", 1), good + ",extra")
    assert [(r.line, r.data is None) for r in rows] == [(2, False), (3, True), (4, True)]
    short, long_ = rows[1].errors, rows[2].errors
    assert [(e.line, e.field, e.external_id) for e in short] == [(3, "row", "s2")]
    assert "expected 12 fields, got 11" in short[0].reason
    assert [(e.line, e.field) for e in long_] == [(4, "row")]
    assert "got 13" in long_[0].reason


@pytest.mark.parametrize(
    ("values", "field_name", "word"),
    [
        ({"type": "Film"}, "type", "unknown type"),
        ({"type": "movie"}, "type", "unknown type"),
        ({"duration": "ninety"}, "duration", "bad duration"),
        ({"duration": "2 Seasons"}, "duration", "Movie"),
        ({"type": "TV Show", "duration": "45 min"}, "duration", "TV Show"),
        ({"date_added": "2021-09-25"}, "date_added", "bad date"),
        ({"date_added": "February 30, 2021"}, "date_added", "bad date"),
    ],
)
def test_reader_row_errors(values: dict[str, str], field_name: str, word: str) -> None:
    rows = read_csv_text(csv_line(show_id="ok1"), csv_line(show_id="bad", **values))
    assert rows[0].data is not None
    bad = rows[1]
    assert bad.data is None
    assert [(e.line, e.field, e.external_id) for e in bad.errors] == [(3, field_name, "bad")]
    assert word in bad.errors[0].reason


def test_invalid_utf8_rejects_only_its_row(tmp_path: Path) -> None:
    body = "\n".join(
        [
            HEADER,
            csv_line(show_id="s1", description="first\nrow"),
            csv_line(show_id="s2", description="bad @@ byte"),
            csv_line(show_id="s3", title="Café"),
        ]
    )
    path = tmp_path / "bad.csv"
    path.write_bytes(body.encode("utf-8").replace(b"@@", b"\xff"))
    rows = list(read_rows(path, "netflix-csv"))
    assert [r.line for r in rows] == [2, 4, 5]
    assert rows[0].data is not None
    assert rows[2].data is not None
    assert rows[2].data["name"] == "Café"
    assert rows[1].data is None
    assert [(e.line, e.field, e.reason, e.external_id) for e in rows[1].errors] == [
        (4, "description", "invalid UTF-8", "s2")
    ]


def test_empty_show_id_passes_through_for_the_validator() -> None:
    (row,) = read_csv_text(csv_line(show_id=""))
    assert row.data is not None
    assert row.data["external_id"] == ""


# --- JSONL ---------------------------------------------------------------------------------------


def test_jsonl_line_numbers_and_blank_lines() -> None:
    text = "\n".join(
        [
            json.dumps({"external_id": "j1"}),
            "",
            "   ",
            json.dumps({"external_id": "j2"}),
            "{not json",
            "[1, 2]",
            '"text"',
            json.dumps({"external_id": "j3"}),
        ]
    )
    rows = list(read_jsonl(text))
    assert [(r.line, r.data) for r in rows] == [
        (1, {"external_id": "j1"}),
        (4, {"external_id": "j2"}),
        (5, None),
        (6, None),
        (7, None),
        (8, {"external_id": "j3"}),
    ]
    assert [(e.line, e.field) for r in rows for e in r.errors] == [
        (5, "row"),
        (6, "row"),
        (7, "row"),
    ]
    assert "invalid JSON" in rows[2].errors[0].reason
    assert "object" in rows[3].errors[0].reason
    assert "object" in rows[4].errors[0].reason


def test_jsonl_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"external_id": "j1"}\r\n\r\n{"external_id": "j2"}\r\n')
    rows = list(read_rows(path, "jsonl"))
    assert [(r.line, r.data) for r in rows] == [
        (1, {"external_id": "j1"}),
        (3, {"external_id": "j2"}),
    ]


def test_jsonl_invalid_utf8_rejects_only_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"external_id": "j1"}\n{"name": "\xff"}\n{"external_id": "j3"}\n')
    rows = list(read_rows(path, "jsonl"))
    assert [(r.line, r.data is None) for r in rows] == [(1, False), (2, True), (3, False)]
    assert [(e.line, e.field, e.reason) for e in rows[1].errors] == [(2, "row", "invalid UTF-8")]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_jsonl_unicode_line_separators_inside_strings(separator: str) -> None:
    """JSON allows U+2028/U+2029/U+0085 unescaped inside strings; they are not line breaks
    (only \\n and \\r\\n end a JSONL record), so the record loads and later line numbers hold."""
    first = json.dumps({"external_id": "j1", "synopsis": f"a{separator}b"}, ensure_ascii=False)
    text = first + "\n" + json.dumps({"external_id": "j2"}) + "\n{bad\n"
    rows = list(read_jsonl(text))
    assert [(r.line, r.data) for r in rows] == [
        (1, {"external_id": "j1", "synopsis": f"a{separator}b"}),
        (2, {"external_id": "j2"}),
        (3, None),
    ]


# --- progress ------------------------------------------------------------------------------------


def test_csv_progress_reports_everything_consumed() -> None:
    text = HEADER + "\n" + "\n".join(csv_line(show_id=f"s{i}") for i in range(400)) + "\n"
    calls: list[int] = []
    rows = list(read_netflix_csv(text, calls.append))
    assert len(rows) == 400
    assert calls
    assert calls == sorted(calls)
    assert calls[-1] == len(text)
