"""Expected failures, raised by services and mapped to GraphQL ``extensions.code`` values."""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"


class ExpectedError(Exception):
    """An error the client caused or can act on; its message is safe to show."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.field = field


class BadInput(ExpectedError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(ExpectedError):
    code = ErrorCode.NOT_FOUND
