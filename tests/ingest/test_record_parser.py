"""RecordParser's fast path gives exactly what pydantic gives: the same record, or the same
errors, for every model built from ``checked`` fields."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from server.audiences.records import CountryChartInput, GlobalChartInput, ViewingInput
from server.ingest.records import RecordParser
from server.scenes.records import CurveInput, EngagementInput, SceneInput

MODELS: list[type[BaseModel]] = [
    EngagementInput,
    SceneInput,
    CurveInput,
    CountryChartInput,
    GlobalChartInput,
    ViewingInput,
]

# Values a file puts in a cell: valid ones of every field's kind, and near misses.
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "N/A",
            "0",
            "1",
            "3",
            "10",
            "11",
            "-1",
            "2.0",
            "2.5",
            "0.25",
            "1.5",
            "nan",
            "inf",
            "1e3",
            "US",
            "us",
            "Brazil",
            "XX",
            "2021-09-12",
            "2021-13-01",
            "Films",
            "TV",
            "Films (English)",
            "TV (Non-English)",
            "MOVIE",
            "show",
            "hours",
            "completion_rate",
            "Bad Metric",
            "s1",
            "chase|fight",
            "Bad Tag!",
            "0.9|0.5|0.1",
            "0.9",
            "a\x00b",
        ]
    ),
    st.text(max_size=8),
    st.integers(-5, 50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.lists(st.sampled_from(["0.5", 0.25, 1, "x", "drama"]), max_size=4),
)


def _outcome(validate: Any, data: dict[str, Any]) -> tuple[str, Any]:
    try:
        record = validate(data)
    except ValidationError as exc:
        return ("errors", exc.errors(include_url=False))
    return ("record", record.model_dump())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_takes_the_fast_path(model: type[BaseModel]) -> None:
    assert RecordParser(model).parse != model.model_validate


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fast_path_matches_pydantic(model: type[BaseModel], data: st.DataObject) -> None:
    names = list(model.model_fields)
    present = data.draw(st.lists(st.sampled_from(names), unique=True, min_size=len(names) - 1))
    row = {name: data.draw(CELLS) for name in present}
    if data.draw(st.booleans()):
        row["unexpected"] = "x"
    fast = _outcome(RecordParser(model).parse, row)
    assert fast == _outcome(model.model_validate, row)


def test_a_valid_engagement_row_is_built_without_pydantic_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = {
        "external_id": "s1",
        "episode": "",
        "ordinal": "4",
        "region": "br",
        "plays": "120",
        "watched_fraction": "0.5",
        "rewatch_rate": "0.1",
        "skip_rate": "0.2",
        "exit_rate": "0.05",
    }
    parser = RecordParser(EngagementInput)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("validated by pydantic")

    monkeypatch.setattr(EngagementInput, "model_validate", refuse)
    record = parser.parse(row)
    assert (record.region, record.ordinal, record.episode, record.plays) == ("BR", 4, None, 120)
    assert record == EngagementInput.model_construct(**record.model_dump())
