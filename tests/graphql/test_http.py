"""GraphQL over HTTP: media types, status codes, GET/POST rules, persisted queries,
request ids, masked errors and timeouts."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from server.app import create_app
from server.catalog import service as catalog
from server.config import Settings, load_settings
from server.graphql.http import negotiate

QUERY = "{ tags(first: 1) { name } }"
MUTATION = "mutation { upsertTitles(input: []) { inserted } }"
GQL_RESPONSE = "application/graphql-response+json"


def _media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


async def _post(client: httpx.AsyncClient, body: Any, accept: str | None = None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        (GQL_RESPONSE, GQL_RESPONSE),
        (f"{GQL_RESPONSE}, application/json;q=0.9", GQL_RESPONSE),
        (f"application/json, {GQL_RESPONSE};q=0.5", "application/json"),
        ("*/*", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
        ("text/plain", None),
        (f"{GQL_RESPONSE};q=0", None),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


async def test_media_type_follows_accept(client: httpx.AsyncClient) -> None:
    for accept, media in ((GQL_RESPONSE, GQL_RESPONSE), (None, "application/json")):
        response = await _post(client, {"query": QUERY}, accept)
        assert response.status_code == 200
        assert _media(response) == media
        assert "data" in response.json()
    response = await _post(client, {"query": QUERY}, "text/plain")
    assert response.status_code == 406


async def test_get_runs_queries_only(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "query($n: Int) { tags(first: $n) { name } }", "variables": '{"n": 1}'},
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    response = await client.get("/graphql", params={"query": MUTATION})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "POST" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "says"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b"{}", "application/json", 400, "no `query`"),
        (b'{"query": 5}', "application/json", 400, "must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400, "variables"),
        (b'{"query": "{ __typename }", "variables": "x"}', "application/json", 400, "variables"),
        (b"{ __typename }", "text/plain", 415, "application/json"),
        (b"{ __typename }", "", 415, "application/json"),
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, says: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/graphql", content=content, headers=headers)
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body
    assert says in body["errors"][0]["message"]


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={"query": QUERY})
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"query": "{ tags(first: 1) { name }"}, "Syntax Error"),
        ({"query": "{ nope }"}, "Cannot query field"),
        (
            {"query": "query($n: Int) { tags(first: $n) { name } }", "variables": {"n": "x"}},
            "Int cannot represent",
        ),
        ({"query": QUERY, "operationName": "Missing"}, "Missing"),
    ],
)
async def test_request_errors_are_400_with_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any], says: str
) -> None:
    response = await _post(client, body, GQL_RESPONSE)
    assert response.status_code == 400, response.text
    assert _media(response) == GQL_RESPONSE
    assert "data" not in response.json()
    assert says in json.dumps(response.json())
    legacy = await _post(client, body, "application/json")
    assert legacy.status_code in (200, 400)
    assert "data" not in legacy.json()


async def test_field_errors_are_200_with_data(client: httpx.AsyncClient) -> None:
    response = await _post(client, {"query": '{ title(id: "x") { id } }'}, GQL_RESPONSE)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"title": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"X-Request-ID": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    made = (await client.post("/graphql", json={"query": QUERY})).headers["x-request-id"]
    assert len(made) == 16
    bad = await client.post("/graphql", json={"query": QUERY}, headers={"X-Request-ID": "a b"})
    assert bad.headers["x-request-id"] != "a b"


async def test_unexpected_errors_are_masked_and_logged_with_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret connection string postgres://u:pw@db")

    monkeypatch.setattr(catalog, "tag_counts", boom)
    with caplog.at_level(logging.ERROR, logger="contentintel.graphql"):
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={"X-Request-ID": "req-42"}
        )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert "secret" not in response.text
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "req-42"]
    assert logged
    assert logged[0].exc_info is not None


async def test_statement_timeout_is_a_timeout_error(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(session: AsyncSession, *args: Any) -> Any:
        await session.execute(text("SET LOCAL statement_timeout = 50"))
        await session.execute(text("SELECT pg_sleep(2)"))

    monkeypatch.setattr(catalog, "tag_counts", slow)
    body = (await client.post("/graphql", json={"query": QUERY})).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT", body
    assert "statement timeout" in error["message"]


def _sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


async def test_automatic_persisted_queries(client: httpx.AsyncClient) -> None:
    query = "query Apq { tags(first: 2) { name } }"
    ext = {"persistedQuery": {"version": 1, "sha256Hash": _sha(query)}}
    first = (await _post(client, {"extensions": ext})).json()
    assert first["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await _post(client, {"query": query, "extensions": ext})
    assert registered.status_code == 200
    assert "errors" not in registered.json()
    again = await _post(client, {"extensions": ext})
    assert again.json() == registered.json()
    got = await client.get("/graphql", params={"extensions": json.dumps(ext)})
    assert got.json() == registered.json()
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    mismatch = await _post(client, {"query": query, "extensions": wrong})
    assert mismatch.status_code == 400


async def test_allow_list_mode(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession], aconn: AsyncConnection
) -> None:
    allowed = "query Allowed { tags(first: 1) { name } }"
    path = tmp_path / "allow.json"
    path.write_text(json.dumps({_sha(allowed): allowed}))
    settings = load_settings(data_dir=tmp_path, auth="off", allow_list=path)
    app = create_app(settings, session_factory=session_factory)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        ok = await _post(http, {"query": allowed})
        assert ok.status_code == 200
        assert "errors" not in ok.json()
        ext = {"persistedQuery": {"version": 1, "sha256Hash": _sha(allowed)}}
        assert (await _post(http, {"extensions": ext})).json() == ok.json()
        refused = await _post(http, {"query": QUERY})
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_bug_outside_execution_is_a_masked_500(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.graphql import http as endpoint

    def broken(data: Any) -> Any:
        raise RuntimeError("internal detail")

    monkeypatch.setattr(endpoint, "_params", broken)
    response = await client.post("/graphql", json={"query": QUERY}, headers={"X-Request-ID": "b1"})
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": "Unexpected error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "b1"},
            }
        ]
    }


async def test_graphql_is_served_past_starlettes_router_and_the_same_through_it(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """``/graphql`` goes straight to its endpoint (``server.app.App``); with a ``root_path``
    (a proxy's prefix) it goes through Starlette's router to the same endpoint; methods the
    endpoint does not take get Starlette's 405."""
    app = create_app(settings, session_factory=session_factory)
    direct = httpx.ASGITransport(app=app)
    prefixed = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=direct, base_url="http://test") as http:
        fast = await http.post("/graphql", json={"query": QUERY})
        assert app.middleware_stack is None  # Starlette's stack not even built yet
        head = await http.head("/graphql")
        assert head.status_code == 405  # Starlette's route: GET, POST, PUT, PATCH, DELETE
        assert "POST" in head.headers["allow"]
    async with httpx.AsyncClient(transport=prefixed, base_url="http://test") as http:
        routed = await http.post("/api/graphql", json={"query": QUERY})
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json()
    assert fast.headers["content-type"] == routed.headers["content-type"]
