"""A known operation's variables and field arguments as graphql-core reads them
(``get_variable_values``, ``get_argument_values``), from recipes kept with the template, for
the plain cases: variables of the built-in scalars, without a default, given as the JSON
type the scalar takes as it is; arguments whose values without variables are immutable
(graphql-core's own, read once). Anything else is None here, and graphql-core reads it (and
reports what is wrong). The two took ~40% of the plan step of a compiled ``similarTitles``
request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    VariableDefinitionNode,
    VariableNode,
    is_non_null_type,
    is_required_argument,
    type_from_ast,
)
from graphql.execution.values import VariableValues, get_argument_values

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _float(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)


TAKEN_AS_IS: dict[GraphQLScalarType, Callable[[Any], bool]] = {
    GraphQLID: lambda value: type(value) is str,
    GraphQLString: lambda value: type(value) is str,
    GraphQLInt: lambda value: type(value) is int and INT_MIN <= value <= INT_MAX,
    GraphQLBoolean: lambda value: type(value) is bool,
    GraphQLFloat: _float,
}
"""The values each built-in scalar coerces to themselves (graphql-core's ``parse_value``)."""

VariablesRecipe = tuple[tuple[str, Callable[[Any], bool], bool], ...]
"""(name, the check of a value taken as is, nullable) of each variable."""

Arguments = tuple[dict[str, Any], tuple[tuple[str, str, bool, bool], ...]]
"""A field's arguments as graphql-core reads them without variables (literals, defaults),
and (argument's key, variable, required, non-null) of each argument given a variable."""
IMMUTABLE = (str, int, float, bool, Enum, type(None))


def variables_recipe(
    schema: GraphQLSchema, definitions: Sequence[VariableDefinitionNode]
) -> VariablesRecipe | None:
    """The recipe of an operation's variables; None unless each is a built-in scalar
    without a default."""
    recipe = []
    for definition in definitions:
        if definition.default_value is not None:
            return None
        variable_type = type_from_ast(schema, definition.type)
        named = variable_type.of_type if is_non_null_type(variable_type) else variable_type
        check = TAKEN_AS_IS.get(named) if isinstance(named, GraphQLScalarType) else None
        if check is None:
            return None
        name = definition.variable.name.value
        recipe.append((name, check, not is_non_null_type(variable_type)))
    return tuple(recipe)


def coerce_variables(recipe: VariablesRecipe, given: Mapping[str, Any]) -> dict[str, Any] | None:
    """``get_variable_values``' result when each given value is taken as is; None otherwise
    (graphql-core coerces them, or reports why not)."""
    coerced: dict[str, Any] = {}
    for name, check, nullable in recipe:
        if name not in given:
            if nullable:
                continue
            return None
        value = given[name]
        if value is None:
            if not nullable:
                return None
        elif not check(value):
            return None
        coerced[name] = value
    return coerced


def arguments(field: GraphQLField, node: FieldNode) -> Arguments | None:
    """The recipe of a field's arguments: graphql-core's own values for the arguments not
    given a variable (an argument given a variable is read without one: its default when it
    has one); None unless every such value is immutable (kept for every request)."""
    given = [
        (argument, field.args[argument.name.value])
        for argument in node.arguments or ()
        if isinstance(argument.value, VariableNode) and argument.name.value in field.args
    ]
    variables = tuple(
        (
            definition.out_name or argument.name.value,
            argument.value.name.value,  # type: ignore[attr-defined]
            is_required_argument(definition),
            is_non_null_type(definition.type),
        )
        for argument, definition in given
    )
    # a required argument's variable stands for itself: every request sets it
    placeholders = {name: REQUIRED for _, name, required, _ in variables if required}
    try:
        without = get_argument_values(field, node, VariableValues({}, placeholders))
    except GraphQLError:
        return None
    if not all(v is REQUIRED or isinstance(v, IMMUTABLE) for v in without.values()):
        return None
    return without, variables


REQUIRED = object()


def argument_values(recipe: Arguments, variables: Mapping[str, Any]) -> dict[str, Any] | None:
    """``get_argument_values``' result for the coerced ``variables``; None where it would
    raise (graphql-core then says why)."""
    without, given = recipe
    values = dict(without)
    for key, variable, required, non_null in given:
        if variable in variables:
            value = variables[variable]
            if value is None and non_null:
                return None
            values[key] = value
        elif required:
            return None
    return values
