"""Client text checked at the edge, before it reaches Postgres."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_NEGATION_RUN = re.compile(r"-(?:\s*-)+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def websearch_text(text: str) -> str:
    """``text`` for ``websearch_to_tsquery``: a run of ``-`` (each one a NOT) becomes one.

    Postgres nests one operator per ``-``, and a few hundred of them in a row overflow its
    parser ("tsquery stack too small"); ``--x`` means ``-x`` to a person anyway.
    """
    return _NEGATION_RUN.sub("-", text)


def unsafe_text_reason(text: str) -> str | None:
    """Why Postgres cannot store or compare ``text``, or None: NUL characters (text columns
    cannot hold them) and lone UTF-16 surrogates (``"\\udcff"`` in JSON: not UTF-8)."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000)"
    if _SURROGATE.search(text):
        return "contains a lone UTF-16 surrogate (not valid Unicode text)"
    return None


def unsafe_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, reason) of every string inside a JSON value that ``unsafe_text_reason``
    refuses; iterative, so a deeply nested value cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            reason = unsafe_text_reason(item)
            if reason is not None:
                yield where, reason
        elif isinstance(item, dict):
            for key, inner in item.items():
                key_reason = unsafe_text_reason(key) if isinstance(key, str) else None
                if key_reason is not None:
                    yield where, f"has a key that {key_reason}"
                stack.append((f"{where}.{key}", inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))
