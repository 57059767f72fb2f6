"""Persisted queries: automatic (APQ, ``extensions.persistedQuery.sha256Hash``) and an
allow-list mode where only listed operations run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server.config import Settings
from server.graphql.replies import RequestError
from server.kit.cache import ByteLRU


class PersistedQueries:
    """sha256 -> query text: learned from clients (APQ) or fixed by an allow-list file."""

    def __init__(
        self, allow_list: Mapping[str, str] | None, max_bytes: int = 8 * 1024 * 1024
    ) -> None:
        self.allow_list = dict(allow_list) if allow_list is not None else None
        # Bounded by bytes: a client could otherwise register many megabyte-long queries.
        self.learned: ByteLRU[str, str] = ByteLRU(max_bytes, max_entry_bytes=max_bytes // 32)

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        if settings.allow_list is None:
            return cls(None)
        return cls(load_allow_list(settings.allow_list))

    def resolve(self, query: str | None, extensions: Mapping[str, Any], apq: bool) -> str:
        """The query to run for a request's ``query`` and ``extensions``."""
        persisted = extensions.get("persistedQuery")
        digest: str | None = None
        if isinstance(persisted, dict):
            if persisted.get("version", 1) != 1 or not isinstance(persisted.get("sha256Hash"), str):
                raise RequestError(400, "persistedQuery needs version 1 and a sha256Hash string")
            digest = str(persisted["sha256Hash"]).lower()
        if query is not None:
            if digest is None and self.allow_list is None:
                return query  # the common case: no hashing at all
            actual = sha256(query)
            if digest is not None and digest != actual:
                raise RequestError(400, "persistedQuery.sha256Hash does not match the query")
            if self.allow_list is not None:
                if actual not in self.allow_list:
                    raise RequestError(
                        403, "this operation is not in the allow-list", code="FORBIDDEN"
                    )
            elif digest is not None and apq:
                self.learned.put(actual, query, len(query) + len(actual))
            return query
        if digest is None:
            raise RequestError(400, "no `query` in the request")
        if self.allow_list is not None:
            if digest not in self.allow_list:
                raise RequestError(403, "this operation is not in the allow-list", code="FORBIDDEN")
            return self.allow_list[digest]
        if not apq:
            raise RequestError(400, "persisted queries are switched off: send `query`")
        learned = self.learned.get(digest)
        if learned is None:
            # Apollo's protocol: the client retries with the full query and the hash.
            raise RequestError(200, "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND")
        return learned


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_allow_list(path: Path) -> dict[str, str]:
    """``{sha256: query}`` (a JSON object) or a JSON list of queries (hashed here)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list) and all(isinstance(q, str) for q in data):
        return {sha256(q): q for q in data}
    if isinstance(data, dict) and all(isinstance(q, str) for q in data.values()):
        for digest, query in data.items():
            if sha256(query) != digest.lower():
                raise ValueError(f"{path}: the hash {digest} does not match its query")
        return {k.lower(): v for k, v in data.items()}
    raise ValueError(f"{path}: expected a JSON object {{sha256: query}} or a list of queries")
