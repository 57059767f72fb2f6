"""Compiled reads of titles: one SQL statement whose columns are JSON values, for a caller
that knows which values it wants in which order (the GraphQL layer's compiled hot paths).

What to read is described with plain dataclasses, in this feature's terms (columns, tags,
pages), never in GraphQL's: ``Out`` is one key of a JSON object, ``TitleByKey`` and
``TitlesPage`` one JSON column each. ``column`` builds a column's SQL (the caller caches the
statement: the values are parameters); ``key_values`` and ``page_values`` give a request's.

The page and its count are ``list_titles``' own statements (``page_statement``,
``count_statement``, hence ``filter_titles``' conditions), compiled once per set of
conditions (``server.db.driver_sql``). Around them Postgres writes the JSON text itself,
compact and in the order asked, as Python's ``json.dumps(..., separators=(",", ":"))`` writes
it (``json_object``, ``json_array``, ``json_value``; floats by ``json_float``; non-ASCII
characters are left to the caller), reading only the columns asked for, with the tags in
``tags_of_titles``' order and cursors as ``kit.pagination.encode_cursor`` writes them.
Keys are GraphQL names (``[_A-Za-z][_0-9A-Za-z]*``) or other plain words: they go inside
single quotes unescaped, so ``Out`` refuses anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.catalog.service import (
    TITLE_COLUMNS,
    TitleFilter,
    count_statement,
    filter_param,
    page_statement,
    title_columns,
    title_filter_values,
)
from server.db.driver_sql import DriverSql, driver_sql
from server.models.catalog import TitleKind

KEY = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")
CONST = "const"
"""``Out.value`` of a constant string (``Out.const``)."""
TAG_VALUES = {"kind": "g.kind", "name": "g.name", "weight": "tt.weight"}
TAG_ORDER = "g.kind, tt.weight DESC, g.name"
"""``tags_of_titles``' order within a title."""
TAGS_OF = "FROM title_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.title_id = {t}.id"
EMPTY = "'[]'"
AFTER = "after"
"""The condition of a page after a cursor (beside ``TitleFilter``'s field names)."""
PLACEHOLDERS = TitleFilter(
    kind=TitleKind.MOVIE,
    genres=("x",),
    origin_countries=("X",),
    release_year_min=0,
    release_year_max=0,
    text="x",
)
"""A filter setting every condition: its values are only placeholders for the text."""


@dataclass(frozen=True, slots=True)
class Out:
    """One key of a JSON object and what it holds.

    A title: a column of ``TITLE_COLUMNS``, ``genres`` (names, as the tags), ``tags`` (``of``:
    ``kind``, ``name``, ``weight``; ``param``: the parameter of its kind, null for all).
    A page: ``total_count``, ``edges`` (``of``: ``cursor``, ``node`` with a title's ``of``),
    ``page_info`` (``of``: ``has_next_page``, ``has_previous_page``, ``start_cursor``,
    ``end_cursor``). Anywhere: ``CONST`` with the string ``const``.
    """

    key: str
    value: str
    of: tuple[Out, ...] | None = None
    param: str | None = None
    const: str | None = None

    def __post_init__(self) -> None:
        for word in (self.key, self.const, self.param):
            if word is not None and not KEY.match(word):
                raise ValueError(f"not a plain word: {word!r}")


@dataclass(frozen=True, slots=True)
class TitleByKey:
    """A title (JSON object, or null) by ``id`` or ``external_id``: parameter ``prefix + key``."""

    by: str
    prefix: str
    title: tuple[Out, ...]


@dataclass(frozen=True, slots=True)
class TitlesPage:
    """A keyset page of titles by id (``list_titles``) as a JSON object; ``conditions`` are
    the filter's (``page_values`` gives them) and ``AFTER``."""

    prefix: str
    conditions: tuple[str, ...]
    fields: tuple[Out, ...]


Read = TitleByKey | TitlesPage


def key_values(prefix: str, key: int | str) -> dict[str, Any]:
    return {prefix + "key": key}


def page_values(
    prefix: str, flt: TitleFilter | None, first: int, after_id: int | None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """(the conditions of ``TitlesPage``, the parameters' values) of a page of ``first``
    titles after ``after_id``, processed as SQLAlchemy binds them."""
    given = title_filter_values(flt)
    conditions = tuple(given) + ((AFTER,) if after_id is not None else ())
    page, count = _pieces(conditions, prefix)
    raw = {prefix + filter_param(name): value for name, value in given.items()}
    if after_id is not None:
        raw[prefix + "after_id"] = after_id
    values: dict[str, Any] = {}
    page.bind(values, raw)
    count.bind(values, {f"{prefix}n_{filter_param(n)}": v for n, v in given.items()})
    values[prefix + "first"] = first
    values[prefix + "limit"] = first + 1 if first > 0 else 0
    values[prefix + "previous"] = after_id is not None
    return conditions, values


@lru_cache(maxsize=512)
def _pieces(conditions: tuple[str, ...], prefix: str) -> tuple[DriverSql, DriverSql]:
    """``list_titles``' page (every column: the text keeps only the wanted ones, see
    ``_connection``) and count statements with ``conditions``, compiled; the count's
    parameters prefixed ``prefix + "n_"``."""
    return _page_piece(conditions, TITLE_COLUMNS, prefix), _count_piece(conditions, prefix)


def placeholder_filter(conditions: tuple[str, ...]) -> TitleFilter:
    fields: dict[str, Any] = {
        name: getattr(PLACEHOLDERS, name) for name in conditions if name != AFTER
    }
    return TitleFilter(**fields)


@lru_cache(maxsize=512)
def _page_piece(conditions: tuple[str, ...], columns: tuple[str, ...], prefix: str) -> DriverSql:
    flt = placeholder_filter(conditions)
    return driver_sql(page_statement(flt, columns, False, AFTER in conditions)).prefixed(prefix)


@lru_cache(maxsize=512)
def _count_piece(conditions: tuple[str, ...], prefix: str) -> DriverSql:
    flt = placeholder_filter(conditions)
    return driver_sql(count_statement(flt)).prefixed(prefix + "n_")


def cursor(id_sql: str) -> str:
    """``kit.pagination.encode_cursor("title", id)``: unpadded url-safe base64."""
    return (
        f"rtrim(translate(encode(convert_to('title:' || {id_sql}, 'UTF8'), 'base64'), "
        "'+/', '-_'), '=')"
    )


def json_object(pairs: list[tuple[str, str]]) -> str:
    """A JSON object's text from (key, SQL of the value's JSON text) pairs, keys in order."""
    if not pairs:
        return "'{}'"
    parts = [f"'{{\"{pairs[0][0]}\":' || {pairs[0][1]}"]
    parts += [f"',\"{key}\":' || {sql}" for key, sql in pairs[1:]]
    return "(" + " || ".join(parts) + " || '}')"


def json_array(item: str, order: str) -> str:
    """A JSON array's text of the rows' ``item`` texts (an aggregate: ``[]`` for no row)."""
    return f"COALESCE('[' || string_agg({item}, ',' ORDER BY {order}) || ']', {EMPTY})"


def json_fields(outs: tuple[Out, ...], value_sql: Callable[[Out], str]) -> str:
    """A JSON object's text with a key per ``Out``: its constant, or ``value_sql(out)``."""
    return json_object([(o.key, const_sql(o) if o.value == CONST else value_sql(o)) for o in outs])


def json_string(sql: str) -> str:
    """The JSON text of a string that needs no escaping (digits, base64)."""
    return f"('\"' || {sql} || '\"')"


def json_value(sql: str) -> str:
    """The JSON text of a value (null for NULL)."""
    return f"COALESCE(to_json({sql})::text, 'null')"


def json_float(sql: str) -> str:
    """The JSON text of a REAL or float8 as Python writes a float: whole values with ``.0``
    (graphql-core serializes a Float as a Python float; Postgres writes a whole one as ``1``).
    Values here are scores and weights in [-1, 1], never written with an exponent of 16 or
    more (where Python and Postgres switch to exponents differently)."""
    return (
        f"CASE WHEN ({sql}) IS NULL THEN 'null' WHEN ({sql}) = trunc({sql}) "
        f"THEN ({sql})::text || '.0' ELSE ({sql})::text END"
    )


def const_sql(out: Out) -> str:
    return f"'\"{out.const}\"'"


def column(read: Read) -> str:
    """The read's column: a JSON text (a scalar subquery), NULL for a missing title."""
    if isinstance(read, TitlesPage):
        return _connection(read)
    column = "id" if read.by == "id" else "external_id"
    where = f"t.{column} = %({read.prefix}key)s"
    return f"(SELECT {title_object(read.title, 't')} FROM titles t WHERE {where})"


def title_object(outs: tuple[Out, ...], t: str) -> str:
    """The JSON text of the title aliased ``t`` (``Out``'s title values)."""

    def value(out: Out) -> str:
        if out.value == "id":
            return json_string(f"{t}.id::text")
        if out.value == "genres":
            return (
                f"(SELECT {json_array('to_json(g.name)::text', TAG_ORDER)} "
                f"{TAGS_OF.format(t=t)} AND g.kind = 'GENRE')"
            )
        if out.value == "tags":
            return _tags(out, t)
        if out.value in TITLE_COLUMNS:
            return json_value(f"{t}.{out.value}")
        raise ValueError(f"not a title value: {out.value!r}")

    return json_fields(outs, value)


def title_columns_of(outs: tuple[Out, ...]) -> tuple[str, ...]:
    """The title columns ``outs`` read (``title_columns``: ``id`` first, always)."""
    return title_columns({o.value for o in outs})


def _tags(out: Out, t: str) -> str:
    assert out.of is not None
    assert out.param is not None
    values = {
        "kind": json_value("g.kind"),
        "name": json_value("g.name"),
        "weight": json_float("tt.weight"),
    }
    item = json_fields(out.of, lambda o: values[o.value])
    # one statement whether ``kind`` is given or not: a title has a few tags
    kind = f" AND (%({out.param})s::tag_kind IS NULL OR g.kind = %({out.param})s::tag_kind)"
    return f"(SELECT {json_array(item, TAG_ORDER)} {TAGS_OF.format(t=t)}{kind})"


def _page_title_columns(outs: tuple[Out, ...], into: set[str]) -> None:
    for out in outs:
        if out.value == "node" and out.of is not None:
            into.update(title_columns_of(out.of))
        elif out.of is not None and out.value == "edges":
            _page_title_columns(out.of, into)


def _connection(read: TitlesPage) -> str:
    p = read.prefix
    wanted: set[str] = set()
    _page_title_columns(read.fields, wanted)
    columns = title_columns(wanted)
    page = _page_piece(read.conditions, columns, p).text
    shown = f"SELECT * FROM page ORDER BY id LIMIT %({p}first)s"
    filters = tuple(c for c in read.conditions if c != AFTER)

    def value(out: Out) -> str:
        if out.value == "total_count":
            return f"({_count_piece(filters, p).text})::text"
        if out.value == "edges":
            assert out.of is not None
            return f"(SELECT {json_array(_edge(out.of), 't.id')} FROM shown t)"
        if out.value == "page_info":
            assert out.of is not None
            return _page_info(out.of, p)
        raise ValueError(f"not a page value: {out.value!r}")

    return f"(WITH page AS ({page}), shown AS ({shown}) SELECT {json_fields(read.fields, value)})"


def _edge(outs: tuple[Out, ...]) -> str:
    def value(out: Out) -> str:
        if out.value == "cursor":
            return json_string(cursor("t.id"))
        assert out.value == "node"
        assert out.of is not None
        return title_object(out.of, "t")

    return json_fields(outs, value)


def _page_info(outs: tuple[Out, ...], p: str) -> str:
    values = {
        "has_next_page": f"((SELECT count(*) FROM page) > %({p}first)s)::text",
        "has_previous_page": f"(%({p}previous)s::boolean)::text",
        "start_cursor": json_value(f"(SELECT {cursor('min(id)')} FROM shown)"),
        "end_cursor": json_value(f"(SELECT {cursor('max(id)')} FROM shown)"),
    }
    return json_fields(outs, lambda o: values[o.value])
