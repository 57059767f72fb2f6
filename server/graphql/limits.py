"""Query limits that keep the parser and validation caches effective.

strawberry's ``QueryDepthLimiter`` / ``MaxAliasesLimiter`` build a new validation-rule class
per instance; built per request, the rule tuple differs every time, so ``ValidationCache``
(keyed by schema, document and rules) never hits and validation runs in full for every
request. Here the rule classes are built once per distinct limit value and reused, so the
same query under the same limits is validated once.

The cost limit needs the variables (``first: $n``), so it runs at execution, not validation:
cost = sum over list fields of ``first`` x (1 + cost of what is selected inside).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from server.kit.errors import BadInput

LIST_SIZE_ARGUMENT = "first"


@functools.cache
def validation_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The extra validation rules for these limits: the same classes on every call."""
    rules: list[type[ASTValidationRule]] = [_depth_rule(max_depth), _aliases_rule(max_aliases)]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


@functools.cache
def _depth_rule(max_depth: int) -> type[ASTValidationRule]:
    return depth_validator(max_depth, None)


@functools.cache
def _aliases_rule(max_aliases: int) -> type[ASTValidationRule]:
    return aliases_validator(max_aliases)


class QueryLimits(SchemaExtension):
    """Depth, aliases and (optionally) introspection as cached rules; tokens at parse time;
    the cost estimate before execution. Limits come from the request's settings."""

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        settings = getattr(ctx.context, "settings", None)
        if settings is not None:
            ctx.parse_options["max_tokens"] = settings.max_tokens
            ctx.validation_rules = ctx.validation_rules + validation_rules(
                settings.max_depth,
                settings.max_aliases,
                settings.introspection.value == "on",
            )
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if hasattr(ctx.context, "operation"):
            ctx.context.operation = (ctx.operation_type.value, ctx.operation_name or "-")
        settings = getattr(ctx.context, "settings", None)
        if settings is not None and ctx.graphql_document is not None:
            cost = estimate_cost(
                ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables or {}
            )
            if cost > settings.max_cost:
                # A result set here skips execution (raising would bypass the other hooks).
                refusal = BadInput(
                    f"query cost {cost:,} exceeds the maximum {settings.max_cost:,} "
                    "(cost = requested list sizes, nested lists multiplied): ask for less"
                )
                ctx.result = ExecutionResult(
                    data=None, errors=[GraphQLError(str(refusal), original_error=refusal)]
                )
        yield


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _cost(operation.selection_set, root, schema, fragments, variables)


def _cost(
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType,
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            field = parent.fields.get(selection.name.value)
            if field is None:
                continue
            inner = 0
            if selection.selection_set is not None:
                inner = _cost(
                    selection.selection_set,
                    get_named_type(field.type),
                    schema,
                    fragments,
                    variables,
                )
            size = _list_size(selection, field.args.get(LIST_SIZE_ARGUMENT), variables)
            total += inner if size is None else size * (1 + inner)
        elif isinstance(selection, InlineFragmentNode):
            target = parent
            if selection.type_condition is not None:
                target = schema.get_type(selection.type_condition.name.value) or parent
            total += _cost(selection.selection_set, target, schema, fragments, variables)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value) or parent
                total += _cost(fragment.selection_set, target, schema, fragments, variables)
    return total


def _list_size(node: FieldNode, argument: Any, variables: Mapping[str, Any]) -> int | None:
    if argument is None:
        return None
    for arg in node.arguments or ():
        if arg.name.value != LIST_SIZE_ARGUMENT:
            continue
        value = arg.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int):
                return max(given, 0)
        break
    default = argument.default_value
    return default if isinstance(default, int) and default > 0 else 1
