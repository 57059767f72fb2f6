"""Compiled reads of similar titles: ``similarTitles`` as one JSON column of a compiled
statement (see ``server.catalog.compiled``), for the GraphQL layer's compiled hot paths.

The rows are ``similar_statement``'s own (the same nearest-neighbour scan over the HNSW index,
filter and weights; tests/similarity/test_similar_plan.py checks the compiled statement's plan
too), compiled once per mode, filter conditions, columns and whether the explanation is read;
around them Postgres builds the JSON array best first, each neighbour's title as the catalog
builds a title (``title_object``), scores clamped to [-1, 1] as ``similar_for_titles`` does
(NaN, the cosine of a zero vector, as -1, as Python's ``max`` leaves it).

The explanation reads ``similar_statement``'s explaining columns (facet scores, the shared
people's JSON array; the shared tags are joined again, ``SHARED_TAGS``) and writes only the
keys selected; Postgres drops the columns
the JSON does not reference (an unreferenced output of a subquery is never computed), so
selecting ``facetScores`` alone does not pay for the shared people. Roles are
``similar_for_titles``' (those held on both titles, else on either, sorted).

The one source and ``first`` are written so that Postgres can keep one generic plan of the
statement instead of planning it again for each request (about a third of its database time
on the real catalog): the source as a one-element ``ARRAY[...]`` (a parameter array might
hold many), ``first`` as the literal LIMIT (a LIMIT parameter makes a generic plan expect a
tenth of the catalog, and scan it all instead of walking the index).

The column is null when the source gave no row (an unknown title, one not embedded or, in
COMPARABLES mode, without a comparables vector): the caller then asks ``similar_titles``,
whose error says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from server.catalog.compiled import (
    EMPTY,
    Out,
    json_array,
    json_fields,
    json_float,
    placeholder_filter,
    title_object,
)
from server.catalog.service import (
    TitleFilter,
    filter_param,
    hashable_filter,
    title_columns,
    title_filter_values,
)
from server.db.driver_sql import DriverSql, driver_sql
from server.embeddings.facets import FacetWeights
from server.similarity.service import (
    SimilarityMode,
    check_first,
    similar_params,
    similar_statement,
)

SOURCES = "= ANY (%({p}ids)s::BIGINT[])"
ONE_SOURCE = "= ANY (ARRAY[%({p}ids)s::BIGINT])"
LIMIT = "LIMIT %({p}first)s::INTEGER"
"""``similar_statement``'s sources and LIMIT, as compiled for psycopg."""
SHARED_WEIGHT = "least(mine.weight, theirs.weight)"
SHARED_TAGS = (
    "FROM title_tags AS mine JOIN title_tags AS theirs ON theirs.tag_id = mine.tag_id "
    "JOIN tags ON tags.id = mine.tag_id WHERE mine.title_id = s.source_id AND "
    "theirs.title_id = s.id"
)
"""The tags of both the source and the neighbour (``s``), as ``similar_statement``'s
``shared_tags`` joins them: read here again rather than from that JSON array, whose
building and parsing back cost more than the join (about a sixth of the statement)."""
SHARED_TAGS_ORDER = f"{SHARED_WEIGHT} DESC, tags.kind, tags.name"
TAG_ITEM = {
    "kind": "to_json(tags.kind)::text",
    "name": "to_json(tags.name)::text",
    "weight": json_float(SHARED_WEIGHT),
}
FACET_COLUMNS = {
    "synopsis": "s.synopsis_score",
    "tags": "s.tags_score",
    "metadata": "s.metadata_score",
    "people": "s.people_score",
}
ROLES = (
    "(SELECT '[' || string_agg(to_json(r)::text, ',' ORDER BY r COLLATE \"C\") || ']' FROM ("
    "SELECT r, count(*) AS n, max(count(*)) OVER () AS top FROM ("
    "SELECT json_array_elements_text(x.v->1) AS r "
    "UNION ALL SELECT json_array_elements_text(x.v->2)) sides GROUP BY r) held "
    "WHERE n = top)"
)
"""``service._roles`` of a shared person ``[name, [roles in the source], [in the
neighbour], idf]``: a role in both lists counts 2, and only the most counted are kept."""


def clamped(sql: str) -> str:
    """``service._cosine``: clamped to [-1, 1], NaN as -1 (Python's ``max(-1.0, nan)``)."""
    return (
        f"CASE WHEN ({sql}) = 'NaN'::float8 THEN -1.0::float8 "
        f"ELSE least(1.0::float8, greatest(-1.0::float8, {sql})) END"
    )


CLAMPED_SCORE = clamped("s.score")


@dataclass(frozen=True, slots=True)
class SimilarRead:
    """The titles most similar to one (``similar_titles``) as a JSON array of objects: ``Out``
    values ``score``, ``title`` (``of``: a title's, as the catalog's), ``explanation`` and
    ``CONST``; ``conditions`` as ``similar_values`` gives them.

    An explanation's ``of``: ``facet_scores`` (``synopsis``, ``tags``, ``metadata``,
    ``people``), ``shared_tags`` (``kind``, ``name``, ``weight``) and ``shared_people``
    (``name``, ``roles``, ``weight``), each with ``CONST`` too."""

    prefix: str
    mode: SimilarityMode
    conditions: tuple[str, ...]
    fields: tuple[Out, ...]
    first: int
    """How many neighbours (``similar_values`` checked it): part of the statement's text."""


def similar_values(
    prefix: str,
    title_id: int,
    first: int,
    flt: TitleFilter | None,
    weights: FacetWeights,
    mode: SimilarityMode,
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """(the filter's conditions, the parameters' values) of the ``first`` titles nearest to
    ``title_id`` (``first`` goes into ``SimilarRead``); ``BadInput`` for a ``first`` out of
    range, as ``similar_titles``."""
    check_first(first)
    conditions, given = _given_values(prefix, hashable_filter(flt), weights, mode)
    values = dict(given)
    values[prefix + "ids"] = title_id  # the one source (``ONE_SOURCE``)
    return conditions, values


@lru_cache(maxsize=1024)
def _given_values(
    prefix: str, flt: TitleFilter | None, weights: FacetWeights, mode: SimilarityMode
) -> tuple[tuple[str, ...], Mapping[str, Any]]:
    """The conditions and every parameter's value but the source's, processed as SQLAlchemy
    binds them: the same for every request with this filter and these weights."""
    given = title_filter_values(flt)
    conditions = tuple(given)
    raw = {prefix + k: v for k, v in similar_params([], 1, weights).items()}
    raw.update({prefix + filter_param(name): value for name, value in given.items()})
    values: dict[str, Any] = {}
    # the explaining piece's parameters are the plain one's and its own constants
    _piece(mode, conditions, ("id",), prefix, True).bind(values, raw)
    del values[prefix + "ids"]  # the request's
    del values[prefix + "first"]  # written into the statement (``SimilarRead.first``)
    return conditions, MappingProxyType(values)


@lru_cache(maxsize=512)
def _piece(
    mode: SimilarityMode,
    conditions: tuple[str, ...],
    columns: tuple[str, ...],
    prefix: str,
    explain: bool,
) -> DriverSql:
    flt = placeholder_filter(conditions) if conditions else None
    return driver_sql(similar_statement(flt, mode, explain, columns)).prefixed(prefix)


def _one_source(text: str, prefix: str, first: int) -> str:
    """``similar_statement``'s text for one source and a literal ``first``."""
    for old, new in (
        (SOURCES.format(p=prefix), ONE_SOURCE.format(p=prefix)),
        (LIMIT.format(p=prefix), f"LIMIT {int(first)}"),
    ):
        if text.count(old) != 1:
            raise ValueError(f"similar_statement's text has not one {old!r}")
        text = text.replace(old, new)
    return text


def _title_outs(fields: tuple[Out, ...]) -> tuple[Out, ...]:
    return tuple(o for f in fields if f.value == "title" and f.of is not None for o in f.of)


def column(read: SimilarRead) -> str:
    """The read's column: the array's JSON text, or NULL when the source gave no row."""
    columns = title_columns({o.value for o in _title_outs(read.fields)})
    explain = any(o.value == "explanation" for o in read.fields)
    rows = _one_source(
        _piece(read.mode, read.conditions, columns, read.prefix, explain).text,
        read.prefix,
        read.first,
    )

    def value(out: Out) -> str:
        if out.value == "score":
            return json_float(CLAMPED_SCORE)
        if out.value == "title":
            assert out.of is not None
            return title_object(out.of, "s")
        if out.value == "explanation":
            assert out.of is not None
            return json_fields(out.of, _explanation)
        raise ValueError(f"not a similar title's value: {out.value!r}")

    item = json_fields(read.fields, value)
    return (
        "(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE COALESCE('[' || string_agg("
        f"{item}, ',' ORDER BY s.score DESC, s.id) FILTER (WHERE s.id IS NOT NULL) || ']', "
        f"{EMPTY}) END FROM ({rows}) s)"
    )


def _explanation(out: Out) -> str:
    assert out.of is not None
    if out.value == "facet_scores":
        return json_fields(out.of, _facet_score)
    if out.value == "shared_tags":
        item = json_fields(out.of, _shared_tag)
        return f"(SELECT {json_array(item, SHARED_TAGS_ORDER)} {SHARED_TAGS})"
    if out.value == "shared_people":
        return _elements("s.shared_people", json_fields(out.of, _shared_person))
    raise ValueError(f"not an explanation's value: {out.value!r}")


def _elements(array: str, item: str) -> str:
    """The JSON array of ``item`` over the elements ``x.v`` of a JSON array (null: none),
    in their order."""
    return (
        f"(SELECT {json_array(item, 'x.i')} FROM json_array_elements({array}) "
        "WITH ORDINALITY AS x(v, i))"
    )


def _facet_score(out: Out) -> str:
    column = FACET_COLUMNS.get(out.value)
    if column is None:
        raise ValueError(f"not a facet: {out.value!r}")
    return json_float(clamped(column))


def _shared_tag(out: Out) -> str:
    if out.value in TAG_ITEM:
        return TAG_ITEM[out.value]
    raise ValueError(f"not a shared tag's value: {out.value!r}")


def _shared_person(out: Out) -> str:
    if out.value == "name":
        return "(x.v->0)::text"
    if out.value == "roles":
        return ROLES
    if out.value == "weight":
        return json_float("(x.v->>3)::float8")
    raise ValueError(f"not a shared person's value: {out.value!r}")
