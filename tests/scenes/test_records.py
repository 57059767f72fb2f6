"""Row and file-level validation of scenes, engagement rows and retention curves (no database)."""

from __future__ import annotations

from typing import Any

import pytest

from server.scenes.ingest import raw_rows, validate_engagement_rows, validate_scene_rows
from server.scenes.readers import SCENE_COLUMNS, SCENE_REQUIRED, read_csv
from server.scenes.records import (
    CurveRecord,
    EngagementRecord,
    EngagementValidator,
    SceneRecord,
    SceneValidator,
    TitleInfo,
)

TITLES = {
    "m1": TitleInfo(1, "MOVIE", 90),
    "m2": TitleInfo(2, "MOVIE", None),
    "s1": TitleInfo(3, "SHOW", None),
}
SCENES = {("m1", None, 1): 11, ("m1", None, 2): 12, ("s1", 2, 1): 31}


def scene(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": "m1",
        "ordinal": 1,
        "start": 0,
        "end": 120,
        "description": "Two friends argue in a kitchen.",
        "tags": ["dialogue"],
    }
    record.update(overrides)
    return record


def row(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": "m1",
        "ordinal": 1,
        "plays": 100,
        "watched_fraction": 0.9,
        "rewatch_rate": 0.01,
        "skip_rate": 0.02,
        "exit_rate": 0.01,
    }
    record.update(overrides)
    return record


def scene_errors(**overrides: Any) -> list[tuple[str, str]]:
    result = SceneValidator(TITLES).validate(scene(**overrides), 7)
    assert isinstance(result, list), result
    assert all(e.line == 7 for e in result)
    return [(e.field, e.reason) for e in result]


def row_errors(**overrides: Any) -> list[tuple[str, str]]:
    result = EngagementValidator(TITLES, SCENES).validate(row(**overrides), 3)
    assert isinstance(result, list), result
    return [(e.field, e.reason) for e in result]


def test_a_good_scene() -> None:
    result = SceneValidator(TITLES).validate(
        scene(tags=["Reveal", "opening credits", "reveal"], people=["Ana", "Ana", "Bo"]), 1
    )
    assert isinstance(result, SceneRecord)
    assert result.title_id == 1
    assert result.tags == ("opening-credits", "reveal")
    assert result.people == ("Ana", "Bo")
    assert (
        result.content_hash
        == SceneValidator(TITLES)
        .validate(scene(tags=["reveal", "opening-credits"], people=["Ana", "Bo"]), 2)
        .content_hash
    )  # type: ignore[union-attr]


def test_end_before_start_is_rejected() -> None:
    assert scene_errors(start=300, end=200) == [("end", "end 200 s is not after start 300 s")]
    assert scene_errors(start=200, end=200)[0][0] == "end"


def test_scene_past_the_runtime_is_rejected() -> None:
    # 90 minutes = 5400 s, plus a minute of rounding tolerance.
    assert SceneValidator(TITLES).validate(scene(start=5300, end=5460), 1)
    errors = scene_errors(start=5300, end=5461)
    assert errors == [("end", "scene ends at 5461 s, past the runtime (90 min)")]
    # No runtime: the catalog's limit; episodes: four hours.
    assert scene_errors(external_id="m2", start=0, end=60_001)[0][0] == "end"
    assert "4-hour" in scene_errors(external_id="s1", episode=1, start=0, end=14_401)[0][1]


def test_unknown_title_and_episode_rules() -> None:
    assert scene_errors(external_id="nope") == [
        ("external_id", "unknown title 'nope' (ingest the catalog first)")
    ]
    assert scene_errors(episode=1) == [("episode", "a movie has no episodes (leave episode empty)")]
    assert scene_errors(external_id="s1") == [("episode", "required for a show")]
    assert scene_errors(external_id="s1", episode=0)[0][0] == "episode"


def test_bad_values_name_their_field() -> None:
    assert scene_errors(ordinal=0)[0][0] == "ordinal"
    assert scene_errors(ordinal="x")[0] == ("ordinal", "expected a whole number, got 'x'")
    assert scene_errors(start=-5)[0] == ("start", "negative start -5")
    assert scene_errors(end="soon")[0][0] == "end"
    assert scene_errors(tags=["not a/tag"])[0][0] == "tags"
    assert scene_errors(description="x" * 2001)[0][0] == "description"
    assert scene_errors(colour="red") == [("colour", "unknown field")]


def test_overlapping_scenes_are_rejected_with_both_lines() -> None:
    batch = validate_scene_rows(
        raw_rows(
            [
                scene(ordinal=1, start=0, end=100),
                scene(ordinal=2, start=90, end=200),
                scene(ordinal=1, external_id="s1", episode=1, start=0, end=100),
            ]
        ),
        TITLES,
    )
    overlap = [e for e in batch.rejected if e.field == "start"]
    assert len(overlap) == 1
    assert overlap[0].line == 2
    assert "overlaps scene 1 (0-100 s, line 1)" in overlap[0].reason
    # The whole group of m1 is held back; s1 episode 1 loads.
    assert [(s.external_id, s.episode) for s in batch.scenes] == [("s1", 1)]
    held = [e for e in batch.rejected if e.line == 1]
    assert "loads whole or not at all" in held[0].reason


def test_touching_scenes_do_not_overlap_and_episodes_are_separate() -> None:
    batch = validate_scene_rows(
        raw_rows(
            [
                scene(ordinal=1, start=0, end=100),
                scene(ordinal=2, start=100, end=200),
                scene(external_id="s1", episode=1, ordinal=1, start=0, end=100),
                scene(external_id="s1", episode=2, ordinal=1, start=50, end=150),
            ]
        ),
        TITLES,
    )
    assert batch.rejected == []
    assert len(batch.scenes) == 4


def test_duplicate_scenes_are_rejected_naming_the_first_line() -> None:
    batch = validate_scene_rows(
        raw_rows([scene(ordinal=1), scene(ordinal=2, start=200, end=300), scene(ordinal=1)]),
        TITLES,
    )
    duplicate = [e for e in batch.rejected if e.line == 3]
    assert duplicate[0].reason == "duplicate scene 1 of 'm1', first on line 1"
    assert batch.scenes == []  # the group is held back whole


def test_a_good_engagement_row_and_curve() -> None:
    validator = EngagementValidator(TITLES, SCENES)
    result = validator.validate(row(region="us"), 1)
    assert isinstance(result, EngagementRecord)
    assert (result.scene_id, result.region) == (11, "US")
    assert isinstance(validator.validate(row(region="Germany"), 1), EngagementRecord)
    curve = validator.validate(
        {"external_id": "m1", "resolution_seconds": 60, "shares": [1, 0.9, 0.8]}, 1
    )
    assert isinstance(curve, CurveRecord)
    assert curve.shares == (1.0, 0.9, 0.8)


@pytest.mark.parametrize("field", ["watched_fraction", "rewatch_rate", "skip_rate", "exit_rate"])
@pytest.mark.parametrize("value", [-0.01, 1.01, "2"])
def test_rates_outside_zero_one_are_rejected(field: str, value: object) -> None:
    errors = row_errors(**{field: value})
    assert len(errors) == 1
    assert errors[0][0] == field
    assert "outside [0, 1]" in errors[0][1]


def test_engagement_rows_name_unknown_titles_scenes_and_regions() -> None:
    assert row_errors(external_id="zz")[0] == (
        "external_id",
        "unknown title 'zz' (ingest the catalog first)",
    )
    assert "unknown scene 9" in row_errors(ordinal=9)[0][1]
    assert "unknown scene 1 in episode 1" in row_errors(external_id="s1", episode=1)[0][1]
    assert row_errors(region="Atlantis")[0][0] == "region"
    assert row_errors(plays=-1)[0] == ("plays", "negative plays -1")
    assert row_errors(plays=1.5)[0][0] == "plays"
    assert row_errors(watched_fraction=float("nan"))[0][0] == "watched_fraction"


def test_curve_rules() -> None:
    validator = EngagementValidator(TITLES, SCENES)

    def errors(**overrides: Any) -> list[tuple[str, str]]:
        record = {"external_id": "m1", "resolution_seconds": 60, "shares": [1, 0.9]}
        record.update(overrides)
        result = validator.validate(record, 1)
        assert isinstance(result, list)
        return [(e.field, e.reason) for e in result]

    assert errors(shares=[1])[0][0] == "shares"
    assert errors(shares=[1, 1.2]) == [("shares", "point 1 (60 s): 1.2 is outside [0, 1]")]
    assert "past the runtime" in errors(shares=[1.0] * 93)[0][1]  # 92 minutes > 90 + 1
    assert errors(resolution_seconds=0)[0][0] == "resolution_seconds"


def test_duplicate_engagement_rows_and_curves() -> None:
    curve = {"external_id": "m1", "resolution_seconds": 60, "shares": [1, 0.9]}
    batch = validate_engagement_rows(
        raw_rows([row(), row(region="US"), row(), row(region="US"), curve, curve]),
        TITLES,
        SCENES,
    )
    assert [(e.line, e.reason) for e in batch.rejected] == [
        (3, "duplicate engagement row, first on line 1"),
        (4, "duplicate engagement row in US, first on line 2"),
        (6, "duplicate curve, first on line 5"),
    ]
    assert len(batch.engagement) == 2
    assert len(batch.curves) == 1


def test_csv_rows_keep_their_line_numbers_and_lists() -> None:
    source = (
        "external_id,ordinal,start,end,tags,description\n"
        'm1,1,0,100,action|reveal,"A fight,\nover two lines"\n'
        "m1,2,100,50,dialogue,Back at the office\n"
    )
    rows = list(read_csv(source, [(SCENE_COLUMNS, SCENE_REQUIRED)]))
    assert [r.line for r in rows] == [2, 4]
    batch = validate_scene_rows(iter(rows), TITLES)
    assert next((e.line, e.field) for e in batch.rejected) == (2, "row")
    assert (4, "end") in [(e.line, e.field) for e in batch.rejected]


def test_csv_header_is_checked() -> None:
    from server.ingest.rows import InputFileError

    with pytest.raises(InputFileError, match="missing ordinal"):
        list(read_csv("external_id,start,end\n", [(SCENE_COLUMNS, SCENE_REQUIRED)]))
    with pytest.raises(InputFileError, match="unexpected 'colour'"):
        list(read_csv("external_id,ordinal,start,end,colour\n", [(SCENE_COLUMNS, SCENE_REQUIRED)]))
