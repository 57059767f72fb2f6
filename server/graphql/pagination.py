"""Relay-connection plumbing shared by every list that grows: page info, `first`, `after`."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from server.graphql.errors import bad_input
from server.kit.pagination import InvalidCursor, check_page_size, decode_cursor


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: Sequence[str], *, has_next: bool, after_given: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=after_given,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


def page_size(first: int | None, default: int = 20) -> int:
    """`first` checked against the page-size limit; BAD_USER_INPUT when outside it."""
    try:
        return check_page_size(first, default)
    except ValueError as exc:
        raise bad_input(str(exc), "first") from None


def after_key(kind: str, after: str | None) -> int | None:
    """The keyset position an `after` cursor points at; BAD_USER_INPUT when malformed."""
    if not after:
        return None
    try:
        return decode_cursor(kind, after)
    except InvalidCursor as exc:
        raise bad_input(str(exc), "after") from None
