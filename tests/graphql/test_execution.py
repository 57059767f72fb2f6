"""The app's executor (the deadline checked at each object) gives exactly graphql-core's
results and errors; the compiled path reads only plain fields (no resolver, permission or
extension of their own)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from server.graphql.compiled.plan import _plain
from server.graphql.execution import DeadlineExecutionContext
from server.graphql.schema import schema as app_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Never(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Leafy:
    name: str
    nickname: str | None
    score: float
    colour: Colour
    count: int
    must: str  # the rows below sometimes hold None here: a non-null error
    secret: str = strawberry.field(default="hidden", permission_classes=[Never])

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self) -> int:
        return self.count + 1

    @strawberry.field
    def child(self) -> Leafy | None:
        return ROWS[1] if self.name == "a" else None


def _row(name: str, **overrides: Any) -> Leafy:
    values: dict[str, Any] = {
        "name": name,
        "nickname": None,
        "score": 0.25,
        "colour": Colour.RED,
        "count": 3,
        "must": "ok",
    }
    values.update(overrides)
    return Leafy(**values)


ROWS = [
    _row("a", nickname="alpha", colour=Colour.BLUE),
    _row("b", must=None),  # non-null violation
    _row("c", count="many"),  # Int coercion failure
    _row("d", score=float("inf")),  # Float coercion failure
]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Leafy]:
        return ROWS

    @strawberry.field
    async def maybe_rows(self) -> list[Leafy | None]:
        return [*ROWS, None]


class UpperEveryString(SchemaExtension):
    """A field middleware: must see every field, plain ones included."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        value = _next(root, info, *args, **kwargs)
        return value.upper() if isinstance(value, str) else value


QUERIES = [
    "{ rows { name nickname score colour count } }",
    "{ rows { name must } }",
    "{ maybeRows { name must count score } }",
    "{ maybeRows { n: name alias: nickname shout later colour child { name count } } }",
    "{ rows { ...F name } } fragment F on Leafy { score colour nickname }",
    "query($skip: Boolean!) { rows { name @skip(if: $skip) count @include(if: $skip) } }",
    "{ rows { name secret } }",
    "{ rows { __typename name } }",
]


def _schemas(**kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    return (
        strawberry.Schema(query=Query, **kwargs),
        strawberry.Schema(query=Query, execution_context_class=DeadlineExecutionContext, **kwargs),
    )


def _shape(result: Any) -> tuple[Any, Any]:
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("middleware", [False, True])
async def test_same_data_and_errors_as_graphql_core(query: str, middleware: bool) -> None:
    plain, fast = _schemas(extensions=[UpperEveryString] if middleware else [])
    variables = {"skip": True}
    expected = await plain.execute(query, variable_values=variables)
    got = await fast.execute(query, variable_values=variables)
    assert _shape(got) == _shape(expected)
    assert list(got.data or {}) == list(expected.data or {})  # key order too


def test_which_fields_are_plain() -> None:
    _, fast = _schemas()
    leafy = fast._schema.type_map["Leafy"]
    for name in ("name", "nickname", "colour"):
        assert _plain(leafy.fields[name]), name
    for name in ("shout", "later", "child", "secret"):  # resolver, async, object, permission
        assert not _plain(leafy.fields[name]), name


def test_the_app_schema_checks_the_deadline() -> None:
    assert app_schema.execution_context_class is DeadlineExecutionContext
