"""API keys and roles over HTTP with CONTENTINTEL_AUTH=on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.auth.service import hash_key, list_keys, revoke_key
from server.graphql.schema import Mutation, Query
from server.kit.errors import ExpectedError
from server.kit.roles import Role
from server.models.auth import ApiKey
from tests.helpers import api_client, bearer, count_awaits

QUERY = "{ titles(first: 1) { totalCount } }"
UPSERT = """
mutation($input: [TitleInput!]!) { upsertTitles(input: $input) { inserted errors { message } } }
"""
TITLE = {
    "externalId": "auth1",
    "kind": "MOVIE",
    "name": "Keyed",
    "durationMinutes": 90,
}


async def post(client: httpx.AsyncClient, query: str, key: str | None, **variables: Any) -> Any:
    headers = bearer(key) if key else {}
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def test_missing_or_bad_key_is_401(
    auth_client: httpx.AsyncClient, api_keys: dict[str, str]
) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await auth_client.post("/graphql", json={"query": QUERY}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in response.json()


async def test_every_role_reads(auth_client: httpx.AsyncClient, api_keys: dict[str, str]) -> None:
    for role, key in api_keys.items():
        response = await post(auth_client, QUERY, key)
        assert response.status_code == 200, role
        assert response.json()["data"]["titles"]["totalCount"] >= 0


async def test_only_admin_mutates(
    auth_client: httpx.AsyncClient, api_keys: dict[str, str], aconn: AsyncConnection
) -> None:
    for role in ("viewer", "analyst"):
        body = (await post(auth_client, UPSERT, api_keys[role], input=[TITLE])).json()
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN", body
        assert "admin" in error["message"]
    body = (await post(auth_client, UPSERT, api_keys["admin"], input=[TITLE])).json()
    assert body["data"]["upsertTitles"]["inserted"] == 1, body


async def test_revoked_key_is_refused(
    auth_client: httpx.AsyncClient, api_keys: dict[str, str], aconn: AsyncConnection
) -> None:
    assert (await post(auth_client, QUERY, api_keys["viewer"])).status_code == 200
    await aconn.run_sync(lambda c: revoke_key(c, "test-viewer"))
    assert (await post(auth_client, QUERY, api_keys["viewer"])).status_code == 401


async def test_keys_are_stored_hashed(aconn: AsyncConnection, api_keys: dict[str, str]) -> None:
    rows = (await aconn.execute(select(ApiKey.name, ApiKey.key_hash, ApiKey.prefix))).all()
    stored = {r.name: r for r in rows}
    key = api_keys["admin"]
    assert stored["test-admin"].key_hash == hash_key(key)
    assert key not in {r.key_hash for r in rows}
    assert key.startswith(stored["test-admin"].prefix)
    listed = await aconn.run_sync(lambda c: list_keys(c))
    assert {k.name for k in listed} >= {"test-viewer", "test-analyst", "test-admin"}


async def test_duplicate_live_name_and_bad_names_are_refused(
    aconn: AsyncConnection, api_keys: dict[str, str]
) -> None:
    from server.auth.service import create_key

    for name in ("test-admin", "", "x" * 65, "bad\nname"):
        with pytest.raises(ExpectedError):
            await aconn.run_sync(lambda c, n=name: create_key(c, n, Role.ADMIN))


async def test_auth_off_allows_everything(client: httpx.AsyncClient) -> None:
    body = (await post(client, UPSERT, None, input=[TITLE])).json()
    assert body["data"]["upsertTitles"]["inserted"] == 1, body


def _permission_roles(cls: type) -> dict[str, set[Role]]:
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    return {f.python_name: {p.role for p in f.permission_classes} for f in definition.fields}


def test_every_root_field_declares_a_role() -> None:
    """New root fields must say who may call them (`permission_classes=VIEWER/ANALYST/ADMIN`),
    and every mutation is admin-only."""
    queries = _permission_roles(Query)
    assert all(queries.values()), [name for name, roles in queries.items() if not roles]
    mutations = _permission_roles(Mutation)
    assert all(roles == {Role.ADMIN} for roles in mutations.values()), mutations


def test_forecasts_what_ifs_and_plans_need_the_analyst_role() -> None:
    queries = _permission_roles(Query)
    planning = {"forecast", "what_if", "localization_plan"}
    assert {name for name, roles in queries.items() if roles == {Role.ANALYST}} == planning
    assert all(roles == {Role.VIEWER} for name, roles in queries.items() if name not in planning)


async def test_a_viewer_key_cannot_forecast(
    auth_client: httpx.AsyncClient, api_keys: dict[str, str]
) -> None:
    draft = '{ name: "Draft", kind: MOVIE }'
    query = f"{{ forecast(draft: {draft}) {{ modelVersion }} }}"
    body = (await post(auth_client, query, api_keys["viewer"])).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert "analyst" in body["errors"][0]["message"]
    # The analyst passes the role check (without a trained model: NOT_FOUND, not FORBIDDEN).
    body = (await post(auth_client, query, api_keys["analyst"])).json()
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert "FORBIDDEN" not in codes, body


def test_role_order() -> None:
    assert Role.ADMIN.allows(Role.ANALYST)
    assert Role.ANALYST.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.ANALYST)


async def test_rate_limit_per_key(
    tmp_path: Any, session_factory: Any, api_keys: dict[str, str]
) -> None:
    from server.config import load_settings

    settings = load_settings(
        data_dir=tmp_path, auth="on", key_cache_s=60, rate_limit=0.5, rate_burst=3
    )
    async with api_client(settings, session_factory) as http:
        statuses = [(await post(http, QUERY, api_keys["viewer"])).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await post(http, QUERY, api_keys["viewer"])
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
        # another key has its own bucket
        assert (await post(http, QUERY, api_keys["admin"])).status_code == 200


def test_token_bucket_refills() -> None:
    from server.auth.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    assert limiter.acquire("k") == 0
    assert limiter.acquire("k") == 0
    assert limiter.acquire("k") == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.acquire("k") == 0
    assert RateLimiter(rate=0, burst=1).acquire("k") == 0


async def test_key_check_with_the_database_down_is_503(
    auth_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from server.auth import service

    async def down(*args: Any) -> None:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(service, "live_principals", down)
    response = await post(auth_client, QUERY, "cik_whatever")
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == "5"


async def test_a_flood_of_bad_keys_costs_no_database_work(
    tmp_path: Any,
    session_factory: Any,
    api_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys are checked against a snapshot of the live ones; an unknown key re-reads it at
    most once a second, so made-up keys do not each cost a query."""
    from server.auth import service
    from server.config import load_settings

    reads = count_awaits(monkeypatch, service, "live_principals")
    settings = load_settings(data_dir=tmp_path, auth="on", key_cache_s=10)
    async with api_client(settings, session_factory) as http:
        assert (await post(http, QUERY, api_keys["viewer"])).status_code == 200
        for i in range(100):
            assert (await post(http, QUERY, f"cik_made_up_{i}")).status_code == 401
        assert (await post(http, QUERY, api_keys["viewer"])).status_code == 200
    assert len(reads) <= 2, reads  # the first load, and at most one re-read a second
