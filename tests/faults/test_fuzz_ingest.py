"""Property-based fuzzing of ingest files: any mix of good rows, broken rows and garbage lines
loads exactly the good rows (every one whole, with its tags, credits and countries) or, in
strict mode, nothing; never an unexpected exception."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from server.catalog.ingest import InputFileError, StrictModeError, ingest_catalog_file
from server.catalog.records import CANONICAL_FIELDS
from server.models.catalog import Credit, Title, TitleCountry, TitleTag
from tests.helpers import title_record

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)
FIELDS = sorted(CANONICAL_FIELDS)


_fresh_ids = itertools.count()


@st.composite
def lines(draw: st.DrawFn) -> tuple[str, bool]:
    """One JSONL line and whether it must be accepted (a valid record with a fresh id)."""
    kind = draw(st.sampled_from(["good", "broken", "garbage"]))
    # a process-wide counter, not id() or a drawn number: those repeat, and a repeated id is a
    # duplicate row the ingest rightly rejects
    record = title_record(external_id=f"fz-{next(_fresh_ids)}")
    if kind == "good":
        return json.dumps(record), True
    if kind == "broken":
        field = draw(st.sampled_from([*FIELDS, "unknown_field"]))
        record[field] = draw(junk)
        return json.dumps(record), False  # may still be valid: then it is accepted
    return draw(st.text(max_size=60).filter(lambda s: "\n" not in s and "\r" not in s)), False


def _count(conn: Connection, model: Any, ids: list[str]) -> int:
    stmt = select(func.count()).select_from(model)
    if model is not Title:
        stmt = stmt.join(Title, Title.id == model.title_id)
    return int(conn.execute(stmt.where(Title.external_id.in_(ids))).scalar_one())


@FUZZ
@given(content=st.lists(lines(), min_size=1, max_size=12), strict=st.booleans())
def test_fuzzed_files_load_exactly_the_good_rows(
    conn: Connection,
    tmp_path_factory: pytest.TempPathFactory,
    content: list[tuple[str, bool]],
    strict: bool,
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "titles.jsonl"
    path.write_text("\n".join(line for line, _ in content) + "\n", encoding="utf-8")
    ids = []
    for line, _ in content:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("external_id"), str):
            ids.append(value["external_id"])
    savepoint = conn.begin_nested()
    try:
        try:
            summary = ingest_catalog_file(conn, path, fmt="jsonl", strict=strict)
        except StrictModeError:
            assert strict
            assert _count(conn, Title, ids) == 0  # strict: nothing written
            return
        except InputFileError:
            assert _count(conn, Title, ids) == 0
            return
        must = sum(1 for _, good in content if good)
        assert summary.inserted >= must
        assert summary.inserted == summary.accepted
        assert _count(conn, Title, ids) == summary.inserted
        # every accepted title is whole: the fixture record has 3 tags, 3 credits, 1 country
        good_ids = [json.loads(line)["external_id"] for line, good in content if good]
        if good_ids:
            assert _count(conn, TitleTag, good_ids) == 3 * len(good_ids)
            assert _count(conn, Credit, good_ids) == 3 * len(good_ids)
            assert _count(conn, TitleCountry, good_ids) == len(good_ids)
        if strict:
            assert not summary.rejected
    finally:
        savepoint.rollback()
