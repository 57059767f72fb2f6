"""Records described as pydantic models, their errors as ``RowError``s.

A feature describes one record of a file as a ``BaseModel`` whose fields are ``Annotated``
types (``Rate = Annotated[float, BeforeValidator(rate)]``): the validators take CSV text and
JSON values alike and raise ``reject(reason)`` with the message a user reads. ``row_errors``
turns a ``ValidationError`` into one ``RowError`` per field (line, field, reason), so a file's
rejects name the line and the column like every other check.

Checks that need the database or the whole file (is the title known, duplicates) stay outside
the model: it validates one record on its own, fast (``model_validate`` on the reader's dict).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from server.ingest.rows import RowError

REJECTED = "rejected"
"""The error type of ``reject``: its message is the reason, as is."""


def reject(reason: str) -> PydanticCustomError:
    """Raise this from a field validator: ``reason`` becomes the ``RowError``'s reason."""
    return PydanticCustomError(REJECTED, "{reason}", {"reason": reason})


class FieldError(ValueError):
    """A field check that knows its field's name (``info.field_name``) failed."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def checked(check: Callable[[Any], Any]) -> BeforeValidator:
    """A field validator from ``check(value)``, which returns the clean value or raises
    ``FieldError``: its reason becomes the row error's (the field comes from the error's
    location). A plain validator, without pydantic's ``ValidationInfo``: building that for
    every field of a million rows cost a fifth of the engagement validation."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except FieldError as exc:
            raise reject(exc.reason) from None

    return BeforeValidator(validate)


_MESSAGES = {"missing": "missing", "extra_forbidden": "unknown field"}


def row_errors(exc: ValidationError, line: int, external_id: str | None) -> list[RowError]:
    """One ``RowError`` per error of ``exc``, in field order: the field is the error's first
    location (``row`` for the record as a whole), the reason its message."""
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = error["loc"]
        field = str(loc[0]) if loc else "row"
        reason = _MESSAGES.get(error["type"], error["msg"])
        errors.append(RowError(line, field, reason, external_id))
    return errors
