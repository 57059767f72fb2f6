"""Opening an input file and telling its format from the extension."""

from __future__ import annotations

from pathlib import Path

from server.ingest.rows import InputFileError

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})


def read_file(path: Path) -> bytes:
    """The whole file; an unreadable one is an ``InputFileError`` naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None


def detect_format(path: Path, *, csv: str, advice: str) -> str:
    """``jsonl`` for ``.jsonl``/``.ndjson``, ``csv`` (the feature's name of its CSV format)
    for ``.csv``; anything else is an ``InputFileError`` ending with ``advice``."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix == ".csv":
        return csv
    raise InputFileError(f"{path.name}: cannot tell the format from the extension; {advice}")


def unknown_format(fmt: str, expected: str) -> InputFileError:
    return InputFileError(f"unknown format {fmt!r} (expected {expected})")
