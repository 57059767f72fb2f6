"""The HTTP layer's direct path (``run_operation``) answers exactly as ``schema.execute`` with
the product's extensions: same data, same errors (codes, masking), same commits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from server.config import Settings
from server.graphql.documents import parse_document
from server.graphql.operation import run_operation
from server.graphql.schema import schema
from server.kit.resolving.context import Context
from server.kit.roles import Principal, Role
from server.models.catalog import Title
from tests.helpers import acreate_titles, title_record

BOTH = {OperationType.QUERY, OperationType.MUTATION}
DEEP = "{ titles { edges { node { similar { title { similar { title { similar { title {"
DEEP += " similar { title { name } } } } } } } } } } } }"
UPSERT = """mutation($input: [TitleInput!]!) { upsertTitles(input: $input) {
  inserted errors { field message } } }"""
CASES: list[tuple[str, dict[str, Any] | None, str | None, Role]] = [
    ("{ __typename }", None, None, Role.ADMIN),
    (
        "query Named { titles(first: 2) { totalCount edges { node { name kind } } } }",
        None,
        None,
        Role.VIEWER,
    ),
    ('{ title(id: "abc") { id } }', None, None, Role.VIEWER),
    ('{ title(id: "1") { id } nope }', None, None, Role.VIEWER),
    ("query($n: Int) { titles(first: $n) { totalCount } }", {"n": "many"}, None, Role.VIEWER),
    ("query($n: Int) { titles(first: $n) { totalCount } }", {"n": 501}, None, Role.VIEWER),
    (DEEP, None, None, Role.VIEWER),
    (
        "{ titles(first: 500) { edges { node { similar(first: 50) { score } } } } }",
        None,
        None,
        Role.VIEWER,
    ),
    ('{ similarTitles(titleId: "999999") { score } }', None, None, Role.VIEWER),
    ('{ forecast(titleId: "1") { modelVersion } }', None, None, Role.VIEWER),
    ("{ a: __typename } query B { titles(first: 1) { totalCount } }", None, "B", Role.VIEWER),
    ('{ titleByExternalId(externalId: "op1") { name } }', None, None, Role.VIEWER),
    ('{ title(id: "1") { name } }', None, None, Role.VIEWER),
    (UPSERT, {"input": [{"externalId": "op9", "kind": "MOVIE", "name": ""}]}, None, Role.ADMIN),
    (UPSERT, {"input": [{"externalId": "op9", "kind": "MOVIE", "name": "New"}]}, None, Role.VIEWER),
    # several operations and no name: strawberry runs the first
    ("query A { __typename } query B { titles(first: 1) { totalCount } }", None, None, Role.VIEWER),
]  # a mutation that commits: test_a_mutation_commits_once_on_either_path


def _shape(result: Any) -> tuple[Any, Any]:
    return result.data, [e.formatted for e in result.errors or []]


async def _both(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    query: str,
    variables: dict[str, Any] | None,
    name: str | None,
    role: Role,
    allowed: set[OperationType] = BOTH,
) -> tuple[Any, Any]:
    document = parse_document(query, settings.max_tokens)
    answers = []
    for direct in (True, False):
        context = Context(
            settings=settings,
            sessions=sessions,
            principal=Principal("test", role, key_id=1),
            request_id="req-1",
            document=document,
        )
        if direct:
            result = await run_operation(schema, query, document, context, variables, name, allowed)
        else:
            result = await schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=name,
                allowed_operation_types=allowed,
            )
        await context.close()
        answers.append((_shape(result), context.operation))
    return answers[0], answers[1]


@pytest.mark.parametrize(("query", "variables", "name", "role"), CASES)
async def test_same_answers_as_schema_execute(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    aconn: AsyncConnection,
    query: str,
    variables: dict[str, Any] | None,
    name: str | None,
    role: Role,
) -> None:
    await acreate_titles(aconn, title_record(external_id="op1"))
    direct, extensions = await _both(settings, session_factory, query, variables, name, role)
    assert direct == extensions


async def test_a_mutation_commits_once_on_either_path(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession], aconn: AsyncConnection
) -> None:
    variables = {"input": [{"externalId": "op-commit", "kind": "MOVIE", "name": "Kept"}]}
    direct, extensions = await _both(settings, session_factory, UPSERT, variables, None, Role.ADMIN)
    assert direct[0][0] == {"upsertTitles": {"inserted": 1, "errors": []}}
    assert extensions[0][0] == {"upsertTitles": {"inserted": 0, "errors": []}}  # now an update
    stored = await aconn.scalar(
        select(func.count()).select_from(Title).where(Title.external_id == "op-commit")
    )
    assert stored == 1


async def test_unexpected_errors_are_masked_alike(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.catalog import service

    async def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret")

    monkeypatch.setattr(service, "title_with_tags", boom)
    # ``cast``: not compiled (``test_compiled`` covers a failed compiled statement)
    direct, extensions = await _both(
        settings, session_factory, '{ title(id: "1") { name cast } }', None, None, Role.VIEWER
    )
    assert direct == extensions
    assert direct[0][1][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}


@pytest.mark.parametrize(
    ("query", "name", "allowed", "raised"),
    [
        ("mutation { __typename }", None, {OperationType.QUERY}, InvalidOperationTypeError),
        ("query A { __typename }", "C", BOTH, CannotGetOperationTypeError),
    ],
)
async def test_the_same_request_errors(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    query: str,
    name: str | None,
    allowed: set[OperationType],
    raised: type[Exception],
) -> None:
    document = parse_document(query, settings.max_tokens)
    context = Context(settings=settings, sessions=session_factory, document=document)
    with pytest.raises(raised):
        await run_operation(schema, query, document, context, None, name, allowed)
    await context.close()
    context = Context(settings=settings, sessions=session_factory, document=document)
    with pytest.raises(raised):
        await schema.execute(
            query, context_value=context, operation_name=name, allowed_operation_types=allowed
        )
    await context.close()
