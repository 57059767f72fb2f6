"""The plain-leaf shortcut gives exactly graphql-core's results and errors, only faster."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from server.graphql.execution import FastLeafExecutionContext, plain_leaf
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
        strawberry.Schema(query=Query, execution_context_class=FastLeafExecutionContext, **kwargs),
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


async def test_the_shortcut_actually_serves_plain_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.graphql import execution

    reads: list[str] = []
    original = execution._read

    def spy(leaf: Any, source: Any) -> Any:
        reads.append(leaf.attribute)
        return original(leaf, source)

    monkeypatch.setattr(execution, "_read", spy)
    _, fast = _schemas()
    result = await fast.execute("{ rows { name colour shout } }")
    assert not result.errors
    assert reads.count("name") == len(ROWS)
    assert reads.count("colour") == len(ROWS)
    assert "shout" not in reads  # a resolver: graphql-core's path


def test_which_fields_are_plain() -> None:
    _, fast = _schemas()
    leafy = fast._schema.type_map["Leafy"]
    assert plain_leaf(leafy.fields["name"]) is not None
    assert plain_leaf(leafy.fields["nickname"]) is not None
    assert plain_leaf(leafy.fields["colour"]) is not None
    for name in ("shout", "later", "child", "secret"):  # resolver, async, object, permission
        assert plain_leaf(leafy.fields[name]) is None, name


def test_the_app_schema_uses_the_shortcut() -> None:
    assert app_schema.execution_context_class is FastLeafExecutionContext
