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

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

from server.ingest.rows import RowError

M = TypeVar("M", bound=BaseModel)

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

    _CHECKS[validate] = check
    return BeforeValidator(validate)


_CHECKS: dict[Callable[[Any], Any], Callable[[Any], Any]] = {}
"""``checked``'s validators -> the checks they wrap (for ``RecordParser``'s fast path)."""

_MISSING = object()


class RecordParser(Generic[M]):
    """``model.model_validate(data)`` for models whose every field is one ``checked`` type,
    with a fast path: the fields' checks called directly, the record built without a second
    validation. Any failure (a check, a missing or unknown field) validates the row through
    pydantic again, so the errors are pydantic's, exactly. A model the fast path cannot
    describe is always validated by pydantic.

    The fast path is one function compiled per model (as ``dataclasses`` writes ``__init__``):
    measured on the engagement file, pydantic's machinery around eight plain checks per row was
    a third of the row's validation, and a generic loop over the fields another tenth."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        fields: list[tuple[str, Callable[[Any], Any], Any]] = []
        for name, info in model.model_fields.items():
            checks = [_CHECKS[m.func] for m in info.metadata if getattr(m, "func", None) in _CHECKS]
            if len(checks) != 1 or len(info.metadata) != 1:
                self.parse: Callable[[Mapping[str, Any]], M] = model.model_validate
                return
            default = _MISSING if info.is_required() else info.default
            fields.append((name, checks[0], default))
        self.parse = _compile(model, fields)


def _compile(
    model: type[M], fields: list[tuple[str, Callable[[Any], Any], Any]]
) -> Callable[[Mapping[str, Any]], M]:
    """``parse(data)`` for ``model``: each field's check inlined, pydantic on any failure."""
    scope: dict[str, Any] = {
        "MISSING": _MISSING,
        "slow": model.model_validate,
        "construct": model.model_construct,
        "model": model,
        "new": model.__new__,
        "set": object.__setattr__,
        "names": frozenset(model.model_fields),
    }
    lines = ["def parse(data):"]
    if model.model_config.get("extra") == "forbid":
        lines.append("    if not data.keys() <= names: return slow(data)")
    lines += ["    get = data.get", "    try:"]
    for i, (name, check, default) in enumerate(fields):
        scope[f"check{i}"], scope[f"default{i}"] = check, default
        lines.append(f"        v{i} = get({name!r}, MISSING)")
        if default is _MISSING:
            lines.append(f"        if v{i} is MISSING: return slow(data)")
            lines.append(f"        v{i} = check{i}(v{i})")
        else:
            lines.append(f"        v{i} = default{i} if v{i} is MISSING else check{i}(v{i})")
    # the same check fails under pydantic, which words the error
    lines.append("    except Exception: return slow(data)")
    values = "{" + ", ".join(f"{name!r}: v{i}" for i, (name, _, _) in enumerate(fields)) + "}"
    plain = not (
        model.__pydantic_root_model__
        or model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
    )
    if plain:
        # What ``model_construct`` does for a model with nothing more, without its per-field
        # alias and default lookups (a third of the fast path's time).
        lines += [
            "    record = new(model)",
            f"    set(record, '__dict__', {values})",
            "    set(record, '__pydantic_fields_set__', names)",
            "    set(record, '__pydantic_extra__', None)",
            "    set(record, '__pydantic_private__', None)",
            "    return record",
        ]
    else:
        lines.append(f"    return construct(**{values})")
    exec("\n".join(lines), scope)  # the source holds field names only, as repr literals
    parse: Callable[[Mapping[str, Any]], M] = scope["parse"]
    return parse


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
