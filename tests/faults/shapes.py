"""Requests an adversarial client sends: each used to stall a worker or to answer with an
unmasked driver error. Shared by tests/faults/test_abuse.py and bench/load.py's abuse mix.

Each shape is (request body, the error code the answer must carry).
"""

from __future__ import annotations

import json
from typing import Any


def fan_out(n: int, width: int = 2, on: str = "Query", leaf: str = "__typename") -> str:
    """``F0`` spreads ``F1`` ``width`` times, ... ``Fn`` selects ``leaf``: width^n fields."""
    spreads = [
        f"fragment F{i} on {on} {{ {' '.join([f'...F{i + 1}'] * width)} }}" for i in range(n)
    ]
    return " ".join([*spreads, f"fragment F{n} on {on} {{ {leaf} }}"])


def renamed(document: str) -> str:
    return document.replace("...F", "...Zq_").replace("fragment F", "fragment Zq_")


SHAPES: dict[str, tuple[dict[str, Any], str]] = {
    "fragment fan-out n=22": (
        {"query": "query { ...F0 } " + fan_out(22)},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "wider fan-out, renamed": (
        {"query": renamed("query { ...F0 } " + fan_out(14, width=3))},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "fan-out inside a connection": (
        {
            "query": "query { titles(first: 5) { edges { node { ...F0 } } } } "
            + fan_out(20, on="Title", leaf="name")
        },
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "aliases inside fragments": (
        {"query": "query { ...F0 } " + fan_out(16, leaf="a: __typename b: __typename")},
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "many operations in one document": (
        {
            "query": " ".join(f"query Q{i} {{ ...F0 }}" for i in range(300)) + " " + fan_out(8),
            "operationName": "Q7",
        },
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "a megabyte of tokens": ({"query": "{ " + "a " * 480_000 + "}"}, "GRAPHQL_PARSE_FAILED"),
    "a megabyte string literal": (
        {"query": '{ titleByExternalId(externalId: "' + "x" * 950_000 + '") { name } }'},
        "GRAPHQL_PARSE_FAILED",
    ),
    "a megabyte comment": (
        {"query": "#" + "c" * 950_000 + "\n{ __typename }"},
        "GRAPHQL_PARSE_FAILED",
    ),
    "a syntax error": ({"query": "{ titles(first: 1) { name }"}, "GRAPHQL_PARSE_FAILED"),
    "nested lists without first": (
        {
            "query": "{ regions { similarRegions(first: 100) { region { similarRegions(first: 100)"
            " { region { code } } } } } }"
        },
        "BAD_USER_INPUT",
    ),
    "cohorts times regions times neighbours": (
        {"query": "{ cohorts { regions { similarRegions(first: 50) { region { code } } } } }"},
        "BAD_USER_INPUT",
    ),
    "a sibling failing the operation": (
        {"query": '{ t: title(id: "1") { name } x: similarTitles(titleId: "999999") { score } }'},
        "NOT_FOUND",
    ),
    "NUL in a filter": (
        {
            "query": "query($f: TitleFilter) { titles(filter: $f) { totalCount } }",
            "variables": {"f": {"text": "a\u0000b"}},
        },
        "BAD_USER_INPUT",
    ),
    "a lone surrogate in a search": (
        {
            "query": "query($q: String!) { searchTitles(query: $q) { score } }",
            "variables": {"q": "\udcff"},
        },
        "BAD_USER_INPUT",
    ),
    "NUL in a literal": (
        {"query": '{ titleByExternalId(externalId: "s1\\u0000") { name } }'},
        "BAD_USER_INPUT",
    ),
    "huge variables": (
        {
            "query": "query($q: String!) { searchTitles(query: $q) { score } }",
            "variables": {"q": "x" * 900_000},
        },
        "BAD_USER_INPUT",
    ),
    "deeply nested variables": (
        {
            "query": "query($f: TitleFilter) { titles(filter: $f) { totalCount } }",
            "variables": {"f": {"genres": json.loads("[" * 900 + "]" * 900)}},
        },
        "GRAPHQL_VALIDATION_FAILED",
    ),
}
