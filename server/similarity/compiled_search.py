"""Compiled title search: ``searchTitles`` as one JSON column of a compiled statement (see
``server.catalog.compiled``), for the GraphQL layer's compiled hot paths.

The rows are ``search_statement``'s own (the same keyword and semantic lists, fusion, filter
and ranks), compiled once per mode and filter conditions; around them Postgres builds the
JSON array in the statement's order, each hit's title as the catalog builds a title
(``title_object``), scores as Python writes the floats ``search_titles`` returns.

The lists' depth and ``first`` are written into the statement as literals, as the similar
titles' ``first`` is (``similarity.compiled``): a LIMIT parameter makes a generic plan
expect a tenth of the catalog.

SEMANTIC and HYBRID need the query's vector, embedded in Python (``bind_query_vector``)
before the statement runs. The column is null when such a search found nothing: the caller
then asks ``search_titles``, which says why when the catalog is not embedded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.catalog.compiled import (
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
    title_filter_values,
)
from server.config import EmbedderName
from server.db.driver_sql import DriverSql, driver_sql
from server.kit.text import websearch_text
from server.similarity import service
from server.similarity.service import (
    SearchMode,
    check_first,
    clean_query,
    search_depth,
    search_statement,
)

TEXT = "search_text"
"""The parameter holding the cleaned query (to embed)."""
DEPTH = "LIMIT %({p}depth)s::INTEGER"
FIRST = "LIMIT %({p}first)s::INTEGER"
ORDER = {
    SearchMode.KEYWORD: "s.keyword_rank",
    SearchMode.SEMANTIC: "s.semantic_rank",
    SearchMode.HYBRID: "s.score DESC, least(s.keyword_rank, s.semantic_rank), s.id",
}
"""``search_statement``'s order of the hits, over its rows ``s``."""


@dataclass(frozen=True, slots=True)
class SearchRead:
    """Titles matching a query (``search_titles``) as a JSON array of objects: ``Out`` values
    ``score``, ``keyword_rank``, ``semantic_rank``, ``title`` (``of``: a title's, as the
    catalog's) and ``CONST``; ``conditions`` as ``search_values`` gives them."""

    prefix: str
    mode: SearchMode
    conditions: tuple[str, ...]
    fields: tuple[Out, ...]
    first: int
    """How many hits (``search_values`` checked it): part of the statement's text."""


def search_values(
    prefix: str, query: str, mode: SearchMode, first: int, flt: TitleFilter | None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """(the filter's conditions, the parameters' values but the query vector's) of a search;
    ``BadInput`` for an empty or too long query and a ``first`` out of range, as
    ``search_titles``."""
    check_first(first)
    cleaned = clean_query(query)
    values = title_filter_values(hashable_filter(flt))
    conditions = tuple(values)
    raw = {prefix + filter_param(name): value for name, value in values.items()}
    if mode is not SearchMode.SEMANTIC:  # the keyword list's
        raw[prefix + "query"] = cleaned
        raw[prefix + "web_query"] = websearch_text(cleaned)
    params: dict[str, Any] = {}
    _piece(mode, conditions, prefix).bind(params, raw)
    params[prefix + TEXT] = cleaned  # for ``bind_query_vector``; not in the statement
    return conditions, params


async def bind_query_vector(
    params: dict[str, Any],
    prefix: str,
    mode: SearchMode,
    conditions: tuple[str, ...],
    embedder: EmbedderName,
) -> None:
    """Into ``params``: the embedder's name and the vector of the (cleaned) query, as
    ``search_titles`` takes them from ``embed_query``."""
    name, vector = await service.embed_query(embedder, params[prefix + TEXT])
    processors = _piece(mode, conditions, prefix).processors
    for key, value in ((prefix + "embedder", name), (prefix + "query_vector", vector)):
        process = processors[key]  # as SQLAlchemy binds it (``DriverSql.bind``)
        params[key] = value if process is None else process(value)


@lru_cache(maxsize=256)
def _piece(mode: SearchMode, conditions: tuple[str, ...], prefix: str) -> DriverSql:
    flt = placeholder_filter(conditions) if conditions else None
    return driver_sql(search_statement(mode, flt)).prefixed(prefix)


def _limits(text: str, prefix: str, first: int) -> str:
    """``search_statement``'s text with its lists' depth and ``first`` as literals."""
    depth, limit = DEPTH.format(p=prefix), FIRST.format(p=prefix)
    if text.count(depth) < 1 or text.count(limit) != 1:
        raise ValueError("search_statement's text has not its LIMITs")
    text = text.replace(depth, f"LIMIT {int(search_depth(first))}")
    return text.replace(limit, f"LIMIT {int(first)}")


def search_column(read: SearchRead) -> str:
    """The read's column: the array's JSON text; NULL for a SEMANTIC or HYBRID search that
    found nothing."""
    rows = _limits(_piece(read.mode, read.conditions, read.prefix).text, read.prefix, read.first)

    def value(out: Out) -> str:
        if out.value == "score":
            return json_float("(s.score)::float8")  # HYBRID's is NUMERIC, Python's a float
        if out.value in ("keyword_rank", "semantic_rank"):
            return f"COALESCE((s.{out.value})::text, 'null')"
        if out.value == "title":
            assert out.of is not None
            return title_object(out.of, "s")
        raise ValueError(f"not a search hit's value: {out.value!r}")

    hits = json_array(json_fields(read.fields, value), ORDER[read.mode])
    if read.mode is not SearchMode.KEYWORD:
        hits = f"CASE WHEN count(*) = 0 THEN NULL ELSE {hits} END"
    return f"(SELECT {hits} FROM ({rows}) s)"
