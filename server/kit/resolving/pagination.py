"""Relay-connection plumbing shared by every list that grows: page info, `first`, `after`."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from server.kit.pagination import MAX_PAGE_SIZE, InvalidCursor, check_first, decode_cursor
from server.kit.resolving.errors import bad_input


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
    """A connection's `first`: 0 (only `totalCount`) to the page-size limit."""
    return check_first(first, MAX_PAGE_SIZE, default=default, minimum=0)


def after_key(kind: str, after: str | None) -> int | None:
    """The keyset position an `after` cursor points at; BAD_USER_INPUT when malformed."""
    if not after:
        return None
    try:
        return decode_cursor(kind, after)
    except InvalidCursor as exc:
        raise bad_input(str(exc), "after") from None
