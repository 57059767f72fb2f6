"""Error shaping: expected errors get ``extensions.code``; anything else is masked and logged.

Masked errors carry the request id (``extensions.requestId``, also the ``X-Request-ID``
response header) so that a client's report can be matched to the logged traceback.
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import MaskErrors

from server.kit.errors import ErrorCode, ExpectedError

log = logging.getLogger("contentintel.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
QUERY_CANCELED = "57014"


def as_expected(error: BaseException | None) -> ExpectedError | None:
    """The expected error this exception stands for: itself, or a timeout."""
    if isinstance(error, ExpectedError):
        return error
    if isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == QUERY_CANCELED:
        return ExpectedError(
            "the query took longer than the statement timeout", code=ErrorCode.TIMEOUT
        )
    if isinstance(error, PoolTimeout):
        return ExpectedError(
            "the server is busy (no database connection free in time): retry later",
            code=ErrorCode.TIMEOUT,
        )
    return None


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError)
        and as_expected(original) is None
    )


def shape_errors(
    errors: list[GraphQLError], request_id: str, has_document: bool
) -> list[GraphQLError]:
    """Expected errors get their ``extensions.code``; unexpected ones are logged with the
    request id and masked. ``has_document``: False when the errors are the parser's."""
    request_fault = VALIDATION if has_document else PARSE_FAILED
    shaped: list[GraphQLError] = []
    for error in errors:
        expected = as_expected(error.original_error)
        if expected is not None:
            if expected is not error.original_error:
                error = GraphQLError(
                    str(expected),
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    original_error=expected,
                )
            error.extensions = {**(error.extensions or {}), "code": expected.code.value}
            if expected.field:
                error.extensions["field"] = expected.field
        elif (
            error.original_error is None or isinstance(error.original_error, GraphQLError)
        ) and not (error.extensions or {}).get("code"):
            # Parse, validation and variable-coercion errors: the request is at fault.
            error.extensions = {**(error.extensions or {}), "code": request_fault}
        shaped.append(_masked(error, request_id) if _is_unexpected(error) else error)
    return shaped


def _masked(error: GraphQLError, request_id: str) -> GraphQLError:
    log.error(
        "unexpected error in %s (request %s)",
        ".".join(str(p) for p in error.path or []) or "operation",
        request_id,
        exc_info=error.original_error,
        extra={"request_id": request_id},
    )
    return GraphQLError(
        message=MASKED,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": INTERNAL, "requestId": request_id},
    )


MASKED = "Unexpected error."


class ErrorShaping(MaskErrors):
    """``shape_errors`` as a strawberry extension, for ``schema.execute`` callers (the HTTP
    layer calls it directly: ``server.graphql.operation``)."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        ctx = self.execution_context
        request_id = str(getattr(ctx.context, "request_id", "-"))
        return shape_errors(errors, request_id, ctx.graphql_document is not None)


def bad_input(message: str, field: str | None = None) -> ExpectedError:
    return ExpectedError(message, code=ErrorCode.BAD_USER_INPUT, field=field)
