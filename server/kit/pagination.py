"""Opaque cursors for keyset pagination (``base64("<kind>:<key>")``)."""

from __future__ import annotations

import base64
import binascii

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


def check_page_size(first: int | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    size = default if first is None else first
    if not 0 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"first must be between 0 and {MAX_PAGE_SIZE}, got {size}")
    return size
