"""What the endpoint answers besides a result: the media type (``Accept`` negotiation) and the
JSON error bodies of requests refused before anything ran."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from server.graphql.encoded import EncodedJson
from server.observability.metrics import METRICS

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class RequestError(Exception):
    """A request the server answers without executing anything."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: Mapping[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})
        self.field = field


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header; None when nothing fits."""
    if not accept or not accept.strip():
        return JSON
    best_rank: tuple[float, int, int] | None = None
    best_media: str | None = None
    for position, item in enumerate(accept.split(",")):
        media, *options = (part.strip() for part in item.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE:
            chosen = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            chosen = JSON
        else:
            continue
        # Highest q wins; on a tie the spec's own type, then the earlier entry.
        rank = (q, 1 if chosen == GRAPHQL_RESPONSE else 0, -position)
        if best_rank is None or rank > best_rank:
            best_rank, best_media = rank, chosen
    return best_media


def media_of(accept: str | None) -> str:
    """``negotiate``, or 406 when no type the endpoint answers in is acceptable."""
    chosen = negotiate(accept)
    if chosen is None:
        raise RequestError(
            406, f"cannot answer in any type of Accept; use {GRAPHQL_RESPONSE} or {JSON}"
        )
    return chosen


def encode(body: object) -> bytes:
    if isinstance(body, dict) and isinstance(data := body.get("data"), EncodedJson):
        if next(iter(body)) != "data":
            raise ValueError("encoded data must come first")
        # a compiled query's data, already JSON text: spliced, what follows encoded after it
        rest = {k: v for k, v in body.items() if k != "data"}
        tail = "," + json.dumps(rest, separators=(",", ":"))[1:] if rest else "}"
        return ('{"data":' + data.text + tail).encode()
    return json.dumps(body, separators=(",", ":")).encode()


def json_bytes(encoded: bytes, status: int, media: str) -> Response:
    return Response(encoded, status_code=status, media_type=f"{media}; charset=utf-8")


def json_response(body: Mapping[str, Any], status: int, media: str) -> Response:
    return json_bytes(encode(body), status, media)


def error_response(exc: RequestError, media: str) -> Response:
    METRICS.errors.labels(exc.code).inc()
    extensions = {"code": exc.code}
    if exc.field:
        extensions["field"] = exc.field
    body = {"errors": [{"message": str(exc), "extensions": extensions}]}
    response = json_response(body, exc.status, media)
    response.headers.update(exc.headers)
    return response
