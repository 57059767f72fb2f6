"""The compiled hot paths answer exactly as graphql-core's executor: the same JSON, byte for
byte (key order, floats, nulls), the same errors; anything they do not support falls back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from server.config import Settings, Switch
from server.graphql.compiled.sql import statement
from server.graphql.documents import parse_document
from server.graphql.operation import run_operation
from server.graphql.schema import TITLE_CURSOR, schema
from server.kit.pagination import encode_cursor
from server.kit.resolving.context import Context
from server.kit.roles import Principal, Role
from server.models.catalog import Title
from tests.helpers import acreate_titles, api_client, title_record

EVERY = """id externalId kind name synopsis releaseYear dateAdded maturityRating durationMinutes
  seasons originalLanguage genres tags { kind name weight __typename } __typename"""
PAGE = """totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id name } }"""

# (query, variables); ``$id``/``$id2`` are the first/second title's ids, ``$after`` the
# cursor of the second title.
COMPILED: list[tuple[str, dict[str, Any]]] = [
    ("query($id: ID!) { title(id: $id) { id name genres } }", {}),
    (f"query($id: ID!) {{ title(id: $id) {{ {EVERY} }} }}", {}),
    (f"query($id: ID!) {{ title(id: $id) {{ {EVERY} }} }}", {"which": 1}),
    ('{ titleByExternalId(externalId: "c2") { name kind seasons tags { name weight } } }', {}),
    (
        """query($id: ID!) { a: title(id: $id) { n: name k: kind i: id }
           b: titleByExternalId(externalId: "c3") { id name: externalId } }""",
        {},
    ),
    (
        """query($id: ID!) { title(id: $id) { ...F ... on Title { name id } kind }
           } fragment F on Title { id kind tags(kind: GENRE) { name kind } genres }""",
        {},
    ),
    (
        """query($id: ID!, $s: Boolean!) { title(id: $id) { name @skip(if: $s)
           kind @include(if: $s) ... on Title @include(if: $s) { synopsis } } }""",
        {"s": True},
    ),
    (
        """query($id: ID!, $s: Boolean!) { title(id: $id) { name @skip(if: $s)
           kind @include(if: $s) ... on Title @include(if: $s) { synopsis } } }""",
        {"s": False},
    ),
    ('{ title(id: "999999999") { name } titleByExternalId(externalId: "none") { id } }', {}),
    ('{ title(id: " 42") { name } }', {}),  # int(" 42"): as parse_id reads it
    ("query($id: ID!) { title(id: $id) { name } title(id: $id) { kind name } }", {}),
    (
        "query($id: ID!, $k: TagKind) { title(id: $id) { tags(kind: $k) { name weight } } }",
        {"k": "MOOD"},
    ),
    (
        "query($id: ID!, $k: TagKind) { title(id: $id) { tags(kind: $k) { name weight } } }",
        {"k": None},
    ),
    (f"{{ titles(first: 2) {{ {PAGE} }} }}", {}),
    (f"query($after: String) {{ titles(first: 2, after: $after) {{ {PAGE} }} }}", {}),
    (f'{{ titles(first: 3, after: "") {{ {PAGE} }} }}', {}),
    (f"{{ titles(first: 0) {{ {PAGE} }} }}", {}),
    (f"{{ titles(first: 500) {{ {PAGE} }} }}", {}),
    ("{ titles { edges { node { id } } } }", {}),
    (f"{{ titles(first: null) {{ {PAGE} }} }}", {}),
    (
        """{ __typename titles(first: 3) { __typename pageInfo { __typename endCursor }
           edges { __typename node { __typename genres tags { __typename weight } } } } }""",
        {},
    ),
    (
        """{ titles(first: 2) { a: edges { node { name } } b: edges { cursor node { kind } }
           p: pageInfo { hasNextPage } q: pageInfo { startCursor } } }""",
        {},
    ),
    ("{ titles(filter: {kind: SHOW}) { totalCount edges { node { name kind } } } }", {}),
    ('{ titles(filter: {genres: ["dramas", "COMEDIES"]}) { totalCount edges { cursor } } }', {}),
    ("{ titles(filter: {genres: []}) { totalCount edges { node { name } } } }", {}),
    ('{ titles(filter: {originCountries: ["gb"]}) { totalCount edges { node { name } } } }', {}),
    (
        """{ titles(filter: {releaseYearMin: 2000, releaseYearMax: 2019}) { totalCount
           edges { node { name releaseYear } } } }""",
        {},
    ),
    ('{ titles(filter: {text: "detective"}) { totalCount edges { node { name } } } }', {}),
    ('{ titles(filter: {text: "   "}) { totalCount edges { node { name } } } }', {}),
    (
        """query($f: TitleFilter, $after: String) { titles(first: 1, after: $after, filter: $f) {
           totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
           edges { cursor node { name genres tags(kind: GENRE) { name weight } } } } }""",
        {"f": {"kind": "MOVIE", "genres": ["Dramas"], "releaseYearMin": 1990, "text": None}},
    ),
    (
        """{ a: titles(first: 1) { edges { node { name } } }
           b: titles(first: 1, filter: {kind: SHOW}) { totalCount }
           c: titleByExternalId(externalId: "c1") { name } }""",
        {},
    ),
    ("{ __typename }", {}),
]

FALLBACK: list[tuple[str, dict[str, Any]]] = [
    ('{ title(id: "abc") { id } }', {}),
    ('{ title(id: "0") { id } }', {}),
    ('{ titleByExternalId(externalId: "c1") { name cast } }', {}),
    ("{ titles(first: 501) { totalCount } }", {}),
    ("{ titles(first: -1) { totalCount } }", {}),
    ('{ titles(after: "bogus") { totalCount } }', {}),
    ("query($n: Int) { titles(first: $n) { totalCount } }", {"n": "many"}),
    ("{ titles { totalCount } tags { name } }", {}),
    ("query($id: ID!) { title(id: $id) { name originCountries { code } } }", {}),
    # NUL in a variable (the HTTP layer refuses it; the executor reports what Postgres says)
    ("query($e: String!) { titleByExternalId(externalId: $e) { name } }", {"e": "c\x00"}),
    ("query($id: ID!) { title(id: $id) { name similar { score } } }", {}),
    (
        "query($f: TitleFilter) { titles(filter: $f) { totalCount } }",
        {"f": {"genres": ["a\x00"]}},
    ),
]


@pytest.fixture
async def catalog(aconn: AsyncConnection) -> dict[str, Any]:
    await acreate_titles(
        aconn,
        title_record(external_id="c1", name="Alpha", genres=["Dramas"], origin_countries=["GB"]),
        title_record(
            external_id="c2",
            kind="SHOW",
            name='Beta "quoted" \\ ünïcode',
            synopsis=None,
            release_year=None,
            date_added=None,
            duration_minutes=None,
            seasons=3,
            genres=["Comedies", "Dramas"],
            tags=[
                {"kind": "MOOD", "name": "warm", "weight": 1.0},
                {"kind": "MOOD", "name": "dark", "weight": 0.3},
                {"kind": "THEME", "name": "family", "weight": 0.123456},
            ],
        ),
        title_record(external_id="c3", name="Gamma", release_year=1995, tags=[], genres=[]),
        title_record(external_id="c4", name="Delta", synopsis="a detective story"),
    )
    ids = list(
        await aconn.scalars(
            select(Title.id).where(Title.external_id.in_(["c1", "c2"])).order_by(Title.id)
        )
    )
    return {"id": str(ids[0]), "id2": str(ids[1]), "after": encode_cursor(TITLE_CURSOR, ids[0])}


def _variables(given: dict[str, Any], catalog: dict[str, Any]) -> dict[str, Any]:
    out = {"id": catalog["id2"] if given.get("which") else catalog["id"]}
    out["after"] = catalog["after"]
    out.update({k: v for k, v in given.items() if k != "which"})
    return out


async def _answer(*args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
    """``run_query``'s result as (the data's JSON text, the formatted errors)."""
    result = await run_query(*args, **kwargs)
    errors = [e.formatted for e in result.errors or []]
    return json.dumps(result.data), errors


async def run_query(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    variables: dict[str, Any],
    compiled: bool,
    timeout_s: float | None = None,
    *,
    encoded: bool = False,
) -> ExecutionResult:
    """One query as a viewer, compiled queries on or off, sending only the variables the
    operation declares (as a client would)."""
    settings = settings.model_copy(
        update={"compiled_queries": Switch.ON if compiled else Switch.OFF}
    )
    document = parse_document(query, settings.max_tokens)
    context = Context(
        settings=settings,
        sessions=sessions,
        principal=Principal("test", Role.VIEWER, key_id=1),
        request_id="req-1",
        document=document,
    )
    if timeout_s is not None:
        context.deadline = time.monotonic() + timeout_s
    declared = {v for v in variables if f"${v}" in query}
    used = {k: v for k, v in variables.items() if k in declared}
    try:
        return await run_operation(
            schema, query, document, context, used, None, {OperationType.QUERY}, encoded=encoded
        )
    finally:
        await context.close()


@pytest.mark.parametrize(("query", "variables"), COMPILED)
async def test_compiled_answers_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
    executed: list[str],
    query: str,
    variables: dict[str, Any],
) -> None:
    given = _variables(variables, catalog)
    expected = await _answer(settings, session_factory, query, given, compiled=False)
    assert executed == ["executor"]
    executed.clear()
    for _ in range(2):  # the plan built, then the plan from the template kept with the document
        got = await _answer(settings, session_factory, query, given, compiled=True)
        assert executed == []  # answered by the compiled path
        assert got == expected
    assert not expected[1], expected


@pytest.mark.parametrize(("query", "variables"), FALLBACK)
async def test_unsupported_queries_fall_back(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
    executed: list[str],
    query: str,
    variables: dict[str, Any],
) -> None:
    given = _variables(variables, catalog)
    expected = await _answer(settings, session_factory, query, given, compiled=False)
    got = await _answer(settings, session_factory, query, given, compiled=True)
    assert executed == ["executor", "executor"]
    assert got == expected


async def test_the_http_body_is_the_same(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
) -> None:
    """Through the app: the same response bytes (the HTTP layer encodes ``data``)."""
    query = f"""query($id: ID!, $after: String) {{ title(id: $id) {{ {EVERY} }}
        titles(first: 2, after: $after) {{ {PAGE} }} }}"""
    variables = {"id": catalog["id2"], "after": catalog["after"]}
    bodies = []
    for switch in (Switch.OFF, Switch.ON):
        configured = settings.model_copy(update={"compiled_queries": switch})
        async with api_client(configured, session_factory) as client:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            assert response.status_code == 200
            bodies.append(response.content)
    assert bodies[0] == bodies[1]
    assert b'"weight":1.0' in bodies[1]


async def test_a_failed_statement_is_an_error_like_the_executors(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A statement Postgres refuses: masked, located at the root field, data as the
    executor leaves it (null for ``titles``, a null ``title``)."""
    from server.catalog import service
    from server.graphql.compiled import run

    async def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret")

    monkeypatch.setattr(service, "title_with_tags", boom)
    monkeypatch.setattr(service, "list_titles", boom)
    monkeypatch.setattr(run, "statement", lambda shape: "SELECT 1/0")
    for query in ('{ title(id: "1") { name } }', "{ titles { totalCount } }"):
        got = await _answer(settings, session_factory, query, {}, compiled=True)
        expected = await _answer(settings, session_factory, query, {}, compiled=False)
        assert got == expected


async def test_a_deadline_passed_during_the_statement_is_a_timeout_like_the_executors(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.catalog import service
    from server.kit.resolving.context import Context

    def slow(fn: Callable[..., Any]) -> Callable[..., Any]:
        async def slowed(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0.2)
            return await fn(*args, **kwargs)

        return slowed

    monkeypatch.setattr(service, "title_with_tags", slow(service.title_with_tags))
    monkeypatch.setattr(service, "list_titles", slow(service.list_titles))
    monkeypatch.setattr(Context, "fetch_one", slow(Context.fetch_one))
    for query in (
        f'{{ title(id: "{catalog["id"]}") {{ name }} }}',
        "{ titles { edges { node { name } } } }",
    ):
        got = await _answer(settings, session_factory, query, {}, compiled=True, timeout_s=0.1)
        expected = await _answer(
            settings, session_factory, query, {}, compiled=False, timeout_s=0.1
        )
        assert got == expected
        assert got[1][0]["extensions"]["code"] == "TIMEOUT"


def test_statements_are_cached_per_shape() -> None:
    from server.graphql.compiled.shape import Field, Obj, Root, Shape

    shape = Shape((Root("t", "title", "r0_", Obj("Title", (Field("name", "name"),))),))
    assert statement(shape) is statement(
        Shape((Root("t", "title", "r0_", Obj("Title", (Field("name", "name"),))),))
    )


async def test_http_client_fixture_uses_the_compiled_path(
    client: httpx.AsyncClient, catalog: dict[str, Any], executed: list[str]
) -> None:
    response = await client.post(
        "/graphql", json={"query": '{ titleByExternalId(externalId: "c1") { name } }'}
    )
    assert response.json() == {"data": {"titleByExternalId": {"name": "Alpha"}}}
    assert executed == []


TITLE_LEAVES = [
    "id",
    "externalId",
    "kind",
    "name",
    "synopsis",
    "releaseYear",
    "dateAdded",
    "maturityRating",
    "durationMinutes",
    "seasons",
    "originalLanguage",
    "genres",
    "__typename",
    "tags { name weight kind }",
    "moods: tags(kind: MOOD) { weight }",
]
FILTERS = [
    'genres: ["dramas"]',
    'originCountries: ["GB", "us"]',
    "releaseYearMin: 1996",
    "releaseYearMax: 2000",
    'text: "story"',
]


def _random_query(rng: Any, catalog: dict[str, Any]) -> str:
    def title_selection() -> str:
        picked = rng.sample(TITLE_LEAVES, rng.randint(1, 6))
        return " ".join(
            f"a{i}: {f}" if rng.random() < 0.3 and not f.startswith("moods:") else f
            for i, f in enumerate(picked)
        )

    roots = []
    for i in range(rng.randint(1, 3)):
        which = rng.choice(["title", "byExternal", "titles"])
        if which == "title":
            key = rng.choice([catalog["id"], catalog["id2"], "999999"])
            roots.append(f'r{i}: title(id: "{key}") {{ {title_selection()} }}')
        elif which == "byExternal":
            key = rng.choice(["c1", "c2", "c3", "c4", "nope"])
            roots.append(f'r{i}: titleByExternalId(externalId: "{key}") {{ {title_selection()} }}')
        else:
            kind = [rng.choice(["kind: MOVIE", "kind: SHOW"])] if rng.random() < 0.3 else []
            flt = ", ".join(kind + rng.sample(FILTERS, rng.randint(0, 2)))
            after = f', after: "{catalog["after"]}"' if rng.random() < 0.4 else ""
            page = rng.choice(["", "totalCount", "pageInfo { hasNextPage endCursor }"])
            roots.append(
                f"r{i}: titles(first: {rng.randint(0, 4)}{after}, filter: {{{flt}}}) {{ {page} "
                f"edges {{ cursor node {{ {title_selection()} }} }} }}"
            )
    return "{ " + " ".join(roots) + " }"


async def test_random_selections_answer_as_the_executor(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    catalog: dict[str, Any],
    executed: list[str],
) -> None:
    import random

    rng = random.Random(15)
    for _ in range(80):
        query = _random_query(rng, catalog)
        expected = await _answer(settings, session_factory, query, {}, compiled=False)
        assert executed == ["executor"], expected  # validated and executed
        executed.clear()
        got = await _answer(settings, session_factory, query, {}, compiled=True)
        assert executed == [], query
        assert got == expected, query
        assert not expected[1], (query, expected[1])
