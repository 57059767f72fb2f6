"""Error shaping: expected errors get ``extensions.code``; anything else is masked and logged."""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from server.kit.errors import ErrorCode, ExpectedError

log = logging.getLogger("contentintel.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, ExpectedError | GraphQLError)


class ErrorShaping(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        for error in errors:
            original = error.original_error
            if isinstance(original, ExpectedError):
                error.extensions = {**(error.extensions or {}), "code": original.code.value}
                if original.field:
                    error.extensions["field"] = original.field
            elif original is None and not (error.extensions or {}).get("code"):
                # Parse and validation errors: the client's request is at fault.
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return super()._process_errors(errors)


def bad_input(message: str, field: str | None = None) -> ExpectedError:
    return ExpectedError(message, code=ErrorCode.BAD_USER_INPUT, field=field)
