"""The root Query and Mutation; resolvers parse arguments and call services."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from server.catalog import service as catalog
from server.catalog.types import (
    PageInfo,
    TagCount,
    Title,
    TitleConnection,
    TitleEdge,
    TitleFilter,
    TitleInput,
    TitleInputError,
    UpsertTitlesPayload,
)
from server.graphql.context import Info
from server.graphql.errors import ErrorShaping, bad_input
from server.graphql.transaction import RequestTransaction
from server.kit.pagination import InvalidCursor, check_page_size, decode_cursor, encode_cursor
from server.models.catalog import TagKind

TITLE_CURSOR = "title"


def _parse_id(value: strawberry.ID, field: str = "id") -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise bad_input(f"{field} must be a numeric title id, got {value!r}", field) from None
    if number <= 0:
        raise bad_input(f"{field} must be positive, got {value!r}", field)
    return number


def _page_size(first: int | None, default: int = 20) -> int:
    try:
        return check_page_size(first, default)
    except ValueError as exc:
        raise bad_input(str(exc), "first") from None


@strawberry.type
class Query:
    @strawberry.field(description="A title by its id; null when there is none.")
    async def title(self, info: Info, id: strawberry.ID) -> Title | None:
        row = await info.context.loaders.title.load(_parse_id(id))
        return Title.from_model(row) if row else None

    @strawberry.field(description="A title by the source system's id (e.g. `s1`); null if none.")
    async def title_by_external_id(self, info: Info, external_id: str) -> Title | None:
        row = await info.context.db(lambda s: catalog.title_by_external_id(s, external_id))
        return Title.from_model(row) if row else None

    @strawberry.field(description="Titles ordered by id, filtered, as a Relay connection.")
    async def titles(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: TitleFilter | None = None,
    ) -> TitleConnection:
        size = _page_size(first)
        try:
            after_id = decode_cursor(TITLE_CURSOR, after) if after else None
        except InvalidCursor as exc:
            raise bad_input(str(exc), "after") from None
        flt = filter.to_service() if filter else None
        page = await info.context.db(lambda s: catalog.list_titles(s, flt, size, after_id))
        edges = [
            TitleEdge(cursor=encode_cursor(TITLE_CURSOR, t.id), node=Title.from_model(t))
            for t in page.titles
        ]
        return TitleConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=after_id is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )

    @strawberry.field(description="Tags with the number of titles carrying each, most used first.")
    async def tags(
        self,
        info: Info,
        kind: TagKind | None = None,
        first: int | None = 50,
    ) -> list[TagCount]:
        size = _page_size(first, 50)
        rows = await info.context.db(lambda s: catalog.tag_counts(s, kind, size))
        return [TagCount(kind=r.kind, name=r.name, title_count=r.titles) for r in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create or update titles by externalId: every item is written, or none."
    )
    async def upsert_titles(self, info: Info, input: list[TitleInput]) -> UpsertTitlesPayload:
        records = [item.to_record() for item in input]
        result = await info.context.db(lambda s: catalog.upsert_titles(s, records))
        return UpsertTitlesPayload(
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            titles=[Title.from_model(t) for t in result.titles],
            errors=[
                TitleInputError(
                    index=e.index, external_id=e.external_id, field=e.field, message=e.message
                )
                for e in result.errors
            ],
        )


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        # Factories: the caches themselves live at module level, shared by every request.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        RequestTransaction,
        ErrorShaping,
    ],
)


def schema_sdl() -> str:
    """The schema as committed in ``schema.graphql``."""
    return schema.as_str() + "\n"
