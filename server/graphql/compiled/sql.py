"""The SQL builder: one statement per shape, each root field one column of JSON.

Postgres builds each root field's value (``json_build_object`` in response order,
``json_agg`` for lists) reading only the selected columns; the same rows, order, cursors and
page info as the resolvers (``service.list_titles``, ``service.title_with_tags``, the tags
loader's order). Parameters are psycopg's named placeholders (``%(r0_key)s``), their values
bound per request; the text is cached per shape.

Field names are GraphQL names (``[_A-Za-z][_0-9A-Za-z]*``, checked by the parser), so they are
safe inside single quotes.
"""

from __future__ import annotations

from functools import lru_cache

from server.catalog.types import COLUMN_OF_FIELD

from .shape import TYPENAME, Field, Obj, Root, Shape

TAG_ORDER = "g.kind, tt.weight DESC, g.name"
"""``service.tags_of_titles``' order within a title."""
TAGS_OF = "FROM title_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.title_id = {t}.id"
TAG_COLUMNS = {"kind": "g.kind", "name": "g.name", "weight": "tt.weight"}
EMPTY = "'[]'::json"
MAX_KEYS = 50
"""``json_build_object`` takes at most 100 arguments."""


def cursor(id_sql: str) -> str:
    """``kit.pagination.encode_cursor("title", id)``: unpadded url-safe base64."""
    return (
        f"rtrim(translate(encode(convert_to('title:' || {id_sql}, 'UTF8'), 'base64'), "
        "'+/', '-_'), '=')"
    )


FILTER_SQL = {
    "after": "{t}.id > %({p})s",
    "kind": "{t}.kind = %({p})s::title_kind",
    "release_year_min": "{t}.release_year >= %({p})s",
    "release_year_max": "{t}.release_year <= %({p})s",
    "genres": (
        "EXISTS (SELECT 1 FROM title_tags ft JOIN tags fg ON fg.id = ft.tag_id "
        "WHERE ft.title_id = {t}.id AND fg.kind = 'GENRE' "
        "AND lower(fg.name) = ANY(%({p})s::text[]))"
    ),
    "origin_countries": (
        "EXISTS (SELECT 1 FROM title_countries fc WHERE fc.title_id = {t}.id "
        "AND fc.country_code = ANY(%({p})s::text[]))"
    ),
    "text": "{t}.search_vector @@ websearch_to_tsquery('english', %({p})s)",
}
"""``service.filter_titles``' conditions (and the keyset's ``after``), one parameter each."""


@lru_cache(maxsize=512)
def statement(shape: Shape) -> str:
    """``SELECT`` one JSON column per root field answered by Postgres, in root order."""
    columns = [_root(root) for root in shape.roots if root.of is not None]
    return "SELECT " + ", ".join(columns)


def has_sql(shape: Shape) -> bool:
    return any(root.of is not None for root in shape.roots)


def _object(pairs: list[tuple[str, str]]) -> str:
    if len(pairs) > MAX_KEYS:
        raise ValueError("too many keys for json_build_object")
    return "json_build_object(" + ", ".join(f"'{key}', {sql}" for key, sql in pairs) + ")"


def _typename(obj: Obj) -> str:
    return f"'{obj.type_name}'::text"


def _root(root: Root) -> str:
    assert root.of is not None
    if root.name == "titles":
        return _connection(root, root.of)
    column = "id" if root.name == "title" else "external_id"
    where = f"t.{column} = %({root.prefix}key)s"
    return f"(SELECT {_title(root.of, 't')} FROM titles t WHERE {where})"


def _title(obj: Obj, t: str) -> str:
    pairs: list[tuple[str, str]] = []
    for field in obj.fields:
        if field.name == TYPENAME:
            sql = _typename(obj)
        elif field.name == "id":
            sql = f"{t}.id::text"
        elif field.name == "genres":
            sql = (
                f"(SELECT COALESCE(json_agg(g.name ORDER BY {TAG_ORDER}), {EMPTY}) "
                f"{TAGS_OF.format(t=t)} AND g.kind = 'GENRE')"
            )
        elif field.name == "tags":
            sql = _tags(field, t)
        else:
            sql = f"{t}.{COLUMN_OF_FIELD[field.name]}"
        pairs.append((field.key, sql))
    return _object(pairs)


def _tags(field: Field, t: str) -> str:
    assert field.of is not None
    tag = field.of
    pairs = [
        (f.key, _typename(tag) if f.name == TYPENAME else TAG_COLUMNS[f.name]) for f in tag.fields
    ]
    # one statement whether ``kind`` is given or not: a title has a few tags
    kind = f" AND (%({field.param})s::tag_kind IS NULL OR g.kind = %({field.param})s::tag_kind)"
    return (
        f"(SELECT COALESCE(json_agg({_object(pairs)} ORDER BY {TAG_ORDER}), {EMPTY}) "
        f"{TAGS_OF.format(t=t)}{kind})"
    )


def _title_columns(obj: Obj, into: set[str]) -> None:
    """The columns the ``Title`` objects under a connection's selection read."""
    for field in obj.fields:
        if field.of is not None and obj.type_name != "Title":
            _title_columns(field.of, into)
        elif obj.type_name == "Title" and field.name in COLUMN_OF_FIELD:
            into.add(COLUMN_OF_FIELD[field.name])


def _where(root: Root, conditions: tuple[str, ...]) -> str:
    parts = [FILTER_SQL[c].format(t="t", p=root.prefix + c) for c in conditions]
    return " WHERE " + " AND ".join(parts) if parts else ""


def _connection(root: Root, obj: Obj) -> str:
    p = root.prefix
    wanted: set[str] = set()
    _title_columns(obj, wanted)
    columns = ", ".join(f"t.{c}" for c in ["id", *sorted(wanted - {"id"})])
    page = (
        f"SELECT {columns} FROM titles t{_where(root, root.conditions)} "
        f"ORDER BY t.id LIMIT %({p}limit)s"
    )
    shown = f"SELECT * FROM page ORDER BY id LIMIT %({p}first)s"
    pairs: list[tuple[str, str]] = []
    for field in obj.fields:
        if field.name == TYPENAME:
            sql = _typename(obj)
        elif field.name == "totalCount":
            filters = tuple(c for c in root.conditions if c != "after")
            sql = f"(SELECT count(*) FROM titles t{_where(root, filters)})"
        elif field.name == "edges":
            assert field.of is not None
            sql = (
                f"(SELECT COALESCE(json_agg({_edge(field.of)} ORDER BY t.id), {EMPTY}) "
                "FROM shown t)"
            )
        else:
            assert field.of is not None
            sql = _page_info(field.of, p)
        pairs.append((field.key, sql))
    return f"(WITH page AS ({page}), shown AS ({shown}) SELECT {_object(pairs)})"


def _edge(obj: Obj) -> str:
    pairs: list[tuple[str, str]] = []
    for field in obj.fields:
        if field.name == TYPENAME:
            sql = _typename(obj)
        elif field.name == "cursor":
            sql = cursor("t.id")
        else:
            assert field.of is not None
            sql = _title(field.of, "t")
        pairs.append((field.key, sql))
    return _object(pairs)


def _page_info(obj: Obj, p: str) -> str:
    values = {
        TYPENAME: _typename(obj),
        "hasNextPage": f"(SELECT count(*) FROM page) > %({p}first)s",
        "hasPreviousPage": f"%({p}previous)s::boolean",
        "startCursor": f"(SELECT {cursor('min(id)')} FROM shown)",
        "endCursor": f"(SELECT {cursor('max(id)')} FROM shown)",
    }
    return _object([(f.key, values[f.name]) for f in obj.fields])
