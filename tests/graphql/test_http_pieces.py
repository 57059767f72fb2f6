"""The endpoint's pieces on their own: persisted queries, the metrics labels, admission."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from server.config import load_settings
from server.graphql.access import MAX_OPERATION_LABELS, AccessLog
from server.graphql.gate import Gate
from server.graphql.persisted import PersistedQueries, load_allow_list
from server.graphql.replies import RequestError, media_of
from server.kit.roles import AUTH_OFF

QUERY = "{ __typename }"


def _sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _apq(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_apq_learns_a_query_sent_with_its_hash() -> None:
    persisted = PersistedQueries(None)
    with pytest.raises(RequestError) as missing:
        persisted.resolve(None, _apq(_sha(QUERY)), apq=True)
    assert (missing.value.status, missing.value.code) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert persisted.resolve(QUERY, _apq(_sha(QUERY)), apq=True) == QUERY
    assert persisted.resolve(None, _apq(_sha(QUERY).upper()), apq=True) == QUERY
    with pytest.raises(RequestError) as wrong:
        persisted.resolve(QUERY, _apq("0" * 64), apq=True)
    assert wrong.value.status == 400


def test_apq_off_takes_only_full_queries() -> None:
    persisted = PersistedQueries(None)
    assert persisted.resolve(QUERY, _apq(_sha(QUERY)), apq=False) == QUERY
    with pytest.raises(RequestError, match="switched off"):
        persisted.resolve(None, _apq(_sha(QUERY)), apq=False)
    with pytest.raises(RequestError, match="no `query`"):
        persisted.resolve(None, {}, apq=True)


def test_allow_list_runs_listed_operations_only(tmp_path: Path) -> None:
    path = tmp_path / "allow.json"
    path.write_text(json.dumps([QUERY]))
    persisted = PersistedQueries(load_allow_list(path))
    assert persisted.resolve(QUERY, {}, apq=True) == QUERY
    assert persisted.resolve(None, _apq(_sha(QUERY)), apq=True) == QUERY
    for query, extensions in (("{ other }", {}), (None, _apq("0" * 64))):
        with pytest.raises(RequestError) as refused:
            persisted.resolve(query, extensions, apq=True)
        assert (refused.value.status, refused.value.code) == (403, "FORBIDDEN")
    path.write_text(json.dumps({"0" * 64: QUERY}))
    with pytest.raises(ValueError, match="does not match"):
        load_allow_list(path)


def test_operation_labels_are_bounded() -> None:
    access = AccessLog()
    assert access.label(None) == "anonymous"
    assert access.label("not a name") == "other"
    for i in range(MAX_OPERATION_LABELS):
        assert access.label(f"Op{i}") == f"Op{i}"
    assert access.label("OneTooMany") == "other"
    assert access.label("Op0") == "Op0"


async def test_admission_with_auth_off_and_406(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, auth="off", database_url=None)
    gate = Gate(settings, sessions=lambda: None)
    assert await gate.admit({}) is AUTH_OFF
    with pytest.raises(RequestError) as refused:
        media_of("text/plain")
    assert refused.value.status == 406
