"""What a query selects under a field, so that resolvers fetch only that.

Fragments (named and inline) are expanded; ``@skip`` / ``@include`` are not evaluated, so a
field under a directive counts as selected: the answer is a superset of what will be read,
never less (fetching a column nobody reads costs a little; not fetching one that is read
would be wrong data).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, fragments expanded."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from fields(selection.selections)


def under(selections: Iterable[Selection], *path: str) -> list[Selection]:
    """The selections under the fields named ``path`` (every occurrence of each, merged)."""
    current = list(selections)
    for name in path:
        current = [s for f in fields(current) if f.name == name for s in f.selections]
    return current


def names(selections: Iterable[Selection]) -> set[str]:
    """The (schema) names of the fields selected, aliases ignored."""
    return {f.name for f in fields(selections)}


def selects(selections: Sequence[Selection], *path: str) -> bool:
    """Whether the field at ``path`` is selected (its last name among its parent's)."""
    *parent, last = path
    return last in names(under(selections, *parent))
