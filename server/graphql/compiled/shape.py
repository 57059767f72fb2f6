"""The shape of a compiled operation: what it selects, without the request's values.

A shape is hashable and holds no argument value, only the names of the parameters that carry
them: two requests of one query text (and the same ``@skip``/``@include`` outcome and
arguments given) have equal shapes, so the statement is built once per shape
(``sql.statement``) and the values are bound per request.
"""

from __future__ import annotations

from dataclasses import dataclass

TYPENAME = "__typename"


@dataclass(frozen=True, slots=True)
class Field:
    """One response key of an object: a leaf, ``__typename``, or an object (list) field."""

    key: str
    """The response key (the alias, else the field's name)."""
    name: str
    """The schema field's name."""
    of: Obj | None = None
    """The sub-selection of an object or list-of-objects field."""
    param: str | None = None
    """The parameter holding the field's argument, when it has one (``tags(kind:)``)."""


@dataclass(frozen=True, slots=True)
class Obj:
    """A selection set on one object type, its fields in response order."""

    type_name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class Root:
    """One root field of the operation."""

    key: str
    name: str
    """``title``, ``titleByExternalId``, ``titles``, ``similarTitles``, ``searchTitles``, or
    ``__typename`` (answered here)."""
    prefix: str
    """Its parameters' names start with this (``r0_``): unique within the operation."""
    of: Obj | None = None
    conditions: tuple[str, ...] = ()
    """``titles``, ``similarTitles`` and ``searchTitles``: the filter's conditions present
    (and ``after`` when a cursor was given), as ``catalog.compiled.page_values``,
    ``similarity.compiled.similar_values`` and ``compiled_search.search_values`` name them."""
    mode: str | None = None
    """``similarTitles``: its mode (a ``SimilarityMode`` value); ``searchTitles``: its
    ``SearchMode``'s."""
    limit: int | None = None
    """``similarTitles`` and ``searchTitles``: their ``first``, written into the statement
    (``SimilarRead.first``, ``SearchRead.first``)."""


@dataclass(frozen=True, slots=True)
class Shape:
    roots: tuple[Root, ...]
