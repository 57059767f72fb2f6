"""Page sizes (``first``) and opaque cursors for keyset pagination (``base64("<kind>:<key>")``)."""

from __future__ import annotations

import base64
import binascii

from server.kit.errors import BadInput

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 20


class InvalidCursor(ValueError):
    pass


def encode_cursor(kind: str, key: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        prefix, _, key = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if prefix != kind:
            raise ValueError
        return int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(f"invalid cursor {cursor!r}") from None


def check_first(
    first: int | None,
    maximum: int,
    *,
    default: int = DEFAULT_PAGE_SIZE,
    minimum: int = 1,
    field: str = "first",
) -> int:
    """The one rule for ``first`` (how many items a list returns), wherever it is an argument.

    Omitted (``None``) means ``default``; a value outside ``minimum..maximum`` is ``BadInput``
    (``BAD_USER_INPUT``) naming ``field``: "first must be between 1 and 500, got 0". Lists
    accept 1 or more unless an empty page is meaningful (a connection's ``totalCount`` alone:
    ``minimum=0``); ``maximum`` bounds the work one request may ask for, per field.
    """
    size = default if first is None else first
    if not minimum <= size <= maximum:
        raise BadInput(f"{field} must be between {minimum} and {maximum}, got {size}", field=field)
    return size
