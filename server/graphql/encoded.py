"""Response data already written as JSON text: the compiled hot paths' answer, handed to the
reply encoder (``replies.encode``) as it came from Postgres, without decoding it into Python
objects and encoding them again."""

from __future__ import annotations

import re
from dataclasses import dataclass

NON_ASCII = re.compile(r"[^\x00-\x7e]")
"""What ``json.dumps`` escapes and Postgres does not (Postgres escapes the controls below
0x20 as ``json.dumps`` does): DEL and every non-ASCII character."""


@dataclass(frozen=True, slots=True)
class EncodedJson:
    """JSON text exactly as ``json.dumps(value, separators=(",", ":"))`` writes the value it
    stands for (ASCII only: ``ascii_json`` escapes the rest as ``json.dumps`` does)."""

    text: str


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def ascii_json(text: str) -> str:
    """``text`` with DEL and every non-ASCII character escaped as ``json.dumps``
    (``ensure_ascii``) escapes them: ``\\u00e9``, a surrogate pair beyond the BMP. Only
    JSON strings hold such characters, so the text stays the same JSON."""
    if text.isascii() and "\x7f" not in text:
        return text
    return NON_ASCII.sub(_escape, text)
