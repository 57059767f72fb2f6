"""Compiled reads of similar titles: ``similarTitles`` as one JSON column of a compiled
statement (see ``server.catalog.compiled``), for the GraphQL layer's compiled hot paths.

The rows are ``similar_statement``'s own (the same nearest-neighbour scan over the HNSW index,
filter and weights; tests/similarity/test_similar_plan.py checks the compiled statement's plan
too), without the explanation, compiled once per mode, filter conditions and columns; around
them Postgres builds the JSON array best first, each neighbour's title as the catalog builds
a title (``title_object``), scores clamped to [-1, 1] as ``similar_for_titles`` does.

The column is null when the source gave no row (an unknown title, one not embedded or, in
COMPARABLES mode, without a comparables vector): the caller then asks ``similar_titles``,
whose error says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.catalog.compiled import (
    EMPTY,
    Out,
    json_fields,
    json_float,
    placeholder_filter,
    title_object,
)
from server.catalog.service import TitleFilter, filter_param, title_columns, title_filter_values
from server.db.driver_sql import DriverSql, driver_sql
from server.embeddings.facets import FacetWeights
from server.similarity.service import (
    SimilarityMode,
    check_first,
    similar_params,
    similar_statement,
)

CLAMPED_SCORE = "least(1.0::float8, greatest(-1.0::float8, s.score))"
"""``service._cosine``."""


@dataclass(frozen=True, slots=True)
class SimilarRead:
    """The titles most similar to one (``similar_titles`` without explanation) as a JSON array
    of objects: ``Out`` values ``score``, ``title`` (``of``: a title's, as the catalog's) and
    ``CONST``; ``conditions`` as ``similar_values`` gives them."""

    prefix: str
    mode: SimilarityMode
    conditions: tuple[str, ...]
    fields: tuple[Out, ...]


def similar_values(
    prefix: str,
    title_id: int,
    first: int,
    flt: TitleFilter | None,
    weights: FacetWeights,
    mode: SimilarityMode,
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """(the filter's conditions, the parameters' values) of the ``first`` titles nearest to
    ``title_id``; ``BadInput`` for a ``first`` out of range, as ``similar_titles``."""
    check_first(first)
    given = title_filter_values(flt)
    conditions = tuple(given)
    raw = {prefix + k: v for k, v in similar_params([title_id], first, weights).items()}
    raw.update({prefix + filter_param(name): value for name, value in given.items()})
    values: dict[str, Any] = {}
    _piece(mode, conditions, ("id",), prefix).bind(values, raw)
    return conditions, values


@lru_cache(maxsize=512)
def _piece(
    mode: SimilarityMode, conditions: tuple[str, ...], columns: tuple[str, ...], prefix: str
) -> DriverSql:
    flt = placeholder_filter(conditions) if conditions else None
    return driver_sql(similar_statement(flt, mode, False, columns)).prefixed(prefix)


def _title_outs(fields: tuple[Out, ...]) -> tuple[Out, ...]:
    return tuple(o for f in fields if f.value == "title" and f.of is not None for o in f.of)


def column(read: SimilarRead) -> str:
    """The read's column: the array's JSON text, or NULL when the source gave no row."""
    columns = title_columns({o.value for o in _title_outs(read.fields)})
    rows = _piece(read.mode, read.conditions, columns, read.prefix).text

    def value(out: Out) -> str:
        if out.value == "score":
            return json_float(CLAMPED_SCORE)
        if out.value == "title":
            assert out.of is not None
            return title_object(out.of, "s")
        raise ValueError(f"not a similar title's value: {out.value!r}")

    item = json_fields(read.fields, value)
    return (
        "(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE COALESCE('[' || string_agg("
        f"{item}, ',' ORDER BY s.score DESC, s.id) FILTER (WHERE s.id IS NOT NULL) || ']', "
        f"{EMPTY}) END FROM ({rows}) s)"
    )
