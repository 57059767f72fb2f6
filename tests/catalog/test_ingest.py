"""Catalog ingest against the real Postgres: the real catalog, updates, bad input, strict mode,
atomicity and the canonical JSONL format."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from server.catalog import ingest
from server.catalog.ingest import IngestSummary, StrictModeError, ingest_catalog_file
from server.catalog.readers import NETFLIX_COLUMNS
from server.ingest.rows import InputFileError, RowError
from server.kit.countries import CountryResolver
from tests.catalog.netflix_csv import HEADER, csv_record, netflix_row, write_csv
from tests.conftest import NETFLIX_CSV, requires_shared_data

TABLES = ("titles", "tags", "title_tags", "people", "credits", "countries", "title_countries")

# --- helpers -------------------------------------------------------------------------------------


def write_jsonl(path: Path, lines: list[str | dict[str, Any]]) -> Path:
    body = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_text(body + "\n", encoding="utf-8")
    return path


def counts(conn: Connection) -> dict[str, int]:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def snapshot(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every catalog table with its physical location (an UPDATE, or a DELETE and
    re-INSERT, moves a row even when its values end up the same)."""
    queries = {
        "titles": "SELECT ctid::text, id, external_id, content_hash, updated_at FROM titles",
        "tags": "SELECT ctid::text, id, kind::text, name FROM tags",
        "title_tags": "SELECT ctid::text, title_id, tag_id, weight, source::text FROM title_tags",
        "people": "SELECT ctid::text, id, name FROM people",
        "credits": "SELECT ctid::text, title_id, role::text, position, person_id FROM credits",
        "countries": "SELECT ctid::text, code, name FROM countries",
        "title_countries": "SELECT ctid::text, title_id, country_code, position "
        "FROM title_countries",
    }
    return {t: sorted(tuple(r) for r in conn.execute(text(q))) for t, q in queries.items()}


def title_row(conn: Connection, external_id: str) -> dict[str, Any]:
    row = conn.execute(
        text("SELECT * FROM titles WHERE external_id = :e"), {"e": external_id}
    ).mappings()
    return dict(row.one())


def tags_of(conn: Connection, external_id: str) -> list[tuple[str, str, float, str]]:
    rows = conn.execute(
        text(
            "SELECT g.kind::text, g.name, tt.weight, tt.source::text FROM title_tags tt "
            "JOIN tags g ON g.id = tt.tag_id JOIN titles t ON t.id = tt.title_id "
            "WHERE t.external_id = :e ORDER BY g.kind, g.name"
        ),
        {"e": external_id},
    )
    return [(k, n, round(float(w), 4), s) for k, n, w, s in rows]


def credits_of(conn: Connection, external_id: str, role: str) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT p.name FROM credits c JOIN people p ON p.id = c.person_id "
                "JOIN titles t ON t.id = c.title_id "
                "WHERE t.external_id = :e AND c.role = CAST(:r AS credit_role) ORDER BY c.position"
            ),
            {"e": external_id, "r": role},
        ).scalars()
    )


def countries_of(conn: Connection, external_id: str) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT tc.country_code FROM title_countries tc "
                "JOIN titles t ON t.id = tc.title_id WHERE t.external_id = :e ORDER BY tc.position"
            ),
            {"e": external_id},
        ).scalars()
    )


def external_ids(conn: Connection, prefix: str) -> list[str]:
    return sorted(
        conn.execute(
            text("SELECT external_id FROM titles WHERE external_id LIKE :p"), {"p": prefix + "%"}
        ).scalars()
    )


def error_keys(summary: IngestSummary) -> list[tuple[int, str, str | None]]:
    return [(e.line, e.field, e.external_id) for e in summary.rejected]


# --- 1. the real catalog -------------------------------------------------------------------------


def _collapse_split(value: str) -> list[str]:
    """Comma-separated names, whitespace collapsed, de-duplicated case-insensitively."""
    out: list[str] = []
    seen: set[str] = set()
    for part in value.split(","):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def _expected_from_csv(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    resolver = CountryResolver.default()
    genres: set[str] = set()
    people: set[str] = set()
    codes: set[str] = set()
    title_tags = cast_credits = director_credits = title_countries = 0
    for row in rows:
        row_genres = _collapse_split(row["listed_in"])
        cast = _collapse_split(row["cast"])
        directors = _collapse_split(row["director"])
        row_codes = {resolver.resolve(c) for c in _collapse_split(row["country"])}
        assert None not in row_codes, row["show_id"]
        genres.update(row_genres)
        people.update(cast, directors)
        codes.update(c for c in row_codes if c)
        title_tags += len(row_genres)
        cast_credits += len(cast)
        director_credits += len(directors)
        title_countries += len(row_codes)
    return {
        "rows": {r["show_id"]: r for r in rows},
        "kinds": Counter(r["type"] for r in rows),
        "genres": genres,
        "people": people,
        "codes": codes,
        "title_tags": title_tags,
        "cast_credits": cast_credits,
        "director_credits": director_credits,
        "title_countries": title_countries,
    }


@requires_shared_data
@pytest.mark.slow
def test_real_catalog_ingest_then_reingest_is_a_no_op(conn: Connection) -> None:
    assert counts(conn) == dict.fromkeys(TABLES, 0), "the test database must start empty"
    expected = _expected_from_csv(NETFLIX_CSV)
    assert len(expected["rows"]) == 8807
    assert expected["kinds"] == {"Movie": 6131, "TV Show": 2676}
    assert len(expected["genres"]) == 42
    assert len(expected["codes"]) == 121

    summary = ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")

    assert (summary.inserted, summary.updated, summary.unchanged) == (8807, 0, 0)
    assert summary.rejected == []
    assert summary.written is True
    assert summary.rejects_file is None
    assert sorted((w.external_id, w.line, w.field) for w in summary.warnings) == [
        ("s5542", 5543, "rating"),
        ("s5795", 5796, "rating"),
        ("s5814", 5815, "rating"),
    ]
    runtime_fix = conn.execute(
        text(
            "SELECT external_id, duration_minutes, maturity_rating, seasons FROM titles "
            "WHERE external_id IN ('s5542', 's5795', 's5814') ORDER BY external_id"
        )
    ).all()
    assert [tuple(r) for r in runtime_fix] == [
        ("s5542", 74, None, None),
        ("s5795", 84, None, None),
        ("s5814", 66, None, None),
    ]

    # Table contents, computed independently from the CSV.
    kinds = dict(conn.execute(text("SELECT kind::text, count(*) FROM titles GROUP BY 1")).all())
    assert kinds == {"MOVIE": 6131, "SHOW": 2676}
    assert set(conn.execute(text("SELECT external_id FROM titles")).scalars()) == set(
        expected["rows"]
    )
    tag_rows = conn.execute(text("SELECT kind::text, name FROM tags")).all()
    assert {k for k, _ in tag_rows} == {"GENRE"}
    assert {n for _, n in tag_rows} == expected["genres"]
    assert len(tag_rows) == 42
    sources = conn.execute(
        text("SELECT source::text, min(weight), max(weight), count(*) FROM title_tags GROUP BY 1")
    ).all()
    assert [tuple(r) for r in sources] == [("catalog", 1.0, 1.0, expected["title_tags"])]
    roles = dict(conn.execute(text("SELECT role::text, count(*) FROM credits GROUP BY 1")).all())
    assert roles == {"CAST": expected["cast_credits"], "DIRECTOR": expected["director_credits"]}
    assert set(conn.execute(text("SELECT name FROM people")).scalars()) == expected["people"]
    assert set(conn.execute(text("SELECT code FROM countries")).scalars()) == expected["codes"]
    assert counts(conn) == {
        "titles": 8807,
        "tags": 42,
        "title_tags": expected["title_tags"],
        "people": len(expected["people"]),
        "credits": expected["cast_credits"] + expected["director_credits"],
        "countries": 121,
        "title_countries": expected["title_countries"],
    }

    # Spot checks.
    s1 = title_row(conn, "s1")
    assert s1["kind"] == "MOVIE"
    assert s1["name"] == "Dick Johnson Is Dead"
    assert (s1["duration_minutes"], s1["seasons"]) == (90, None)
    assert s1["release_year"] == 2020
    assert s1["date_added"] == date(2021, 9, 25)
    assert s1["maturity_rating"] == "PG-13"
    assert s1["synopsis"] == expected["rows"]["s1"]["description"]
    assert s1["original_language"] is None
    assert countries_of(conn, "s1") == ["US"]
    assert credits_of(conn, "s1", "DIRECTOR") == ["Kirsten Johnson"]
    assert credits_of(conn, "s1", "CAST") == []
    assert tags_of(conn, "s1") == [("GENRE", "Documentaries", 1.0, "catalog")]

    s2 = title_row(conn, "s2")
    assert s2["kind"] == "SHOW"
    assert s2["name"] == "Blood & Water"
    assert (s2["seasons"], s2["duration_minutes"]) == (2, None)
    assert s2["maturity_rating"] == "TV-MA"
    assert countries_of(conn, "s2") == ["ZA"]
    assert [name for _, name, _, _ in tags_of(conn, "s2")] == [
        "International TV Shows",
        "TV Dramas",
        "TV Mysteries",
    ]
    s2_cast = credits_of(conn, "s2", "CAST")
    assert s2_cast == [c.strip() for c in expected["rows"]["s2"]["cast"].split(",")]
    assert s2_cast[:3] == ["Ama Qamata", "Khosi Ngema", "Gail Mabalane"]
    assert s2_cast[-1] == "Patrick Mofokeng"
    assert len(s2_cast) == 19
    assert credits_of(conn, "s2", "DIRECTOR") == []

    # Re-ingesting the same file on the same connection writes nothing at all.
    before = snapshot(conn)
    again = ingest_catalog_file(conn, NETFLIX_CSV, fmt="netflix-csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 8807)
    assert again.rejected == []
    assert len(again.warnings) == 3
    assert again.written is False
    assert again.changed is False
    assert snapshot(conn) == before


# --- 2. updates ----------------------------------------------------------------------------------


def _three_titles(**changes: str) -> list[str | dict[str, str]]:
    second = netflix_row(
        show_id="up2",
        title="Second",
        description="Original description.",
        listed_in="Dramas, Thrillers",
        cast="Ana Rivera, Tom Baker",
        country="United States, France",
    )
    second.update(changes)
    return [
        netflix_row(show_id="up1", title="First"),
        second,
        netflix_row(show_id="up3", title="Third", type="TV Show", duration="3 Seasons"),
    ]


def test_a_bulk_ingest_refreshes_the_planner_statistics(conn: Connection, tmp_path: Path) -> None:
    """Without it, a plan cached while the catalog was small keeps its join order (a
    credits-by-title query ran for minutes after the real catalog was ingested)."""
    n = ingest.ANALYZE_AFTER_TITLES + 37
    rows = [netflix_row(show_id=f"bulk{i}", title=f"Bulk {i}") for i in range(n)]
    summary = ingest_catalog_file(conn, write_csv(tmp_path / "bulk.csv", rows), fmt="netflix-csv")
    assert summary.inserted == n

    def estimated(table: str) -> float:
        return float(
            conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": table},
            ).scalar_one()
        )

    # ANALYZE reads every row of a table this small, its own uncommitted ones included.
    assert estimated("titles") == n
    assert estimated("credits") == 3 * n  # a director and two cast members each


def test_changed_row_is_updated_in_place(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", _three_titles())
    first = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    original = title_row(conn, "up2")
    # An editor's tag on the title that is about to change.
    conn.execute(text("INSERT INTO tags (kind, name) VALUES ('THEME', 'editor pick')"))
    conn.execute(
        text(
            "INSERT INTO title_tags (title_id, tag_id, weight, source) SELECT :t, id, 0.5, "
            "'manual' FROM tags WHERE kind = 'THEME' AND name = 'editor pick'"
        ),
        {"t": original["id"]},
    )
    before = snapshot(conn)
    before_counts = counts(conn)

    write_csv(
        path, _three_titles(description="A brand new description.", listed_in="Comedies, Anime")
    )
    second = ingest_catalog_file(conn, path, fmt="netflix-csv")

    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 2)
    assert second.written is True
    updated = title_row(conn, "up2")
    assert updated["id"] == original["id"]
    assert updated["synopsis"] == "A brand new description."
    assert updated["content_hash"] != original["content_hash"]
    assert updated["created_at"] == original["created_at"]
    assert tags_of(conn, "up2") == [
        ("GENRE", "Anime", 1.0, "catalog"),
        ("GENRE", "Comedies", 1.0, "catalog"),
        ("THEME", "editor pick", 0.5, "manual"),
    ]
    # Unchanged relations of the updated title are rebuilt identically.
    assert credits_of(conn, "up2", "CAST") == ["Ana Rivera", "Tom Baker"]
    assert countries_of(conn, "up2") == ["US", "FR"]
    # The other two titles were not touched at all.
    after = snapshot(conn)
    other_ids = {t[1] for t in before["titles"] if t[2] != "up2"}
    for table in ("title_tags", "credits", "title_countries"):
        assert [r for r in after[table] if r[1] in other_ids] == [
            r for r in before[table] if r[1] in other_ids
        ], table
    assert [r for r in after["titles"] if r[2] != "up2"] == [
        r for r in before["titles"] if r[2] != "up2"
    ]
    assert [r for r in after["titles"] if r[2] == "up2"] != [
        r for r in before["titles"] if r[2] == "up2"
    ]
    # Old genre tags stay in the tag vocabulary; two new ones were added.
    assert counts(conn)["tags"] == before_counts["tags"] + 2
    assert counts(conn)["title_tags"] == before_counts["title_tags"]

    third = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert (third.inserted, third.updated, third.unchanged) == (0, 0, 3)


def test_update_replaces_credits_and_countries(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", _three_titles())
    ingest_catalog_file(conn, path, fmt="netflix-csv")
    write_csv(
        path,
        _three_titles(cast="Tom Baker, Zoe Adams", director="", country="France, Japan"),
    )
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 2)
    assert credits_of(conn, "up2", "CAST") == ["Tom Baker", "Zoe Adams"]
    assert credits_of(conn, "up2", "DIRECTOR") == []
    assert countries_of(conn, "up2") == ["FR", "JP"]
    assert credits_of(conn, "up1", "CAST") == ["Ana Rivera", "Tom Baker"]
    assert countries_of(conn, "up1") == ["US"]


def test_new_rows_are_inserted_next_to_unchanged_ones(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", _three_titles()[:2])
    ingest_catalog_file(conn, path, fmt="netflix-csv")
    write_csv(path, _three_titles())
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 0, 2)
    assert external_ids(conn, "up") == ["up1", "up2", "up3"]


# --- 3. bad input --------------------------------------------------------------------------------

# Each case: the bad record's CSV values, the field(s) it may be reported under (the CSV column
# or its canonical name) and a word the reason must contain.
BAD_CSV_ROWS: dict[str, tuple[dict[str, str], set[str], str]] = {
    "year_abc": ({"release_year": "abc"}, {"release_year"}, "year"),
    "year_1500": ({"release_year": "1500"}, {"release_year"}, "year"),
    "year_2999": ({"release_year": "2999"}, {"release_year"}, "year"),
    "type_film": ({"type": "Film"}, {"type", "kind"}, "type"),
    "missing_id": ({"show_id": ""}, {"show_id", "external_id"}, "missing"),
    "bad_id": ({"show_id": "s 9"}, {"show_id", "external_id"}, "letters"),
    "title_301": ({"title": "T" * 301}, {"title", "name"}, "over-long"),
    "missing_title": ({"title": "  "}, {"title", "name"}, "missing"),
    "description_4001": ({"description": "d" * 4001}, {"description", "synopsis"}, "over-long"),
    "cast_201": ({"cast": "Ana Rivera, " + "c" * 201}, {"cast"}, "over-long"),
    "director_201": ({"director": "D" * 201}, {"director", "directors"}, "over-long"),
    "rating_17": ({"rating": "R" * 17}, {"rating", "maturity_rating"}, "over-long"),
    "invalid_utf8": ({"description": "caf@XFF@ noir"}, {"description", "synopsis"}, "UTF-8"),
    "bad_date": ({"date_added": "Septober 5, 2021"}, {"date_added"}, "date"),
    "future_date": (
        {"date_added": (date.today() + timedelta(days=3)).strftime("%B %d, %Y")},
        {"date_added"},
        "future",
    ),
    "duration_ninety": ({"duration": "ninety"}, {"duration", "duration_minutes"}, "duration"),
    "duration_zero": ({"duration": "0 min"}, {"duration", "duration_minutes"}, "outside"),
    "seasons_on_movie": ({"duration": "2 Seasons"}, {"duration", "seasons"}, "Movie"),
    "minutes_on_show": (
        {"type": "TV Show", "duration": "45 min"},
        {"duration", "duration_minutes"},
        "Show",
    ),
}


def _bad_file(tmp_path: Path, bad: str | dict[str, str]) -> Path:
    """Good row ``g1`` on lines 2-4 (multi-line description), the bad row on line 5, good row
    ``g2`` on line 6."""
    return write_csv(
        tmp_path / "bad.csv",
        [
            netflix_row(show_id="g1", description="Spans\nthree\nlines."),
            bad,
            netflix_row(show_id="g2", title="Second Good"),
        ],
    )


@pytest.mark.parametrize("case", list(BAD_CSV_ROWS))
def test_bad_csv_row_is_rejected_with_line_field_and_reason(
    conn: Connection, tmp_path: Path, case: str
) -> None:
    values, fields, word = BAD_CSV_ROWS[case]
    path = _bad_file(tmp_path, netflix_row(**{"show_id": "bad1", **values}))
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")

    assert len(summary.rejected) == 1, summary.rejected
    error = summary.rejected[0]
    assert error.line == 5
    assert error.field in fields
    assert word in error.reason, error.reason
    if case == "missing_id":
        assert error.external_id is None
    elif case != "bad_id":
        assert error.external_id == "bad1"
    assert summary.rejected_rows == 1
    assert (summary.inserted, summary.updated, summary.unchanged) == (2, 0, 0)
    assert external_ids(conn, "g") == ["g1", "g2"]
    assert external_ids(conn, "bad") == []


def test_duplicate_id_later_row_is_rejected(conn: Connection, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, netflix_row(show_id="g1", title="Impostor"))
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert error_keys(summary) == [(5, "show_id", "g1")]
    assert "duplicate" in summary.rejected[0].reason
    assert "line 2" in summary.rejected[0].reason
    assert summary.inserted == 2
    assert title_row(conn, "g1")["name"] == "A Title"


def test_wrong_field_count(conn: Connection, tmp_path: Path) -> None:
    short = csv_record(netflix_row(show_id="bad1")).rsplit(",", 1)[0]
    path = _bad_file(tmp_path, short)
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert [(e.line, e.field) for e in summary.rejected] == [(5, "row")]
    assert "fields" in summary.rejected[0].reason
    assert summary.inserted == 2


def test_unknown_country_is_a_warning_and_the_row_loads(conn: Connection, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, netflix_row(show_id="w1", country="United States, Atlantis, France"))
    before = counts(conn)["countries"]
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert summary.rejected == []
    assert summary.inserted == 3
    assert [(w.line, w.field, w.external_id) for w in summary.warnings] == [(5, "country", "w1")]
    assert "Atlantis" in summary.warnings[0].message
    assert countries_of(conn, "w1") == ["US", "FR"]
    assert "Atlantis" not in set(conn.execute(text("SELECT name FROM countries")).scalars())
    assert counts(conn)["countries"] <= before + 2


def test_mixed_file_rejects_exactly_the_bad_rows(conn: Connection, tmp_path: Path) -> None:
    records: list[str | dict[str, str]] = [
        netflix_row(show_id="m1", description="first\nsecond"),  # lines 2-3
    ]
    expected: list[tuple[int, set[str]]] = []
    line = 4
    for number, (values, fields, _word) in enumerate(BAD_CSV_ROWS.values()):
        records.append(netflix_row(**{"show_id": f"x{number}", **values}))
        expected.append((line, fields))
        line += 1
        records.append(netflix_row(show_id=f"m{number + 2}", description="a\n\nb"))
        line += 3
    records.append(netflix_row(show_id="m1", title="Duplicate"))
    expected.append((line, {"show_id"}))
    line += 1
    records.append(csv_record(netflix_row(show_id="x99")) + ",extra")
    expected.append((line, {"row"}))
    line += 1
    records.append(netflix_row(show_id="w1", country="Narnia, Japan"))
    path = write_csv(tmp_path / "mixed.csv", records)
    rejects = tmp_path / "out" / "r.csv"

    summary = ingest_catalog_file(conn, path, fmt="netflix-csv", rejects_path=rejects)

    good = 1 + len(BAD_CSV_ROWS) + 1
    assert (summary.inserted, summary.updated, summary.unchanged) == (good, 0, 0)
    assert [e.line for e in summary.rejected] == [line for line, _ in expected]
    for error, (_, fields) in zip(summary.rejected, expected, strict=True):
        assert error.field in fields, error
    assert summary.rejected_rows == len(expected)
    assert [(w.line, w.field) for w in summary.warnings] == [(line, "country")]
    assert sorted(external_ids(conn, "m")) == sorted(
        ["m1"] + [f"m{n + 2}" for n in range(len(BAD_CSV_ROWS))]
    )
    assert external_ids(conn, "x") == []
    assert countries_of(conn, "w1") == ["JP"]

    assert summary.rejects_file == rejects
    with rejects.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["line", "external_id", "field", "reason"]
    assert lines[1:] == [
        [str(e.line), e.external_id or "", e.field, e.reason] for e in summary.rejected
    ]
    assert len(lines) == 1 + len(expected)


def test_no_rejects_file_when_nothing_is_rejected(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", [netflix_row(show_id="ok1")])
    rejects = tmp_path / "r.csv"
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv", rejects_path=rejects)
    assert summary.rejects_file is None
    assert not rejects.exists()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (",".join(c for c in NETFLIX_COLUMNS if c != "country"), "missing country"),
        (HEADER + ",imdb_score", "imdb_score"),
        ("", "empty"),
    ],
    ids=["missing_column", "extra_column", "empty_file"],
)
def test_wrong_header_writes_nothing(
    conn: Connection, tmp_path: Path, header: str, message: str
) -> None:
    path = tmp_path / "h.csv"
    if header:
        path.write_text(header + "\n" + csv_record(netflix_row(show_id="h1")) + "\n")
    else:
        path.write_bytes(b"")
    before = snapshot(conn)
    with pytest.raises(InputFileError, match=message):
        ingest_catalog_file(conn, path, fmt="netflix-csv", rejects_path=tmp_path / "r.csv")
    assert snapshot(conn) == before
    assert not (tmp_path / "r.csv").exists()


def test_missing_file(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(InputFileError):
        ingest_catalog_file(conn, tmp_path / "absent.csv", fmt="netflix-csv")


def test_header_only_file_changes_nothing(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "empty.csv", [])
    before = snapshot(conn)
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert (summary.inserted, summary.updated, summary.unchanged, summary.rejected) == (
        0,
        0,
        0,
        [],
    )
    assert summary.written is False
    assert snapshot(conn) == before


def test_nul_byte_in_a_name_rejects_only_its_row(conn: Connection, tmp_path: Path) -> None:
    """Postgres text cannot hold NUL; such a row must be rejected, not abort the whole COPY."""
    path = _bad_file(tmp_path, netflix_row(show_id="bad1", cast="Ana\x00Rivera, Tom Baker"))
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert [(e.line, e.field) for e in summary.rejected] == [(5, "cast")]
    assert external_ids(conn, "g") == ["g1", "g2"]


def test_progress_reports_bytes_and_phases(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [netflix_row(show_id=f"p{i}", title=f"Amélie n°{i} — ☃") for i in range(50)],
    )
    calls: list[tuple[str, int, int]] = []
    ingest_catalog_file(
        conn, path, fmt="netflix-csv", progress=lambda *a: calls.append((a[0], a[1], a[2]))
    )
    size = path.stat().st_size
    reads = [c for c in calls if c[0] == "read"]
    assert reads
    assert all(total == size for _, _, total in reads)
    assert reads[-1][1] == size, "the read phase must end at 100% of the file's bytes"
    assert ("stage", 50, 50) in calls
    merges = [c for c in calls if c[0] == "merge"]
    assert merges[-1][1] == merges[-1][2] == len(ingest._MERGE_STEPS)


# --- 4. strict mode ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        netflix_row(show_id="bad1", release_year="abc"),
        netflix_row(show_id="bad1", description="x@XFF@"),
        netflix_row(show_id="g1"),
        csv_record(netflix_row(show_id="bad1")) + ",extra",
    ],
    ids=["bad_year", "invalid_utf8", "duplicate_id", "field_count"],
)
def test_strict_mode_writes_nothing(
    conn: Connection, tmp_path: Path, bad: str | dict[str, str]
) -> None:
    existing = write_csv(tmp_path / "existing.csv", [netflix_row(show_id="g1", title="Old")])
    ingest_catalog_file(conn, existing, fmt="netflix-csv")
    before = snapshot(conn)
    before_counts = counts(conn)
    path = write_csv(
        tmp_path / "strict.csv",
        [netflix_row(show_id="g1", title="New"), bad, netflix_row(show_id="g2")],
    )
    rejects = tmp_path / "r.csv"

    with pytest.raises(StrictModeError) as info:
        ingest_catalog_file(conn, path, fmt="netflix-csv", strict=True, rejects_path=rejects)

    assert [e.line for e in info.value.summary.rejected] == [3]
    assert info.value.summary.written is False
    assert "nothing written" in str(info.value)
    assert counts(conn) == before_counts
    assert snapshot(conn) == before
    assert title_row(conn, "g1")["name"] == "Old"
    assert rejects.exists()


def test_strict_mode_with_a_clean_file_ingests(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", [netflix_row(show_id="k1"), netflix_row(show_id="k2")])
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv", strict=True)
    assert summary.inserted == 2


def test_strict_mode_allows_warnings(conn: Connection, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", [netflix_row(show_id="k1", country="Atlantis")])
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv", strict=True)
    assert summary.inserted == 1
    assert len(summary.warnings) == 1


# --- 5. atomicity --------------------------------------------------------------------------------


def _failing_steps(position: int) -> tuple[str, ...]:
    steps = ingest._MERGE_STEPS
    return (*steps[:position], "SELECT 1/0", *steps[position:])


@pytest.fixture
def atomic_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "atomic.csv",
        [
            netflix_row(show_id=f"atomic{i}", cast=f"Atomic Actor {i}", listed_in="Atomic Genre")
            for i in range(5)
        ],
    )


@pytest.fixture
def own_connection(engine: Engine) -> Iterator[Connection]:
    """A second connection outside the ``conn`` fixture; removes anything that leaks out."""
    with engine.connect() as connection:
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            with engine.begin() as cleanup:  # only does something if an ingest committed
                cleanup.execute(text("DELETE FROM titles WHERE external_id LIKE 'atomic%'"))
                cleanup.execute(text("DELETE FROM people WHERE name LIKE 'Atomic Actor%'"))
                cleanup.execute(text("DELETE FROM tags WHERE name = 'Atomic Genre'"))


def _visible_atomic_titles(engine: Engine) -> int:
    with engine.connect() as other:
        return other.execute(
            text("SELECT count(*) FROM titles WHERE external_id LIKE 'atomic%'")
        ).scalar_one()


def test_ingest_never_commits_on_its_own(
    engine: Engine, own_connection: Connection, atomic_file: Path
) -> None:
    transaction = own_connection.begin()
    summary = ingest_catalog_file(own_connection, atomic_file, fmt="netflix-csv")
    assert summary.inserted == 5
    assert transaction.is_active
    assert own_connection.get_transaction() is transaction
    assert _visible_atomic_titles(engine) == 0  # nothing committed yet
    transaction.rollback()
    assert _visible_atomic_titles(engine) == 0


@pytest.mark.parametrize("position", [1, 4, 6, len(ingest._MERGE_STEPS)])
def test_crash_mid_merge_leaves_nothing_behind(
    engine: Engine,
    own_connection: Connection,
    atomic_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    position: int,
) -> None:
    monkeypatch.setattr(ingest, "_MERGE_STEPS", _failing_steps(position))
    with pytest.raises(DBAPIError, match="division by zero"), own_connection.begin():
        ingest_catalog_file(own_connection, atomic_file, fmt="netflix-csv")
    assert _visible_atomic_titles(engine) == 0
    people = own_connection.execute(
        text("SELECT count(*) FROM people WHERE name LIKE 'Atomic Actor%'")
    ).scalar_one()
    assert people == 0
    own_connection.rollback()


def test_interrupt_while_staging_leaves_nothing_behind(
    engine: Engine,
    own_connection: Connection,
    atomic_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_copy = ingest.copy_rows
    tables: list[str] = []

    def copy_then_interrupt(conn: Connection, table: str, *args: Any, **kwargs: Any) -> None:
        tables.append(table)
        if table == "stage_credits":
            raise KeyboardInterrupt
        real_copy(conn, table, *args, **kwargs)

    monkeypatch.setattr(ingest, "copy_rows", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt), own_connection.begin():
        ingest_catalog_file(own_connection, atomic_file, fmt="netflix-csv")
    assert tables == ["stage_titles", "stage_title_tags", "stage_credits"]
    assert _visible_atomic_titles(engine) == 0


def test_failed_update_inside_savepoint_restores_previous_state(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "c.csv", _three_titles())
    ingest_catalog_file(conn, path, fmt="netflix-csv")
    before = snapshot(conn)
    write_csv(path, _three_titles(listed_in="Comedies", cast="Zoe Adams"))
    # Fail after titles were updated and their old tags, credits and countries deleted.
    monkeypatch.setattr(ingest, "_MERGE_STEPS", _failing_steps(5))

    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match="division by zero"):
        ingest_catalog_file(conn, path, fmt="netflix-csv")
    assert savepoint.is_active  # the ingest neither committed nor ended the transaction
    savepoint.rollback()

    assert snapshot(conn) == before
    assert tags_of(conn, "up2") == [
        ("GENRE", "Dramas", 1.0, "catalog"),
        ("GENRE", "Thrillers", 1.0, "catalog"),
    ]
    monkeypatch.undo()
    summary = ingest_catalog_file(conn, path, fmt="netflix-csv")  # the connection still works
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 2)


# --- 6. canonical JSONL --------------------------------------------------------------------------


def jsonl_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": "j1",
        "kind": "MOVIE",
        "name": "JSON Movie",
        "synopsis": "From the canonical format.",
        "release_year": 2018,
        "date_added": "2020-02-29",
        "maturity_rating": "R",
        "duration_minutes": 118,
        "original_language": "EN",
        "genres": ["Dramas", "Thrillers"],
        "tags": [
            {"kind": "THEME", "name": "revenge", "weight": 0.8},
            {"kind": "mood", "name": "dark", "weight": 0.25},
            {"kind": "GENRE", "name": "Dramas", "weight": 0.5},
        ],
        "cast": ["Ana Rivera"],
        "directors": ["Jo Kim"],
        "origin_countries": ["US", "France", "kr"],
    }
    record.update(overrides)
    return record


def test_valid_jsonl_loads(conn: Connection, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            jsonl_record(),
            "",
            {
                "external_id": "j2",
                "kind": "SHOW",
                "name": "JSON Show",
                "seasons": 4,
                "original_language": "ko",
                "origin_countries": ["South Korea"],
            },
        ],
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert (summary.inserted, summary.updated, summary.unchanged) == (2, 0, 0)
    assert summary.rejected == summary.warnings == []

    j1 = title_row(conn, "j1")
    assert (j1["kind"], j1["name"], j1["duration_minutes"], j1["seasons"]) == (
        "MOVIE",
        "JSON Movie",
        118,
        None,
    )
    assert (j1["release_year"], j1["date_added"], j1["maturity_rating"]) == (
        2018,
        date(2020, 2, 29),
        "R",
    )
    assert j1["original_language"] == "en"
    assert tags_of(conn, "j1") == [
        ("GENRE", "Dramas", 1.0, "catalog"),
        ("GENRE", "Thrillers", 1.0, "catalog"),
        ("THEME", "revenge", 0.8, "catalog"),
        ("MOOD", "dark", 0.25, "catalog"),
    ]
    assert countries_of(conn, "j1") == ["US", "FR", "KR"]
    assert credits_of(conn, "j1", "CAST") == ["Ana Rivera"]
    assert credits_of(conn, "j1", "DIRECTOR") == ["Jo Kim"]
    j2 = title_row(conn, "j2")
    assert (j2["kind"], j2["seasons"], j2["duration_minutes"], j2["original_language"]) == (
        "SHOW",
        4,
        None,
        "ko",
    )
    assert tags_of(conn, "j2") == []
    assert countries_of(conn, "j2") == ["KR"]

    again = ingest_catalog_file(conn, path, fmt="jsonl")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


BAD_JSONL: dict[str, tuple[str, str, str]] = {
    "invalid_json": ('{"external_id": "b1", "kind": "MOVIE",', "row", "JSON"),
    "not_an_object": ('["b1", "MOVIE", "Name"]', "row", "object"),
    "string_line": ('"b1"', "row", "object"),
    "unknown_field": (
        json.dumps(jsonl_record(external_id="b1", genre="Dramas")),
        "genre",
        "unknown",
    ),
    "weight_1_5": (
        json.dumps(
            jsonl_record(external_id="b1", tags=[{"kind": "MOOD", "name": "x", "weight": 1.5}])
        ),
        "tags",
        "weight",
    ),
    "unknown_tag_kind": (
        json.dumps(jsonl_record(external_id="b1", tags=[{"kind": "VIBE", "name": "x"}])),
        "tags",
        "kind",
    ),
    "kind_film": (json.dumps(jsonl_record(external_id="b1", kind="FILM")), "kind", "FILM"),
    "movie_with_seasons": (
        json.dumps(jsonl_record(external_id="b1", seasons=2)),
        "seasons",
        "MOVIE",
    ),
    "show_with_minutes": (
        json.dumps(jsonl_record(external_id="b1", kind="SHOW", seasons=1)),
        "duration_minutes",
        "SHOW",
    ),
    "language_english": (
        json.dumps(jsonl_record(external_id="b1", original_language="english")),
        "original_language",
        "",
    ),
    "language_digits": (
        json.dumps(jsonl_record(external_id="b1", original_language="e1")),
        "original_language",
        "ISO 639",
    ),
    "future_date": (
        json.dumps(
            jsonl_record(
                external_id="b1", date_added=(date.today() + timedelta(days=1)).isoformat()
            )
        ),
        "date_added",
        "future",
    ),
    "bad_date": (
        json.dumps(jsonl_record(external_id="b1", date_added="2021-02-30")),
        "date_added",
        "date",
    ),
    "year_as_text": (
        json.dumps(jsonl_record(external_id="b1", release_year="soon")),
        "release_year",
        "year",
    ),
    "missing_name": (json.dumps({"external_id": "b1", "kind": "MOVIE"}), "name", "missing"),
    "bad_external_id": (json.dumps(jsonl_record(external_id="b 1")), "external_id", "letters"),
    "countries_not_a_list": (
        json.dumps(jsonl_record(external_id="b1", origin_countries="US")),
        "origin_countries",
        "list",
    ),
}


@pytest.mark.parametrize("case", list(BAD_JSONL))
def test_bad_jsonl_line_is_rejected(conn: Connection, tmp_path: Path, case: str) -> None:
    line, field_name, word = BAD_JSONL[case]
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [jsonl_record(external_id="ok1"), "", line, jsonl_record(external_id="ok2")],
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert [(e.line, e.field) for e in summary.rejected] == [(3, field_name)], summary.rejected
    assert word in summary.rejected[0].reason
    if field_name != "row" and case != "bad_external_id":
        assert summary.rejected[0].external_id == "b1"
    assert (summary.inserted, summary.updated, summary.unchanged) == (2, 0, 0)
    assert external_ids(conn, "ok") == ["ok1", "ok2"]
    assert external_ids(conn, "b") == []


def test_jsonl_duplicate_id(conn: Connection, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [jsonl_record(external_id="d1"), jsonl_record(external_id="d1", name="Other")],
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert error_keys(summary) == [(2, "external_id", "d1")]
    assert "line 1" in summary.rejected[0].reason
    assert title_row(conn, "d1")["name"] == "JSON Movie"


def test_jsonl_unknown_country_warns(conn: Connection, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl", [jsonl_record(external_id="c1", origin_countries=["ZZ", "Japan"])]
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert summary.rejected == []
    assert [(w.line, w.field, w.external_id) for w in summary.warnings] == [
        (1, "origin_countries", "c1")
    ]
    assert countries_of(conn, "c1") == ["JP"]


@pytest.mark.parametrize(
    ("raw", "field_name"),
    [
        ('"cast": ["Ana\\u0000Rivera"]', "cast"),
        ('"cast": ["Ana \\ud800 Rivera"]', "cast"),
        ('"name": "Lone \\udc80 surrogate"', "name"),
        ('"name": "Lone \\ud800 surrogate"', "name"),
        ('"tags": [{"kind": "MOOD", "name": "da\\u0000rk"}]', "tags"),
    ],
    ids=[
        "nul_in_cast",
        "lone_surrogate_in_cast",
        "undecodable_byte_escape_in_name",
        "lone_high_surrogate_in_name",
        "nul_in_tag",
    ],
)
def test_jsonl_unstorable_text_rejects_only_its_row(
    conn: Connection, tmp_path: Path, raw: str, field_name: str
) -> None:
    """JSON escapes can produce strings Postgres cannot store (NUL) or UTF-8 cannot encode
    (lone surrogates): the row must be rejected, the rest of the file must load."""
    bad = '{"external_id": "b1", "kind": "MOVIE", "name": "Bad", ' + raw + "}"
    if field_name == "name":
        bad = '{"external_id": "b1", "kind": "MOVIE", ' + raw + "}"
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [jsonl_record(external_id="ok1"), bad, jsonl_record(external_id="ok2")],
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert [(e.line, e.field) for e in summary.rejected] == [(2, field_name)]
    assert external_ids(conn, "ok") == ["ok1", "ok2"]


def test_jsonl_line_separator_inside_a_string(conn: Connection, tmp_path: Path) -> None:
    """U+2028 is legal unescaped inside a JSON string and is not a JSONL line break."""
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [
            jsonl_record(external_id="ls1", synopsis="First part.\u2028Second part."),
            jsonl_record(external_id="ls2"),
            '{"broken',
        ],
    )
    summary = ingest_catalog_file(conn, path, fmt="jsonl")
    assert [(e.line, e.field) for e in summary.rejected] == [(3, "row")]
    assert summary.inserted == 2
    # Text fields have their whitespace collapsed; U+2028 is whitespace.
    assert title_row(conn, "ls1")["synopsis"] == "First part. Second part."


def test_jsonl_strict_mode(conn: Connection, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [jsonl_record(external_id="s1"), "{"])
    before = counts(conn)
    with pytest.raises(StrictModeError) as info:
        ingest_catalog_file(conn, path, fmt="jsonl", strict=True)
    assert [(e.line, e.field) for e in info.value.summary.rejected] == [(2, "row")]
    assert counts(conn) == before


def test_row_error_type_is_exported() -> None:
    error = RowError(1, "row", "x")
    assert (error.line, error.field, error.reason, error.external_id) == (1, "row", "x", None)
