"""One GraphQL operation, run straight on graphql-core: the HTTP layer's path.

``schema.execute`` runs the same steps through strawberry's extension machinery (an
execution context, an extensions runner and four extensions' hooks as async context
managers): ~0.19 ms per request, measured in-process on ``{ __typename }`` (0.23 ms through
``schema.execute``, 0.04 ms through graphql-core's ``execute``), about a quarter of the CPU
the server spent on that request. Here the same functions the extensions call run in one
place, in the same order:

1. the parsed document (the HTTP layer parsed it, with the token limit);
2. the operation and its type (``CannotGetOperationTypeError``, ``InvalidOperationTypeError``
   as strawberry raises them);
3. validation, cached with the document (``documents.validation_errors``), with the limits'
   rules (``limits.settings_rules``);
4. the cost estimate (``limits.cost_refusal``), then a query of the compiled hot paths as
   one SQL statement (``compiled``), anything else on graphql-core's executor with the
   deadline checked at each object (``execution.DeadlineExecutionContext``);
5. the request's session committed (a mutation without errors) or rolled back and closed
   (``RequestTransaction``), then the errors shaped and masked (``errors.shape_errors``).

``schema.execute`` (tests, scripts, schemas with other extensions) keeps the extensions; a
test runs a set of operations both ways and compares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, specified_rules
from graphql import execute as graphql_execute
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_first_operation, get_operation_type

from server.config import Switch
from server.graphql.compiled.run import run_compiled
from server.graphql.documents import validation_errors
from server.graphql.execution import DeadlineExecutionContext
from server.graphql.limits import cost_refusal, settings_rules
from server.graphql.schema import Schema
from server.kit.resolving.context import Context
from server.kit.resolving.errors import shape_errors

SPECIFIED_RULES = tuple(specified_rules)


def operation_name_of(document: DocumentNode, given: str | None) -> str | None:
    """The operation's name: the one given, else the first operation's (as strawberry)."""
    if given is not None:
        return given
    first = get_first_operation(document)
    return first.name.value if first is not None and first.name is not None else None


async def run_operation(
    schema: Schema,
    query: str,
    document: DocumentNode,
    context: Context,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    allowed: Collection[OperationType],
    *,
    encoded: bool = False,
) -> ExecutionResult:
    """Validate and execute ``document`` (parsed from ``query`` with the settings' token
    limit) as ``schema.execute`` with the product's extensions would. ``encoded``: a compiled
    query's data may come as ``EncodedJson`` (for ``replies.encode``)."""
    settings = context.settings
    name = operation_name_of(document, operation_name)
    try:
        operation_type = get_operation_type(document, name)
    except RuntimeError as error:
        raise CannotGetOperationTypeError(name) from error
    if operation_type not in allowed:
        raise InvalidOperationTypeError(operation_type)
    core = schema._schema
    result: ExecutionResult
    try:
        errors = validation_errors(
            query,
            {"max_tokens": settings.max_tokens},
            document,
            core,
            SPECIFIED_RULES + settings_rules(settings),
        )
        if errors:
            result = ExecutionResult(data=None, errors=errors)
        else:
            context.operation = (operation_type.value, name or "-")
            refusal = cost_refusal(core, document, name, variables or {}, settings)
            if refusal is not None:
                result = ExecutionResult(data=None, errors=[refusal])
            else:
                compiled = (
                    await run_compiled(core, document, context, variables, name, encoded=encoded)
                    if operation_type is OperationType.QUERY
                    and settings.compiled_queries is Switch.ON
                    else None
                )
                if compiled is not None:
                    result = compiled
                else:
                    result = await _execute(core, document, context, variables, name)
    except Exception as exc:  # as strawberry: any failure becomes one (masked) error
        failure = (
            exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
        )
        result = ExecutionResult(data=None, errors=[failure])
    ok = not result.errors
    await context.close(commit=ok and operation_type is OperationType.MUTATION)
    if result.errors:
        result.errors = shape_errors(result.errors, context.request_id, has_document=True)
    return result


async def _execute(
    core: GraphQLSchema,
    document: DocumentNode,
    context: Context,
    variables: dict[str, Any] | None,
    name: str | None,
) -> ExecutionResult:
    outcome = graphql_execute(
        core,
        document,
        variable_values=variables,
        operation_name=name,
        context_value=context,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        executor_class=DeadlineExecutionContext,
    )
    done = await outcome if isinstance(outcome, Awaitable) else outcome
    return ExecutionResult(data=done.data, errors=done.errors)
