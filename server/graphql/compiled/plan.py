"""The selection analyser: an operation's shape and parameter values, or None to fall back.

Fields are collected by graphql-core's own ``collect_fields`` / ``collect_subfields`` on an
executor built as ``execute`` builds it (variables coerced, fragments expanded, ``@skip`` and
``@include`` evaluated, equal response keys merged in first-occurrence order), so the
response keys and their order are exactly the executor's. Arguments are coerced by
graphql-core (``get_argument_values``) and checked by the resolvers' own functions
(``parse_id``, ``page_size``, ``after_key``, ``TitleFilter.to_service``).

None (the executor answers instead) for anything else: another root field, an unsupported
field or argument, ``@defer`` or any directive but ``@skip``/``@include``, fragment
arguments, a variable that does not coerce, a role that the field refuses, and every argument
that would be an error (a malformed id or cursor, ``first`` out of range, text Postgres
cannot hold).

Without a directive in the document, which fields are selected does not depend on the
variables: that template (or the verdict that the operation is not supported) is kept with the
parsed document, and each request only reads its arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    VariableDefinitionNode,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from server.catalog import compiled, service
from server.catalog.types import COLUMN_OF_FIELD, TitleFilter
from server.embeddings.facets import DEFAULT_WEIGHTS, FacetWeights
from server.graphql.auth import required_role
from server.graphql.execution import DeadlineExecutionContext
from server.kit.cache import ByIdentity
from server.kit.errors import ExpectedError
from server.kit.ids import parse_id
from server.kit.resolving.pagination import after_key, page_size
from server.kit.roles import Principal, Role
from server.kit.text import unsafe_text_reason
from server.models.catalog import TagKind
from server.similarity import compiled as similar
from server.similarity import compiled_search as searching
from server.similarity import service as similarity
from server.similarity.service import SearchMode, SimilarityMode
from server.similarity.types import DEFAULT_FIRST

from .binding import (
    Arguments,
    VariablesRecipe,
    argument_values,
    arguments,
    coerce_variables,
    variables_recipe,
)
from .shape import TYPENAME, Field, Obj, Root, Shape

TITLE_CURSOR = "title"
"""``server.graphql.schema.TITLE_CURSOR`` (the schema imports this package's caller)."""
INT8_MAX = 2**63 - 1
ROOTS = {
    "title": "Title",
    "titleByExternalId": "Title",
    "titles": "TitleConnection",
    "similarTitles": "SimilarTitle",
    "searchTitles": "SearchHit",
}
"""Compiled root fields -> the object type they select on."""
SKIP_INCLUDE = frozenset({"skip", "include"})
CONNECTION_OBJECTS = {
    "TitleConnection": {"edges": "TitleEdge", "pageInfo": "PageInfo"},
    "TitleEdge": {"node": "Title"},
    "SimilarTitle": {"title": "Title", "explanation": "SimilarityExplanation"},
    "SearchHit": {"title": "Title"},
    "SimilarityExplanation": {
        "facetScores": "FacetScores",
        "sharedTags": "TitleTag",
        "sharedPeople": "SharedPerson",
    },
}
LEAVES = {
    "TitleConnection": frozenset({"totalCount"}),
    "TitleEdge": frozenset({"cursor"}),
    "PageInfo": frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}),
    "TitleTag": frozenset({"kind", "name", "weight"}),
    "SimilarTitle": frozenset({"score"}),
    "SearchHit": frozenset({"score", "keywordRank", "semanticRank"}),
    "FacetScores": frozenset({"synopsis", "tags", "metadata", "people"}),
    "SharedPerson": frozenset({"name", "roles", "weight"}),
}


class Unsupported(Exception):
    """The operation takes the executor's path."""


class Plan:
    """An operation's shape, the values of its parameters, and each root field's nodes (for
    locating an error)."""

    __slots__ = ("nodes", "params", "shape")

    def __init__(
        self, shape: Shape, params: dict[str, Any], nodes: dict[str, list[FieldNode]]
    ) -> None:
        self.shape = shape
        self.params = params
        self.nodes = nodes


def plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    principal: Principal,
) -> Plan | None:
    """The compiled plan of a validated query, or None when the executor must answer."""
    try:
        known = _TEMPLATES.get((document,), operation_name)
        if known is not None:
            # known from an earlier request: only the variables are this request's
            (template,) = known
            if template is None:
                return None
            given = variables or {}
            if template.variables_recipe is not None:
                plain = coerce_variables(template.variables_recipe, given)
                if plain is not None:
                    return _bind(template, plain, _Variables(schema, template, given), principal)
            coerced = get_variable_values(schema, template.variables, given)
            if isinstance(coerced, list):  # variables that do not coerce: the executor's errors
                return None
            return _bind(template, coerced.coerced, lambda: coerced, principal)
        built = DeadlineExecutionContext.build(
            schema, document, raw_variable_values=variables, operation_name=operation_name
        )
        if isinstance(built, list):
            return None
        template = _template(schema, document, operation_name, built)
        if template is None:
            return None
        known_values = built.variable_values
        return _bind(template, known_values.coerced, lambda: known_values, principal)
    except (Unsupported, ExpectedError):
        return None


@dataclass(frozen=True, slots=True)
class _Template:
    """What an operation selects, before its arguments: the shape without the conditions of
    ``titles``, the nodes the arguments are read from, and each root field's nodes."""

    shape: Shape
    roots: tuple[tuple[int, GraphQLField, FieldNode, Arguments | None], ...]
    """(position in ``shape.roots``, field, node, arguments' recipe) of each root field with
    arguments."""
    tags: tuple[tuple[str, GraphQLField, FieldNode, Arguments | None], ...]
    """(parameter, field, node, arguments' recipe) of each ``tags`` field (its ``kind``)."""
    nodes: dict[str, list[FieldNode]]
    variables: tuple[VariableDefinitionNode, ...]
    """The operation's variable definitions (to coerce a request's variables)."""
    variables_recipe: VariablesRecipe | None
    """How to take the variables as given, when they are plain (``binding``)."""


_TEMPLATES: ByIdentity[tuple[_Template | None]] = ByIdentity()
"""Per parsed document and operation name: its template, or None when not supported."""


def _template(
    schema: GraphQLSchema, document: DocumentNode, name: str | None, executor: Any
) -> _Template | None:
    """The operation's template; None when it is not supported whatever the variables.

    Without a directive in the document, which fields are selected does not depend on the
    variables: the template is kept with the (parsed, cached) document (``_TEMPLATES``).
    With ``@skip`` or ``@include`` it is collected again for each request.
    """
    source = document.loc.source.body if document.loc is not None else "@"
    if "@" in source:
        return _collect(schema, executor)
    try:
        template: _Template | None = _collect(schema, executor)
    except Unsupported:
        template = None
    _TEMPLATES.put((document,), (template,), name)
    return template


def _collect(schema: GraphQLSchema, executor: Any) -> _Template:
    return _Analyser(schema, executor).run()


class _Variables:
    """graphql-core's ``VariableValues`` of a request whose variables were taken as given,
    built only if an argument needs graphql-core to read it."""

    def __init__(self, schema: GraphQLSchema, template: _Template, given: dict[str, Any]):
        self.schema = schema
        self.template = template
        self.given = given

    def __call__(self) -> VariableValues:
        values = get_variable_values(self.schema, self.template.variables, self.given)
        assert not isinstance(values, list)  # they were taken as given
        return values


def _bind(
    template: _Template,
    coerced: dict[str, Any],
    variable_values: Callable[[], VariableValues],
    principal: Principal,
) -> Plan:
    """The plan for the request's coerced variables (``variable_values``: graphql-core's,
    when an argument needs them)."""
    params: dict[str, Any] = {}
    roots = list(template.shape.roots)
    for position, field, node, recipe in template.roots:
        _check_role(field, principal)
        root = roots[position]
        args = _argument_values(field, node, recipe, coerced, variable_values)
        changes = _root_params(params, root.name, root.prefix, args)
        if changes:
            roots[position] = replace(root, **changes)
    for param, field, node, recipe in template.tags:
        kind = _argument_values(field, node, recipe, coerced, variable_values).get("kind")
        params[param] = None if kind is None else TagKind(kind).value
    shape = template.shape if roots == list(template.shape.roots) else Shape(tuple(roots))
    return Plan(shape, params, template.nodes)


def _argument_values(
    field: GraphQLField,
    node: FieldNode,
    recipe: Arguments | None,
    coerced: dict[str, Any],
    variable_values: Callable[[], VariableValues],
) -> dict[str, Any]:
    values = argument_values(recipe, coerced) if recipe is not None else None
    if values is None:
        values = get_argument_values(field, node, variable_values())
    return values


def _check_role(field: GraphQLField, principal: Principal) -> None:
    roles = _required_roles(field)
    if roles is None:
        raise Unsupported
    if not all(principal.role.allows(role) for role in roles):
        raise Unsupported  # the executor answers FORBIDDEN


_ROLES: ByIdentity[tuple[tuple[Role, ...] | None]] = ByIdentity()


def _required_roles(field: GraphQLField) -> tuple[Role, ...] | None:
    """The roles a root field's permissions ask for; None when it has another permission or
    extension (the executor answers). Cached per field."""
    known = _ROLES.get((field,))
    if known is not None:
        return known[0]
    roles: tuple[Role, ...] | None = None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if isinstance(definition, StrawberryField) and all(
        type(e).__name__ == "PermissionExtension" for e in definition.extensions
    ):
        required = [required_role(permission) for permission in definition.permission_classes]
        roles = tuple(r for r in required if r is not None)
        if len(roles) != len(required):
            roles = None
    _ROLES.put((field,), (roles,))
    return roles


def _root_params(
    params: dict[str, Any], name: str, prefix: str, args: dict[str, Any]
) -> dict[str, Any]:
    """Into ``params``: the root field's values; what its ``Root`` holds of them
    (``conditions``, ``mode``, ``limit``)."""
    if name == "title":
        title_id = parse_id(args["id"], "title", "id")
        if title_id > INT8_MAX:
            raise Unsupported
        params.update(compiled.key_values(prefix, title_id))
        return {}
    if name == "titleByExternalId":
        params.update(compiled.key_values(prefix, _safe_text(args["externalId"])))
        return {}
    given = args.get("filter")
    flt = _service_filter(given) if given is not None else None
    if name == "similarTitles":
        return _similar_params(params, prefix, args, flt)
    if name == "searchTitles":
        return _search_params(params, prefix, args, flt)
    first = page_size(args.get("first"))
    after_id = after_key(TITLE_CURSOR, args.get("after"))
    if after_id is not None and not -INT8_MAX <= after_id <= INT8_MAX:
        raise Unsupported
    conditions, values = compiled.page_values(prefix, flt, first, after_id)
    params.update(values)
    return {"conditions": conditions} if conditions else {}


def _similar_params(
    params: dict[str, Any], prefix: str, args: dict[str, Any], flt: service.TitleFilter | None
) -> dict[str, Any]:
    """As ``Query.similar_titles`` and ``similarity.types.similar_titles`` read them."""
    title_id = parse_id(args["titleId"], "title", "titleId")
    if title_id > INT8_MAX:
        raise Unsupported
    first = similarity.check_first(args.get("first"), DEFAULT_FIRST)
    given = args.get("weights")
    weights = DEFAULT_WEIGHTS
    if given is not None:
        try:
            weights = FacetWeights(
                given["synopsis"], given["tags"], given["metadata"], given["people"]
            )
        except ValueError:
            raise Unsupported from None  # the executor's BAD_USER_INPUT
    mode = SimilarityMode(args.get("mode") or SimilarityMode.CONTENT)
    conditions, values = similar.similar_values(prefix, title_id, first, flt, weights, mode)
    params.update(values)
    return {"conditions": conditions, "mode": mode.value, "limit": first}


def _search_params(
    params: dict[str, Any], prefix: str, args: dict[str, Any], flt: service.TitleFilter | None
) -> dict[str, Any]:
    """As ``Query.search_titles`` and ``similarity.types.search_titles`` read them."""
    mode = SearchMode(args.get("mode") or SearchMode.HYBRID)
    first = similarity.check_first(args.get("first"), DEFAULT_FIRST)
    query = _safe_text(args["query"])
    conditions, values = searching.search_values(prefix, query, mode, first, flt)
    params.update(values)
    return {"conditions": conditions, "mode": mode.value, "limit": first}


class _Analyser:
    """Collects the template: which fields, in which order, each supported."""

    def __init__(self, schema: GraphQLSchema, executor: Any) -> None:
        self.schema = schema
        self.executor = executor
        self.roots: list[tuple[int, GraphQLField, FieldNode, Arguments | None]] = []
        self.tags: list[tuple[str, GraphQLField, FieldNode, Arguments | None]] = []

    def run(self) -> _Template:
        executor = self.executor
        operation = executor.operation
        query = self.schema.query_type
        if operation.operation.value != "query" or query is None:
            raise Unsupported
        collected = collect_fields(
            self.schema, executor.fragments, executor.variable_values, query, operation
        )
        _check_collected(collected)
        roots: list[Root] = []
        nodes: dict[str, list[FieldNode]] = {}
        for index, (key, details) in enumerate(collected.grouped_field_set.items()):
            node = details[0].node
            name = node.name.value
            prefix = f"r{index}_"
            nodes[key] = [d.node for d in details]
            if name == TYPENAME:
                _check_plain(details)
                roots.append(Root(key, name, prefix))
                continue
            if name not in ROOTS:
                raise Unsupported
            field = query.fields[name]
            _check_plain(details, arguments=True)
            self.roots.append((index, field, node, arguments(field, node)))
            roots.append(Root(key, name, prefix, self._object(ROOTS[name], details)))
        return _Template(
            Shape(tuple(roots)),
            tuple(self.roots),
            tuple(self.tags),
            nodes,
            tuple(operation.variable_definitions or ()),
            variables_recipe(self.schema, operation.variable_definitions or ()),
        )

    def _object(self, type_name: str, details: Sequence[FieldDetails]) -> Obj:
        object_type = self.schema.type_map[type_name]
        assert isinstance(object_type, GraphQLObjectType)
        collected = self.executor.collect_subfields(object_type, details)
        _check_collected(collected)
        fields: list[Field] = []
        for key, sub in collected.grouped_field_set.items():
            name = sub[0].node.name.value
            fields.append(self._field(type_name, object_type, key, name, sub))
        return Obj(type_name, tuple(fields))

    def _field(
        self,
        type_name: str,
        object_type: GraphQLObjectType,
        key: str,
        name: str,
        details: Sequence[FieldDetails],
    ) -> Field:
        if name == TYPENAME:
            _check_plain(details)
            return Field(key, name)
        field = object_type.fields.get(name)
        if field is None:
            raise Unsupported
        if type_name == "Title":
            if name == "tags":
                _check_plain(details, arguments=True)
                param = f"k{len(self.tags)}"
                node = details[0].node
                self.tags.append((param, field, node, arguments(field, node)))
                return Field(key, name, self._object("TitleTag", details), param)
            _check_plain(details)
            if name == "genres":
                return Field(key, name)
            if name not in COLUMN_OF_FIELD or not _plain(field):
                raise Unsupported
            return Field(key, name)
        _check_plain(details)
        nested = CONNECTION_OBJECTS.get(type_name, {}).get(name)
        if nested is not None:
            return Field(key, name, self._object(nested, details))
        if name in LEAVES.get(type_name, ()):
            return Field(key, name)
        raise Unsupported


_PLAIN: ByIdentity[bool] = ByIdentity()


def _plain(field: GraphQLField) -> bool:
    """A column field is compiled only while it is plain: a strawberry field with no resolver
    and no permission or field extension (strawberry then installs an attribute reader marked
    ``_is_default``), no arguments, and a scalar or enum type. Cached per field."""
    plain = _PLAIN.get((field,))
    if plain is None:
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        plain = bool(
            isinstance(definition, StrawberryField)
            and definition.is_basic_field
            and getattr(field.resolve, "_is_default", False)
            and not field.args
            and is_leaf_type(get_nullable_type(field.type))
        )
        _PLAIN.put((field,), plain)
    return plain


def _check_collected(collected: Any) -> None:
    if collected.new_defer_usages or collected.forbidden_directive_instances:
        raise Unsupported


def _check_plain(details: Sequence[FieldDetails], *, arguments: bool = False) -> None:
    """Each occurrence of the field: no @defer, no fragment arguments, no directive but
    @skip/@include, and no arguments unless the field takes them here."""
    for detail in details:
        node: FieldNode = detail.node
        if detail.defer_usage is not None or detail.fragment_variable_values is not None:
            raise Unsupported
        if node.arguments and not arguments:
            raise Unsupported
        if node.directives and not _only_skip_include(node.directives):
            raise Unsupported


def _only_skip_include(directives: Sequence[DirectiveNode]) -> bool:
    return all(d.name.value in SKIP_INCLUDE for d in directives)


def _safe_text(value: Any) -> str:
    if not isinstance(value, str) or unsafe_text_reason(value) is not None:
        raise Unsupported  # the executor reports what Postgres says
    return value


def _service_filter(given: dict[str, Any]) -> service.TitleFilter:
    if given.get("text") is not None:
        _safe_text(given["text"])
    for name in ("genres", "originCountries"):
        for item in given.get(name) or ():
            _safe_text(item)
    return TitleFilter(
        kind=given.get("kind"),
        genres=given.get("genres"),
        origin_countries=given.get("originCountries"),
        release_year_min=given.get("releaseYearMin"),
        release_year_max=given.get("releaseYearMax"),
        text=given.get("text"),
    ).to_service()
