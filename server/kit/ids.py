"""Numeric ids as clients send them (GraphQL ``ID`` values are strings)."""

from __future__ import annotations

from server.kit.errors import BadInput


def parse_id(value: object, what: str, field: str = "id", *, positive: bool = True) -> int:
    """The one rule for a numeric id argument: decimal digits (``"42"``), else ``BadInput``
    ("id must be a numeric title id, got 'x'"). Ids are positive: with ``positive`` a value of
    0 or less is ``BadInput`` too; without it the caller decides (a lookup answers null)."""
    try:
        number = int(str(value))
    except ValueError:
        raise BadInput(f"{field} must be a numeric {what} id, got {value!r}", field=field) from None
    if positive and number <= 0:
        raise BadInput(f"{field} must be positive, got {value!r}", field=field)
    return number
