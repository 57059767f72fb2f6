"""Parsed and validated documents, cached by query text within a byte budget.

strawberry's ``ParserCache`` and ``ValidationCache`` bound their entries by count, so 256
distinct 1 MB documents (a big comment parses to a tiny tree but is kept as the key) held
~500 MB for good. Here one cache holds, per query text and parse options, the document and
its validation errors per rule set, and counts the text's bytes (twice: the key and the
source the document keeps) against one budget. A text larger than ``MAX_ENTRY_BYTES`` is
parsed and validated every time: real clients' documents are a few kilobytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from server.kit.cache import ByteLRU

MAX_BYTES = 32 * 1024 * 1024
MAX_ENTRY_BYTES = 256 * 1024
ENTRY_OVERHEAD = 4096
"""Bytes counted per entry beyond its text: the tree and the validation results."""


@dataclass
class Document:
    node: DocumentNode
    errors: dict[tuple[GraphQLSchema, tuple[type[ASTValidationRule], ...]], list[GraphQLError]] = (
        field(default_factory=dict)
    )


DOCUMENTS: ByteLRU[tuple[str, tuple[tuple[str, Any], ...]], Document] = ByteLRU(
    MAX_BYTES, MAX_ENTRY_BYTES
)


def parse_document(query: str, max_tokens: int | None) -> DocumentNode:
    """The document of ``query``, parsed once per distinct text; raises ``GraphQLError``
    (syntax, more than ``max_tokens`` tokens), which is not cached."""
    key = _key(query, {"max_tokens": max_tokens} if max_tokens is not None else {})
    cached = DOCUMENTS.get(key)
    if cached is None:
        cached = Document(parse(query, **dict(key[1])))
        DOCUMENTS.put(key, cached, 2 * len(query) + ENTRY_OVERHEAD)
    return cached.node


def _key(query: str, options: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    return (query, tuple(sorted(options.items())))


class DocumentCache(SchemaExtension):
    """Parse (with the request's token limit) and validate once per distinct document. The
    HTTP layer parses before execution (a parse error is answered there); this extension
    takes that document from the context, and parses itself for other callers."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        given = getattr(ctx.context, "document", None)
        if given is not None:
            ctx.graphql_document = given
        elif ctx.query is not None:
            try:
                ctx.graphql_document = parse_document(
                    ctx.query, ctx.parse_options.get("max_tokens")
                )
            except GraphQLError:
                pass  # strawberry parses again and reports it as a request error
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.query is not None:
            ctx.pre_execution_errors = validation_errors(
                ctx.query,
                dict(ctx.parse_options),
                document,
                ctx.schema._schema,
                tuple(ctx.validation_rules),
            )
        yield


def validation_errors(
    query: str,
    parse_options: Mapping[str, Any],
    document: DocumentNode,
    schema: GraphQLSchema,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """strawberry's validation of ``document`` (parsed from ``query`` with ``parse_options``)
    under ``rules``, cached with the document."""
    cached = DOCUMENTS.get(_key(query, parse_options))
    if cached is None or cached.node is not document:
        return validate_document(schema, document, rules)
    errors = cached.errors.get((schema, rules))
    if errors is None:
        errors = validate_document(schema, document, rules)
        cached.errors[(schema, rules)] = errors
    return errors
