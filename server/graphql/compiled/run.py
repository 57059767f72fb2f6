"""Running a compiled operation: one statement on the request's connection, its JSON as data
(the text itself when the HTTP layer asks for it: ``EncodedJson``).

The statement runs on the request session's connection (through ``context.db``, so the
session's lock, deadline and close rules hold) as driver SQL (``exec_driver_sql``: no
compilation, no ORM, no result types), so SQLAlchemy's events, error wrapping (a cancelled
statement is TIMEOUT, anything else masked) and connection invalidation still apply.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from graphql import GraphQLError, GraphQLSchema, located_error
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types.execution import ExecutionResult

from server.graphql.encoded import EncodedJson, ascii_json
from server.kit.resolving.context import Context, ExecutionTimeout

from .plan import Plan, plan
from .shape import Shape
from .sql import has_sql, statement

QUERY_TYPENAME = "Query"
NON_NULL_ROOTS = frozenset({"titles", "similarTitles"})
NULL_MEANS_ERROR = frozenset({"similarTitles"})
QUERY_JSON = f'"{QUERY_TYPENAME}"'


async def run_compiled(
    schema: GraphQLSchema,
    document: Any,
    context: Context,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    *,
    encoded: bool = False,
) -> ExecutionResult | None:
    """The result of a validated query answered by one statement, or None when the executor
    must answer it (see ``plan``); its data as ``EncodedJson`` when ``encoded``."""
    if context.timed_out or time.monotonic() > context.deadline:
        return None  # the executor reports the timeout
    compiled = plan(schema, document, variables, operation_name, context.principal)
    if compiled is None:
        return None
    shape = compiled.shape
    sql: str | None = None
    if has_sql(shape):
        try:
            sql = statement(shape)
        except ValueError:  # a shape the features cannot read
            return None
    values: tuple[Any, ...] = ()
    if sql is not None:
        text = sql
        try:
            values = await context.db(lambda s: _fetch(s, text, compiled.params))
        except Exception as exc:
            return _failed(exc, compiled)
        try:
            # the executor checks the deadline at each object it completes
            context.check_deadline()
        except ExecutionTimeout as exc:
            return _failed(exc, compiled)
        if _needs_executor(shape, values):
            return None
    return ExecutionResult(data=_data(shape, values, encoded), errors=None)


def _needs_executor(shape: Shape, values: tuple[Any, ...]) -> bool:
    """A null ``similarTitles``: its source gave no row, and the executor's resolver says why
    (not found, not embedded, no comparables vector) on the same session."""
    answered = [root for root in shape.roots if root.of is not None]
    return any(
        root.name in NULL_MEANS_ERROR and value is None
        for root, value in zip(answered, values, strict=True)
    )


async def _fetch(session: AsyncSession, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    connection = await session.connection()
    row = (await connection.exec_driver_sql(sql, params)).first()
    assert row is not None
    return tuple(row)


def _data(shape: Shape, values: tuple[Any, ...], encoded: bool) -> dict[str, Any]:
    """The response's data: as JSON text (``EncodedJson``) when ``encoded``, else decoded."""
    parts: list[str] = []
    position = 0
    for root in shape.roots:
        if root.of is None:
            value = QUERY_JSON
        else:
            value = values[position]
            position += 1
            if value is None:
                value = "null"
        parts.append(f'"{root.key}":{value}')
    text = ascii_json("{" + ",".join(parts) + "}")
    if encoded:
        # the HTTP layer's reply encoder splices the text (``replies.encode``)
        return cast(dict[str, Any], EncodedJson(text))
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def _failed(exc: Exception, compiled: Plan) -> ExecutionResult:
    """A failed statement (or a deadline passed meanwhile) as the executor reports a failed
    root field: an error located at each root field the statement answered; data null when
    one of them is non-null. With one root field (the hot paths) this is exactly the
    executor's answer; with several, the executor might have failed only some of them."""
    errors: list[GraphQLError] = []
    data: dict[str, Any] | None = {}
    for root in compiled.shape.roots:
        if root.of is None:
            if data is not None:
                data[root.key] = QUERY_TYPENAME
            continue
        nodes = compiled.nodes.get(root.key)
        errors.append(located_error(exc, nodes, [root.key]))
        if root.name in NON_NULL_ROOTS:
            data = None
        elif data is not None:
            data[root.key] = None
    return ExecutionResult(data=data, errors=errors)
