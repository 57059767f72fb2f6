"""Query limits, computed in time linear in the document whatever its fragments do.

A fragment may be spread many times, and fragments spread one another: ``F0 { ...F1 ...F1 }``,
``F1 { ...F2 ...F2 }``... expands to 2^n selections from a document of n lines. Every figure
here (depth, aliases, expanded fields, cost) is computed once per fragment and reused wherever
it is spread, so the work is one pass over the document, and the expanded size itself is a
limit (``max_fields``): a document that would expand past it is refused before anything
walks the expansion. Renaming fragments changes nothing (the figures follow the structure).

The validation rule is built once per distinct limit value: strawberry's limiter extensions
build a new rule class per request, so the rule tuple differs every time and the
validation cache (keyed by document and rules) never hits.

The cost needs the variables (``first: $n``), so it runs at execution, not validation:
cost = sum over list fields of size x (1 + cost of what is selected inside), where the size is
``first`` when the field takes it, and otherwise the field's known bound (``LIST_BOUNDS``:
94 regions, at most 94 cohorts, ...). A test fails when a list field has neither.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)
from graphql.utilities import get_operation_ast
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import SchemaExtension

from server.config import Settings
from server.kit.cache import ByIdentity
from server.kit.errors import BadInput, ErrorCode
from server.kit.text import unsafe_text_reason

LIST_SIZE_ARGUMENT = "first"

REGION_COUNT = 94
"""Regions the database knows (migration 0003 seeds them; a test compares)."""

SIZED_BY_PARENT = frozenset(
    {
        "TitleConnection.edges",
        "MicroGenreConnection.edges",
        "SimilarityMap.nodes",
        "SimilarityMap.edges",
        "ContentGapReport.items",
    }
)
"""Lists whose length the parent's ``first`` already counts: priced like one object."""

LIST_BOUNDS: Mapping[str, int] = {
    # one item per region at most
    "Query.regions": REGION_COUNT,
    "Query.cohorts": REGION_COUNT,  # a cohort holds at least one region
    "Cohort.regions": REGION_COUNT,
    # sub-cohorts of a cohort: at most max(server.audiences.profiles.SUB_COHORTS)
    "Cohort.children": 12,
    "Forecast.regions": REGION_COUNT,
    "LocalizationPlan.regions": REGION_COUNT,
    "Title.regionalPerformance": REGION_COUNT,
    "WhatIfVariant.changes": REGION_COUNT,
    # short lists cut by the services
    "WhatIf.variants": 20,
    "Title.microGenres": 5,
    "UpsertTitlesPayload.titles": 1000,
}
"""Bounds of the lists whose items can nest further lists. A list of leaves, or of objects
whose fields are all leaves (tags, curve points, countries), is priced as one: it cannot
multiply anything, and the response size cap bounds it."""


# --- validation: depth, aliases, expanded fields -------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A selection set with every fragment expanded: what the limits look at."""

    depth: int
    """Deepest chain of fields with selections (introspection fields do not count)."""
    aliases: int
    fields: int

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth), self.aliases + other.aliases, self.fields + other.fields
        )


EMPTY = Shape(0, 0, 0)


class _Shapes:
    """Shapes of the selection sets of one document, each fragment measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, Shape] = {}
        self.measuring: set[str] = set()

    def of(self, selection_set: SelectionSetNode | None) -> Shape:
        total = EMPTY
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.of(selection.selection_set)
                introspection = selection.name.value.startswith("__")
                depth = 0 if introspection or selection.selection_set is None else 1 + inner.depth
                alias = 1 if selection.alias else 0
                total = total + Shape(depth, inner.aliases + alias, inner.fields + 1)
            elif isinstance(selection, InlineFragmentNode):
                total = total + self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Shape:
        shape = self.measured.get(name)
        if shape is not None:
            return shape
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return EMPTY  # unknown fragments and cycles are reported by graphql's own rules
        self.measuring.add(name)
        shape = self.of(definition.selection_set)
        self.measuring.discard(name)
        self.measured[name] = shape
        return shape


def document_shapes(document: DocumentNode) -> dict[str, Shape]:
    """The expanded shape of each operation of ``document``, by name (``anonymous``)."""
    shapes = _Shapes(document)
    return {
        (d.name.value if d.name else "anonymous"): shapes.of(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


@functools.cache
def validation_rules(
    max_depth: int, max_aliases: int, introspection: bool, max_fields: int = 5000
) -> tuple[type[ASTValidationRule], ...]:
    """The extra validation rules for these limits: the same classes on every call."""
    rules: list[type[ASTValidationRule]] = [
        _shape_rule(max_depth, max_aliases, max_fields),
        SafeStringsRule,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


@functools.cache
def _shape_rule(max_depth: int, max_aliases: int, max_fields: int) -> type[ASTValidationRule]:
    class DocumentShapeRule(ASTValidationRule):
        """Depth per operation; aliases and expanded fields over the whole document."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            shapes = document_shapes(context.document)
            for name, shape in shapes.items():
                if shape.depth > max_depth:
                    context.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}")
                    )
            aliases = sum(s.aliases for s in shapes.values())
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )
            fields = sum(s.fields for s in shapes.values())
            if fields > max_fields:
                context.report_error(
                    GraphQLError(
                        f"the document selects {_count(fields)} fields once its fragments are "
                        f"expanded; the maximum is {max_fields:,}"
                    )
                )

    return DocumentShapeRule


class SafeStringsRule(ASTValidationRule):
    """String literals Postgres cannot take (NUL, lone surrogates) are the client's mistake:
    BAD_USER_INPUT here, rather than a driver error deep in a resolver."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        reason = unsafe_text_reason(node.value)
        if reason is not None:
            self.report_error(
                GraphQLError(
                    f"a string in the query {reason}",
                    node,
                    extensions={"code": ErrorCode.BAD_USER_INPUT.value},
                )
            )


def _count(number: int) -> str:
    return f"{number:,}" if number < 10**12 else "more than 10^12"


def settings_rules(settings: Settings) -> tuple[type[ASTValidationRule], ...]:
    """The extra validation rules of these settings' limits (the same classes every call)."""
    return validation_rules(
        settings.max_depth,
        settings.max_aliases,
        settings.introspection.value == "on",
        settings.max_fields,
    )


def cost_refusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any],
    settings: Settings,
) -> GraphQLError | None:
    """The error refusing an operation over ``settings.max_cost``, or None."""
    cost = estimate_cost(schema, document, operation_name, variables)
    if cost <= settings.max_cost:
        return None
    refusal = BadInput(
        f"query cost {cost:,} exceeds the maximum {settings.max_cost:,} "
        "(cost = requested list sizes, nested lists multiplied): ask for less"
    )
    return GraphQLError(str(refusal), original_error=refusal)


class QueryLimits(SchemaExtension):
    """Depth, aliases, expanded fields and (optionally) introspection as cached rules; tokens
    at parse time; the cost estimate before execution. Limits come from the request's
    settings. (The HTTP layer applies the same functions directly:
    ``server.graphql.operation``.)"""

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        settings = getattr(ctx.context, "settings", None)
        if settings is not None:
            ctx.parse_options["max_tokens"] = settings.max_tokens
            ctx.validation_rules = ctx.validation_rules + settings_rules(settings)
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if hasattr(ctx.context, "operation"):
            ctx.context.operation = (ctx.operation_type.value, ctx.operation_name or "-")
        settings = getattr(ctx.context, "settings", None)
        if settings is not None and ctx.graphql_document is not None:
            refusal = cost_refusal(
                ctx.schema._schema,
                ctx.graphql_document,
                ctx.operation_name,
                ctx.variables or {},
                settings,
            )
            if refusal is not None:
                # A result set here skips execution (raising would bypass the other hooks).
                ctx.result = ExecutionResult(data=None, errors=[refusal])
        yield


# --- cost, at execution time ---------------------------------------------------------------


_CONSTANT_COSTS: ByIdentity[int] = ByIdentity()
"""Per schema, parsed document and operation name: its cost, when no variable sizes a list."""


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
) -> int:
    """The operation's cost. When no list size came from a variable, the cost is the
    document's whatever the variables: it is kept with the (parsed, cached) document."""
    cached = _CONSTANT_COSTS.get((schema, document), operation_name)
    if cached is not None:
        return cached
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    read = _Recorded(variables)
    cost = _Costs(schema, fragments, read).of(operation.selection_set, root)
    if not read.names:
        _CONSTANT_COSTS.put((schema, document), cost, operation_name)
    return cost


class _Recorded(Mapping[str, Any]):
    """Variables, remembering which were read."""

    def __init__(self, given: Mapping[str, Any]) -> None:
        self.given = given
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.names.add(name)
        return self.given[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.given)

    def __len__(self) -> int:
        return len(self.given)


class _Costs:
    """Costs of the selection sets of one operation; each fragment costed once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.costed: dict[str, int] = {}
        self.costing: set[str] = set()

    def of(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.of(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, parent)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(node.name.value)
        if field is None:
            return 0
        inner = 0
        if node.selection_set is not None:
            inner = self.of(node.selection_set, get_named_type(field.type))
        size = list_size(parent.name, node, field.type, field.args, self.variables)
        return inner if size is None else size * (1 + inner)

    def _fragment(self, name: str, parent: GraphQLNamedType) -> int:
        cost = self.costed.get(name)
        if cost is not None:
            return cost
        fragment = self.fragments.get(name)
        if fragment is None or name in self.costing:
            return 0
        self.costing.add(name)
        target = self.schema.get_type(fragment.type_condition.name.value) or parent
        cost = self.of(fragment.selection_set, target)
        self.costing.discard(name)
        self.costed[name] = cost
        return cost


def is_list(output: GraphQLOutputType) -> bool:
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


def list_size(
    parent: str,
    node: FieldNode,
    output: GraphQLOutputType,
    args: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> int | None:
    """How many items the estimate counts for this field: ``first`` (given or its default)
    when the field takes it, else its bound for a list, else None (one object, not a list)."""
    argument = args.get(LIST_SIZE_ARGUMENT)
    if argument is not None:
        return _first(node, argument, variables)
    if not is_list(output):
        return None
    key = f"{parent}.{node.name.value}"
    if key in SIZED_BY_PARENT:
        return None
    bound = LIST_BOUNDS.get(key)
    if bound is not None:
        return bound
    return 1 if is_flat(get_named_type(output)) else UNKNOWN_LIST_BOUND


UNKNOWN_LIST_BOUND = 100
"""Only for a list field missing from ``LIST_BOUNDS`` (a test fails on it)."""


def _first(node: FieldNode, argument: Any, variables: Mapping[str, Any]) -> int:
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


def is_flat(named: GraphQLNamedType) -> bool:
    """A leaf type, or an object type whose fields are all leaves (or lists of leaves)."""
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return True
    return all(
        not isinstance(get_named_type(f.type), GraphQLObjectType | GraphQLInterfaceType)
        and not isinstance(get_named_type(f.type), GraphQLUnionType)
        for f in named.fields.values()
    )


def unsized_list_fields(schema: GraphQLSchema) -> list[str]:
    """List fields the cost estimate has no size for (neither ``first`` nor a bound)."""
    missing: list[str] = []
    for named in schema.type_map.values():
        if named.name.startswith("__") or not isinstance(
            named, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for name, field in named.fields.items():
            key = f"{named.name}.{name}"
            if is_list(field.type) and LIST_SIZE_ARGUMENT not in field.args:
                sized = key in LIST_BOUNDS or key in SIZED_BY_PARENT
                if not sized and not is_flat(get_named_type(field.type)):
                    missing.append(key)
    return missing
