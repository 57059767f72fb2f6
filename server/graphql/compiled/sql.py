"""A shape as the features' compiled reads: GraphQL's types and fields become what the
catalog reads (``catalog.compiled``: columns, tags, a page) or the similarity feature
(``similarity.compiled``: similar titles), which build each column's SQL; the statement's
text is cached per shape."""

from __future__ import annotations

from functools import lru_cache

from server.catalog import compiled
from server.catalog.compiled import CONST, Out, TitleByKey, TitlesPage
from server.catalog.types import COLUMN_OF_FIELD
from server.db.driver_sql import select_row
from server.similarity import compiled as similar
from server.similarity.compiled import SimilarRead
from server.similarity.compiled_search import SearchRead, search_column
from server.similarity.service import SearchMode, SimilarityMode

from .shape import TYPENAME, Field, Obj, Root, Shape

VALUE_OF_FIELD = {
    "Title": {**COLUMN_OF_FIELD, "genres": "genres", "tags": "tags"},
    "TitleTag": {"kind": "kind", "name": "name", "weight": "weight"},
    "TitleConnection": {
        "totalCount": "total_count",
        "edges": "edges",
        "pageInfo": "page_info",
    },
    "TitleEdge": {"cursor": "cursor", "node": "node"},
    "SimilarTitle": {"score": "score", "title": "title", "explanation": "explanation"},
    "SearchHit": {
        "score": "score",
        "keywordRank": "keyword_rank",
        "semanticRank": "semantic_rank",
        "title": "title",
    },
    "SimilarityExplanation": {
        "facetScores": "facet_scores",
        "sharedTags": "shared_tags",
        "sharedPeople": "shared_people",
    },
    "FacetScores": {
        "synopsis": "synopsis",
        "tags": "tags",
        "metadata": "metadata",
        "people": "people",
    },
    "SharedPerson": {"name": "name", "roles": "roles", "weight": "weight"},
    "PageInfo": {
        "hasNextPage": "has_next_page",
        "hasPreviousPage": "has_previous_page",
        "startCursor": "start_cursor",
        "endCursor": "end_cursor",
    },
}
"""GraphQL field of each compiled type -> the value the catalog's read names it."""


@lru_cache(maxsize=512)
def statement(shape: Shape) -> str:
    """``SELECT`` one JSON column per root field answered by Postgres, in root order;
    ``ValueError`` when a feature cannot build it (a value it does not read)."""
    return select_row([_column(root) for root in shape.roots if root.of is not None])


def has_sql(shape: Shape) -> bool:
    return any(root.of is not None for root in shape.roots)


def _column(root: Root) -> str:
    assert root.of is not None
    if root.name == "similarTitles":
        mode = SimilarityMode(root.mode or SimilarityMode.CONTENT)
        assert root.limit is not None
        read = SimilarRead(root.prefix, mode, root.conditions, _outs(root.of), root.limit)
        return similar.column(read)
    if root.name == "searchTitles":
        assert root.mode is not None
        assert root.limit is not None
        search = SearchRead(
            root.prefix, SearchMode(root.mode), root.conditions, _outs(root.of), root.limit
        )
        return search_column(search)
    if root.name == "titles":
        return compiled.column(TitlesPage(root.prefix, root.conditions, _outs(root.of)))
    by = "id" if root.name == "title" else "external_id"
    return compiled.column(TitleByKey(by, root.prefix, _outs(root.of)))


def _outs(obj: Obj) -> tuple[Out, ...]:
    return tuple(_out(obj, field) for field in obj.fields)


def _out(obj: Obj, field: Field) -> Out:
    if field.name == TYPENAME:
        return Out(field.key, CONST, const=obj.type_name)
    value = VALUE_OF_FIELD[obj.type_name][field.name]
    of = _outs(field.of) if field.of is not None else None
    return Out(field.key, value, of, field.param)
