"""Unit tests for the canonical record validator and content hash (no database)."""

from __future__ import annotations

import copy
import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from server.catalog.records import (
    MAX_EXTERNAL_ID,
    MAX_NAME,
    MAX_PERSON,
    MAX_SYNOPSIS,
    CanonicalTitle,
    RecordValidator,
    TagValue,
    compute_hash,
)
from server.ingest.rows import RowError, RowWarning
from server.models.catalog import TagKind, TitleKind


@pytest.fixture(scope="module")
def validator() -> RecordValidator:
    return RecordValidator()


def full_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": "rec1",
        "kind": "MOVIE",
        "name": "The Long Night",
        "synopsis": "A detective returns for one last case.",
        "release_year": 2019,
        "date_added": "2021-01-15",
        "maturity_rating": "TV-MA",
        "duration_minutes": 101,
        "seasons": None,
        "original_language": "en",
        "genres": ["Dramas", "Thrillers"],
        "tags": [{"kind": "MOOD", "name": "dark", "weight": 0.8}],
        "cast": ["Ana Rivera", "Tom Baker"],
        "directors": ["Jo Kim"],
        "origin_countries": ["US", "France"],
    }
    record.update(overrides)
    return record


def ok(validator: RecordValidator, record: dict[str, Any], line: int = 1) -> CanonicalTitle:
    result = validator.validate(record, line)
    assert result.errors == [], result.errors
    assert result.title is not None
    return result.title


def rejected(validator: RecordValidator, record: dict[str, Any], line: int = 7) -> list[RowError]:
    result = validator.validate(record, line)
    assert result.title is None, f"expected a rejection, got {result.title}"
    assert result.errors
    assert all(e.line == line for e in result.errors)
    return result.errors


# --- a full valid record -------------------------------------------------------------------------


def test_full_record_maps_every_field(validator: RecordValidator) -> None:
    title = ok(validator, full_record(), line=12)
    assert title.line == 12
    assert title.external_id == "rec1"
    assert title.kind is TitleKind.MOVIE
    assert title.name == "The Long Night"
    assert title.synopsis == "A detective returns for one last case."
    assert title.release_year == 2019
    assert title.date_added == date(2021, 1, 15)
    assert title.maturity_rating == "TV-MA"
    assert title.duration_minutes == 101
    assert title.seasons is None
    assert title.original_language == "en"
    assert title.genres == ("Dramas", "Thrillers")
    assert title.tags == (TagValue(TagKind.MOOD, "dark", 0.8),)
    assert title.cast == ("Ana Rivera", "Tom Baker")
    assert title.directors == ("Jo Kim",)
    assert title.origin_countries == ("US", "FR")
    assert len(title.content_hash) == 64
    assert all(c in "0123456789abcdef" for c in title.content_hash)


def test_only_id_kind_and_name_are_required(validator: RecordValidator) -> None:
    title = ok(validator, {"external_id": "x1", "kind": "SHOW", "name": "Minimal"})
    assert title.kind is TitleKind.SHOW
    assert (title.synopsis, title.release_year, title.date_added, title.seasons) == (None,) * 4
    assert title.genres == title.cast == title.directors == title.origin_countries == ()
    assert title.tags == ()


@pytest.mark.parametrize("missing", ["external_id", "kind", "name"])
def test_required_fields(validator: RecordValidator, missing: str) -> None:
    record = {"external_id": "x1", "kind": "SHOW", "name": "Minimal"}
    del record[missing]
    errors = rejected(validator, record)
    assert [(e.field, e.reason) for e in errors] == [(missing, "missing")]


def test_string_numbers_and_lowercase_kind_are_accepted(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(kind="movie", release_year=" 2019 ", duration_minutes="101", date_added=None),
    )
    assert title.kind is TitleKind.MOVIE
    assert title.release_year == 2019
    assert title.duration_minutes == 101
    assert title.date_added is None


# --- whitespace ---------------------------------------------------------------------------------


def test_whitespace_is_collapsed_in_text_and_names(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(
            external_id="  rec1  ",
            name="  The   Long\tNight \n",
            synopsis=" Line one.\n\nLine   two. ",
            maturity_rating=" TV-MA ",
            cast=["  Ana   Rivera ", "Tom\tBaker", "   ", ""],
            directors=["\nJo  Kim\n"],
            genres=[" International  TV Shows", "TV\u00a0Dramas"],
        ),
    )
    assert title.external_id == "rec1"
    assert title.name == "The Long Night"
    assert title.synopsis == "Line one. Line two."
    assert title.maturity_rating == "TV-MA"
    assert title.cast == ("Ana Rivera", "Tom Baker")
    assert title.directors == ("Jo Kim",)
    assert title.genres == ("International TV Shows", "TV Dramas")


def test_blank_optional_text_becomes_none(validator: RecordValidator) -> None:
    title = ok(validator, full_record(synopsis="   \n ", maturity_rating=""))
    assert title.synopsis is None
    assert title.maturity_rating is None


def test_blank_name_is_missing(validator: RecordValidator) -> None:
    errors = rejected(validator, full_record(name=" \t "))
    assert [(e.field, e.reason) for e in errors] == [("name", "missing")]


# --- de-duplication -----------------------------------------------------------------------------


def test_cast_dedup_is_case_insensitive_and_keeps_first_order(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(
            cast=["Zoe Adams", "ana rivera", "Bo Chen", "ANA RIVERA", "zoe  adams", "Ana Rivera"],
            directors=["Jo Kim", "JO KIM", "Al Li"],
        ),
    )
    assert title.cast == ("Zoe Adams", "ana rivera", "Bo Chen")
    assert title.directors == ("Jo Kim", "Al Li")


def test_genre_dedup_is_case_insensitive_and_keeps_first_order(validator: RecordValidator) -> None:
    title = ok(
        validator, full_record(genres=["Thrillers", "dramas", "THRILLERS", "Dramas", "Anime"])
    )
    assert title.genres == ("Thrillers", "dramas", "Anime")


def test_countries_resolved_and_deduplicated_by_code(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(origin_countries=["France", "us", "United States", "FR", "South Korea"]),
    )
    assert title.origin_countries == ("FR", "US", "KR")


def test_unknown_country_is_a_warning_not_an_error(validator: RecordValidator) -> None:
    result = validator.validate(full_record(origin_countries=["Atlantis", "France"]), 4)
    assert result.errors == []
    assert result.title is not None
    assert result.title.origin_countries == ("FR",)
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert isinstance(warning, RowWarning)
    assert (warning.line, warning.field, warning.external_id) == (4, "origin_countries", "rec1")
    assert "Atlantis" in warning.message
    assert "unknown" in warning.message


def test_tags_dedup_case_insensitive_last_wins_and_weight_rounded(
    validator: RecordValidator,
) -> None:
    title = ok(
        validator,
        full_record(
            tags=[
                {"kind": "mood", "name": "Dark", "weight": 0.2},
                {"kind": "THEME", "name": "revenge"},
                {"kind": "MOOD", "name": "dark", "weight": 0.123456},
            ]
        ),
    )
    assert title.tags == (
        TagValue(TagKind.MOOD, "dark", 0.1235),
        TagValue(TagKind.THEME, "revenge", 1.0),
    )


def test_all_tags_puts_genres_first_and_keeps_max_weight(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(
            genres=["Dramas"],
            tags=[
                {"kind": "GENRE", "name": "Dramas", "weight": 0.3},
                {"kind": "MOOD", "name": "dark", "weight": 0.8},
            ],
        ),
    )
    assert title.all_tags() == [
        TagValue(TagKind.GENRE, "Dramas", 1.0),
        TagValue(TagKind.MOOD, "dark", 0.8),
    ]


# --- content hash --------------------------------------------------------------------------------


def test_content_hash_is_stable_for_equal_input(validator: RecordValidator) -> None:
    first = ok(validator, full_record(), line=1)
    second = ok(validator, full_record(), line=99)  # the line is not content
    reordered = ok(validator, dict(reversed(list(full_record().items()))), line=3)
    respaced = ok(
        validator,
        full_record(name="  The Long   Night", release_year="2019", kind="movie"),
    )
    assert first.content_hash == second.content_hash == reordered.content_hash
    assert respaced.content_hash == first.content_hash
    assert compute_hash(first) == first.content_hash
    assert dataclasses.replace(second, line=1) == first


CHANGES: list[tuple[str, Any]] = [
    ("external_id", "rec2"),
    ("kind", "SHOW"),
    ("name", "The Long Night 2"),
    ("synopsis", "Another case."),
    ("synopsis", None),
    ("release_year", 2018),
    ("date_added", "2021-01-16"),
    ("maturity_rating", "R"),
    ("duration_minutes", 102),
    ("original_language", "fr"),
    ("genres", ["Dramas"]),
    ("genres", ["Thrillers", "Dramas"]),
    ("tags", [{"kind": "MOOD", "name": "dark", "weight": 0.7}]),
    ("tags", [{"kind": "THEME", "name": "dark", "weight": 0.8}]),
    ("tags", [{"kind": "MOOD", "name": "bleak", "weight": 0.8}]),
    ("cast", ["Tom Baker", "Ana Rivera"]),
    ("cast", ["Ana Rivera"]),
    ("directors", ["Jo Kim", "Al Li"]),
    ("origin_countries", ["France", "US"]),
    ("origin_countries", ["US"]),
]


@pytest.mark.parametrize(("field_name", "value"), CHANGES)
def test_content_hash_changes_when_any_field_changes(
    validator: RecordValidator, field_name: str, value: Any
) -> None:
    base = full_record()
    changed = copy.deepcopy(base)
    changed[field_name] = value
    if field_name == "kind":  # a SHOW needs seasons instead of minutes
        changed.update(duration_minutes=None, seasons=1)
    assert ok(validator, changed).content_hash != ok(validator, base).content_hash


def test_content_hash_distinguishes_seasons(validator: RecordValidator) -> None:
    show = full_record(kind="SHOW", duration_minutes=None, seasons=1)
    assert ok(validator, show).content_hash != ok(validator, {**show, "seasons": 2}).content_hash


def test_content_hash_does_not_confuse_list_boundaries(validator: RecordValidator) -> None:
    a = ok(validator, full_record(cast=["Ana Rivera"], directors=["Tom Baker"]))
    b = ok(validator, full_record(cast=["Ana Rivera", "Tom Baker"], directors=[]))
    assert a.content_hash != b.content_hash


# --- external ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["s1", "9", "abc.DEF_1:2-3", "tt0111161", "A" * MAX_EXTERNAL_ID, "x-"]
)
def test_external_id_valid(validator: RecordValidator, value: str) -> None:
    assert ok(validator, full_record(external_id=value)).external_id == value


@pytest.mark.parametrize(
    ("value", "word"),
    [
        ("", "missing"),
        ("   ", "missing"),
        (None, "missing"),
        (123, "string"),
        ("-abc", "letters"),
        (".abc", "letters"),
        ("_abc", "letters"),
        ("a b", "letters"),
        ("a/b", "letters"),
        ("a,b", "letters"),
        ("s1\u00e9", "letters"),
        ("s\u0661", "letters"),  # a non-ASCII digit
        ("A" * (MAX_EXTERNAL_ID + 1), "longer"),
    ],
)
def test_external_id_invalid(validator: RecordValidator, value: Any, word: str) -> None:
    errors = rejected(validator, full_record(external_id=value))
    assert [e.field for e in errors] == ["external_id"]
    assert word in errors[0].reason


# --- field rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field_name", "word"),
    [
        ({"kind": "FILM"}, "kind", "unknown"),
        ({"kind": ""}, "kind", "missing"),
        ({"name": "x" * (MAX_NAME + 1)}, "name", "over-long"),
        ({"name": 5}, "name", "string"),
        ({"name": "bell\x07"}, "name", "control"),
        ({"synopsis": "y" * (MAX_SYNOPSIS + 1)}, "synopsis", "over-long"),
        ({"maturity_rating": "R" * 17}, "maturity_rating", "over-long"),
        ({"release_year": "abc"}, "release_year", "year"),
        ({"release_year": 1500}, "release_year", "year"),
        ({"release_year": 2999}, "release_year", "year"),
        ({"release_year": True}, "release_year", "year"),
        ({"release_year": 2019.5}, "release_year", "year"),
        ({"date_added": "25/09/2021"}, "date_added", "date"),
        ({"date_added": 20210925}, "date_added", "date"),
        ({"date_added": (date.today() + timedelta(days=1)).isoformat()}, "date_added", "future"),
        ({"duration_minutes": 0}, "duration_minutes", "outside"),
        ({"duration_minutes": 1001}, "duration_minutes", "outside"),
        ({"duration_minutes": "ninety"}, "duration_minutes", "whole number"),
        ({"seasons": 2}, "seasons", "MOVIE"),
        ({"original_language": "e1"}, "original_language", "639"),
        ({"genres": "Dramas"}, "genres", "list"),
        ({"genres": ["Dramas", 3]}, "genres", "strings"),
        ({"genres": ["g" * 101]}, "genres", "over-long"),
        ({"cast": ["c" * (MAX_PERSON + 1)]}, "cast", "over-long"),
        ({"directors": ["d" * (MAX_PERSON + 1)]}, "directors", "over-long"),
        ({"cast": ["x"] * 501}, "cast", "more than 500"),
        ({"origin_countries": "US"}, "origin_countries", "list"),
        ({"tags": {"kind": "MOOD"}}, "tags", "list"),
        ({"tags": ["dark"]}, "tags", "objects"),
        ({"tags": [{"kind": "MOOD", "name": "dark", "weight": 1.5}]}, "tags", "weight"),
        ({"tags": [{"kind": "MOOD", "name": "dark", "weight": -0.1}]}, "tags", "weight"),
        ({"tags": [{"kind": "MOOD", "name": "dark", "weight": True}]}, "tags", "weight"),
        ({"tags": [{"kind": "MOOD", "name": "dark", "weight": "high"}]}, "tags", "weight"),
        ({"tags": [{"kind": "VIBE", "name": "dark"}]}, "tags", "kind"),
        ({"tags": [{"kind": "MOOD", "name": " "}]}, "tags", "missing"),
        ({"tags": [{"kind": "MOOD", "name": "dark", "score": 1}]}, "tags", "score"),
        ({"tags": [{"kind": "MOOD", "name": "t" * 101}]}, "tags", "over-long"),
        ({"genre": ["Dramas"]}, "genre", "unknown"),
    ],
)
def test_field_rules(
    validator: RecordValidator, overrides: dict[str, Any], field_name: str, word: str
) -> None:
    errors = rejected(validator, full_record(**overrides))
    assert [e.field for e in errors] == [field_name], errors
    assert word in errors[0].reason, errors[0].reason
    assert errors[0].external_id == "rec1"


def test_show_with_minutes_is_rejected(validator: RecordValidator) -> None:
    errors = rejected(validator, full_record(kind="SHOW", duration_minutes=45, seasons=1))
    assert [e.field for e in errors] == ["duration_minutes"]
    assert "SHOW" in errors[0].reason


def test_bounds_are_inclusive(validator: RecordValidator) -> None:
    title = ok(
        validator,
        full_record(
            release_year=1870,
            duration_minutes=1000,
            name="n" * MAX_NAME,
            synopsis="s" * MAX_SYNOPSIS,
            cast=["c" * MAX_PERSON],
            tags=[{"kind": "MOOD", "name": "dark", "weight": 0}],
            date_added=date.today().isoformat(),
        ),
    )
    assert title.release_year == 1870
    assert title.duration_minutes == 1000
    assert title.tags[0].weight == 0.0


def test_language_is_lowercased(validator: RecordValidator) -> None:
    assert ok(validator, full_record(original_language="EN")).original_language == "en"
    assert ok(validator, full_record(original_language="fil")).original_language == "fil"


def test_invalid_utf8_surrogate_in_top_level_string(validator: RecordValidator) -> None:
    errors = rejected(validator, full_record(synopsis="bad \udcff byte"))
    assert [(e.field, e.reason) for e in errors] == [("synopsis", "invalid UTF-8")]


def test_every_field_error_is_reported(validator: RecordValidator) -> None:
    errors = rejected(
        validator, full_record(release_year="abc", maturity_rating="R" * 20, duration_minutes=0)
    )
    assert sorted(e.field for e in errors) == [
        "duration_minutes",
        "maturity_rating",
        "release_year",
    ]


def test_row_error_and_warning_str() -> None:
    assert str(RowError(3, "name", "missing", "s1")) == "line 3 (s1): name: missing"
    assert str(RowError(3, "row", "invalid JSON")) == "line 3: row: invalid JSON"
    assert str(RowWarning(4, "rating", "moved", "s9")) == "line 4 (s9): rating: moved"


# --- text the database cannot store must be a row error, never a crash ---------------------------


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"cast": ["bad \udcff byte"]}, "cast"),  # an undecodable byte inside a list entry
        ({"genres": ["Dramas", "\udcff"]}, "genres"),
        ({"name": "lone \ud800 surrogate"}, "name"),  # what JSON "\ud800" decodes to
        ({"directors": ["\udfff"]}, "directors"),
        ({"tags": [{"kind": "MOOD", "name": "x\ud800"}]}, "tags"),
    ],
)
def test_lone_surrogates_anywhere_are_row_errors(
    validator: RecordValidator, overrides: dict[str, Any], field_name: str
) -> None:
    """Strings that cannot be encoded as UTF-8 must reject their row, not raise."""
    errors = rejected(validator, full_record(**overrides))
    assert [e.field for e in errors] == [field_name]


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"cast": ["Ana\x00Rivera"]}, "cast"),
        ({"directors": ["Jo\x00Kim"]}, "directors"),
        ({"genres": ["Dra\x00mas"]}, "genres"),
        ({"tags": [{"kind": "MOOD", "name": "da\x00rk"}]}, "tags"),
    ],
)
def test_control_characters_in_list_entries_are_rejected(
    validator: RecordValidator, overrides: dict[str, Any], field_name: str
) -> None:
    """``name``/``synopsis`` reject control characters; names in lists must too (Postgres text
    cannot hold NUL, so such a row would otherwise fail the whole COPY)."""
    result = validator.validate(full_record(**overrides), 7)
    assert result.title is None, f"accepted {overrides}"
    assert [e.field for e in result.errors] == [field_name]
