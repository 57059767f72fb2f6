"""Running a compiled operation: one statement on the request's connection, its JSON as data
(the text itself when the HTTP layer asks for it: ``EncodedJson``).

The statement goes through ``context.fetch_one``: straight through the driver on a pooled
connection when the request has opened no session (``server.db.reads.DriverReads``: the
pool, its events, ``DBAPIError`` wrapping, so a cancelled statement is TIMEOUT and anything
else masked, and the invalidation of a lost connection are SQLAlchemy's), else as driver SQL
on the session's connection (tests, whose sessions share one rolled-back transaction). The
context's lock, deadline and close rules hold either way.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from graphql import GraphQLError, GraphQLSchema, located_error
from strawberry.types.execution import ExecutionResult

from server.graphql.encoded import EncodedJson, ascii_json
from server.kit.resolving.context import Context, ExecutionTimeout
from server.similarity.compiled_search import bind_query_vector
from server.similarity.service import SearchMode

from .plan import Plan, plan
from .shape import Shape
from .sql import has_sql, statement

QUERY_TYPENAME = "Query"
NON_NULL_ROOTS = frozenset({"titles", "similarTitles", "searchTitles"})
NULL_MEANS_ERROR = frozenset({"similarTitles", "searchTitles"})
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
    try:
        await _embed_queries(shape, compiled, context)
    except Exception:  # an embedder that cannot load, say: the executor's resolver reports it
        return None
    values: tuple[Any, ...] = ()
    if sql is not None:
        try:
            row = await context.fetch_one(sql, compiled.params)
        except Exception as exc:
            return _failed(exc, compiled)
        assert row is not None  # one row of one JSON column per root field, always
        values = row
        try:
            # the executor checks the deadline at each object it completes
            context.check_deadline()
        except ExecutionTimeout as exc:
            return _failed(exc, compiled)
        if _needs_executor(shape, values):
            return None
    return ExecutionResult(data=_data(shape, values, encoded), errors=None)


async def _embed_queries(shape: Shape, compiled: Plan, context: Context) -> None:
    """The query vector of each SEMANTIC or HYBRID ``searchTitles``, into the parameters."""
    for root in shape.roots:
        if root.name == "searchTitles" and root.mode is not None:
            mode = SearchMode(root.mode)
            if mode is SearchMode.KEYWORD:
                continue
            embedder = context.settings.embedder
            await bind_query_vector(compiled.params, root.prefix, mode, root.conditions, embedder)


def _needs_executor(shape: Shape, values: tuple[Any, ...]) -> bool:
    """A null ``similarTitles`` (its source gave no row) or ``searchTitles`` (a SEMANTIC or
    HYBRID search found nothing): the executor's resolver says why (not found, not
    embedded, no comparables vector) or answers the empty list."""
    answered = [root for root in shape.roots if root.of is not None]
    return any(
        root.name in NULL_MEANS_ERROR and value is None
        for root, value in zip(answered, values, strict=True)
    )


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
