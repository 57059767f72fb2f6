"""The compiled plan's reading of variables and arguments (``compiled.binding``) against
graphql-core's own (``get_variable_values``, ``get_argument_values``): the same values
whenever it reads them, and None (graphql-core reads them) otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from graphql.execution.values import get_argument_values, get_variable_values

from server.graphql.compiled.binding import (
    argument_values,
    arguments,
    coerce_variables,
    variables_recipe,
)
from server.graphql.schema import schema

SCHEMA = schema._schema
PLAIN = "query Q($id: ID!, $first: Int, $x: Float, $b: Boolean, $s: String) { __typename }"


def _operation(source: str) -> OperationDefinitionNode:
    operation = parse(source).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ({"id": "7"}, True),
        ({"id": "7", "first": 3, "x": 1.5, "b": False, "s": "é", "extra": [1]}, True),
        ({"id": "7", "first": None, "x": None, "b": None, "s": None}, True),
        ({"id": "7", "first": 2**31 - 1}, True),
        ({"id": "7", "first": -(2**31)}, True),
        ({"id": 7}, False),  # graphql-core turns it into "7"
        ({"id": None}, False),
        ({}, False),
        ({"id": "7", "first": 2**31}, False),
        ({"id": "7", "first": True}, False),
        ({"id": "7", "first": 3.0}, False),
        ({"id": "7", "first": "3"}, False),
        ({"id": "7", "x": 2}, False),
        ({"id": "7", "x": float("inf")}, False),
        ({"id": "7", "x": float("nan")}, False),
        ({"id": "7", "b": 1}, False),
        ({"id": "7", "s": 5}, False),
        ({"id": "7", "s": ["a"]}, False),
    ],
)
def test_variables_taken_as_given_are_graphql_cores(given: dict[str, Any], taken: bool) -> None:
    definitions = _operation(PLAIN).variable_definitions
    recipe = variables_recipe(SCHEMA, definitions)
    assert recipe is not None
    plain = coerce_variables(recipe, given)
    assert (plain is not None) == taken
    if plain is not None:
        values = get_variable_values(SCHEMA, definitions, given)
        assert not isinstance(values, list)
        assert plain == values.coerced
        assert [type(v) for v in plain.values()] == [type(v) for v in values.coerced.values()]


@pytest.mark.parametrize(
    "definition",
    ["$mode: SimilarityMode!", "$f: TitleFilter", "$first: Int = 5", "$ids: [ID!]"],
)
def test_other_variables_are_left_to_graphql_core(definition: str) -> None:
    operation = _operation(f"query Q({definition}) {{ __typename }}")
    assert variables_recipe(SCHEMA, operation.variable_definitions) is None


SIMILAR = "similarTitles(titleId: $id{more}) {{ score }}"
DEFINITIONS = "$id: ID!, $first: Int, $mode: SimilarityMode!, $oneMode: SimilarityMode"


@pytest.mark.parametrize(
    ("arguments_given", "variables", "read"),
    [
        ("", {"id": "7", "mode": "CONTENT"}, True),
        (", first: $first", {"id": "7", "mode": "CONTENT"}, True),  # the default
        (", first: $first", {"id": "7", "first": None, "mode": "CONTENT"}, True),
        (", first: 3, mode: COMPARABLES", {"id": "7", "mode": "CONTENT"}, True),
        (", mode: $mode", {"id": "7", "mode": "COMPARABLES"}, True),
        (", mode: $oneMode", {"id": "7", "mode": "CONTENT"}, True),  # absent: the default
        (", mode: $oneMode", {"id": "7", "mode": "CONTENT", "oneMode": None}, False),
        (", first: null", {"id": "7", "mode": "CONTENT"}, True),
    ],
)
def test_arguments_read_as_graphql_core_reads_them(
    arguments_given: str, variables: dict[str, Any], read: bool
) -> None:
    operation = _operation(f"query Q({DEFINITIONS}) {{ {SIMILAR.format(more=arguments_given)} }}")
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    field = SCHEMA.query_type.fields["similarTitles"]  # type: ignore[union-attr]
    recipe = arguments(field, node)
    assert recipe is not None
    values = get_variable_values(SCHEMA, operation.variable_definitions, variables)
    assert not isinstance(values, list)
    mine = argument_values(recipe, values.coerced)
    assert (mine is not None) == read
    if mine is None:
        with pytest.raises(GraphQLError):  # graphql-core says what is wrong
            get_argument_values(field, node, values)
    else:
        assert mine == get_argument_values(field, node, values)


def test_input_object_literals_are_left_to_graphql_core() -> None:
    operation = _operation('{ similarTitles(titleId: "7", filter: {kind: MOVIE}) { score } }')
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    field = SCHEMA.query_type.fields["similarTitles"]  # type: ignore[union-attr]
    assert arguments(field, node) is None
