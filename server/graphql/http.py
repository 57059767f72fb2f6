"""GraphQL over HTTP (the GraphQL-over-HTTP specification), auth, limits and metrics.

* ``Accept`` negotiation: ``application/graphql-response+json`` when the client accepts it,
  ``application/json`` otherwise (and when no ``Accept`` is sent); 406 when neither is
  acceptable.
* GET runs queries only (a mutation over GET gets 405 with ``Allow: POST``); POST takes
  ``application/json`` (415 otherwise) up to ``max_body_bytes`` (413 past it).
* Malformed requests (bad JSON, no query, ``variables`` not an object) get 400. A request
  that fails before execution (syntax, validation, variable types, limits) gets 400 with
  ``application/graphql-response+json`` and 200 with ``application/json``, as the spec says.
* Auth: ``Authorization: Bearer <key>``; missing or bad key 401 (``UNAUTHENTICATED``).
* Automatic persisted queries (``extensions.persistedQuery.sha256Hash``) and an
  allow-list mode where only listed operations run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from server.auth.ratelimit import RateLimiter
from server.auth.service import KeyVerifier
from server.config import Settings
from server.graphql.documents import parse_document
from server.graphql.operation import run_operation
from server.graphql.schema import Schema, schema
from server.kit.cache import ByteLRU
from server.kit.errors import ErrorCode
from server.kit.roles import AUTH_OFF, Principal
from server.kit.text import unsafe_strings
from server.observability.logs import REQUEST_ID
from server.observability.metrics import METRICS
from server.resolving.context import Context, ExecutionTimeout
from server.resolving.errors import INTERNAL, PARSE_FAILED

log = logging.getLogger("contentintel.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
OPERATION_NAME_RE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
MAX_OPERATION_LABELS = 200
UNAVAILABLE = "SERVICE_UNAVAILABLE"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


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


@dataclass
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] = field(default_factory=dict)


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


def _json_param(raw: Any, name: str) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise RequestError(400, f"`{name}` is not valid JSON") from None
        except RecursionError:
            raise RequestError(400, f"`{name}` is nested too deeply") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RequestError(400, f"`{name}` must be a JSON object, got {type(raw).__name__}")
    return raw


def _params(data: Mapping[str, Any]) -> Params:
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestError(400, "`query` must be a string")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise RequestError(400, "`operationName` must be a string")
    return Params(
        query=query or None,
        variables=_json_param(data.get("variables"), "variables"),
        operation_name=name or None,
        extensions=_json_param(data.get("extensions"), "extensions") or {},
    )


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

    def resolve(self, params: Params, apq: bool) -> str:
        persisted = params.extensions.get("persistedQuery")
        digest: str | None = None
        if isinstance(persisted, dict):
            if persisted.get("version", 1) != 1 or not isinstance(persisted.get("sha256Hash"), str):
                raise RequestError(400, "persistedQuery needs version 1 and a sha256Hash string")
            digest = str(persisted["sha256Hash"]).lower()
        if params.query is not None:
            if digest is None and self.allow_list is None:
                return params.query  # the common case: no hashing at all
            actual = sha256(params.query)
            if digest is not None and digest != actual:
                raise RequestError(400, "persistedQuery.sha256Hash does not match the query")
            if self.allow_list is not None:
                if actual not in self.allow_list:
                    raise RequestError(
                        403, "this operation is not in the allow-list", code="FORBIDDEN"
                    )
            elif digest is not None and apq:
                self.learned.put(actual, params.query, len(params.query) + len(actual))
            return params.query
        if digest is None:
            raise RequestError(400, "no `query` in the request")
        if self.allow_list is not None:
            if digest not in self.allow_list:
                raise RequestError(403, "this operation is not in the allow-list", code="FORBIDDEN")
            return self.allow_list[digest]
        if not apq:
            raise RequestError(400, "persisted queries are switched off: send `query`")
        query = self.learned.get(digest)
        if query is None:
            # Apollo's protocol: the client retries with the full query and the hash.
            raise RequestError(200, "PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND")
        return query


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


class GraphQLHTTP:
    """The ``/graphql`` endpoint (a starlette request handler)."""

    def __init__(
        self,
        settings: Settings,
        sessions: Any,
        graphql_schema: Schema = schema,
        read_sessions: Any = None,
        ide_html: str | None = None,
    ) -> None:
        self.settings = settings
        self.schema = graphql_schema
        # The GraphiQL page a browser gets (strawberry's own unless the app serves another:
        # the explorer's, with its assets vendored).
        self.ide_html = ide_html or get_graphql_ide_html("graphiql")
        self.read_sessions = read_sessions or sessions
        self.sessions = sessions  # () -> async_sessionmaker, available once the lifespan ran
        self.keys = KeyVerifier(settings.key_cache_s)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.persisted = PersistedQueries.from_settings(settings)
        self.operation_labels: set[str] = set()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex[:16]
        token = REQUEST_ID.set(request_id)
        label, op_type = "-", "-"
        media = JSON
        try:
            try:
                if request.method == "GET" and self._wants_ide(request):
                    return HTMLResponse(self.ide_html)
                if request.method not in ("GET", "POST"):
                    raise RequestError(
                        405, "GraphQL over HTTP takes GET and POST", headers={"Allow": "GET, POST"}
                    )
                chosen = negotiate(request.headers.get("accept"))
                if chosen is None:
                    raise RequestError(
                        406,
                        f"cannot answer in any type of Accept; use {GRAPHQL_RESPONSE} or {JSON}",
                    )
                media = chosen
                principal = await self._authenticate(request)
                self._check_rate(principal)
                params = await self._read(request)
                query = self.persisted.resolve(
                    params, self.settings.persisted_queries.value == "on"
                )
                response, label, op_type = await self._execute(
                    request, params, query, principal, media, request_id
                )
            except RequestError as exc:
                response = self._error_response(exc, media)
            except Exception:  # a bug outside execution: masked, logged with the request id
                log.exception(
                    "unexpected error serving %s (request %s)", request.url.path, request_id
                )
                response = _json_response(
                    {
                        "errors": [
                            {
                                "message": "Unexpected error.",
                                "extensions": {"code": INTERNAL, "requestId": request_id},
                            }
                        ]
                    },
                    500,
                    media,
                )
                METRICS.errors.labels(INTERNAL).inc()
            response.headers["X-Request-ID"] = request_id
            elapsed = time.perf_counter() - started
            status = str(response.status_code)
            METRICS.requests.labels(label, op_type, status).inc()
            METRICS.latency.labels(label).observe(elapsed)
            if log.isEnabledFor(logging.INFO):  # the access line: nothing built when off
                log.info(
                    "graphql %s %s -> %s in %.1f ms",
                    request.method,
                    label,
                    status,
                    elapsed * 1000,
                    extra={
                        "operation": label,
                        "status": response.status_code,
                        "ms": elapsed * 1000,
                    },
                )
            return response
        finally:
            REQUEST_ID.reset(token)

    def _wants_ide(self, request: Request) -> bool:
        return (
            self.settings.graphiql.value == "on"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def _authenticate(self, request: Request) -> Principal:
        if self.settings.auth.value != "on":
            return AUTH_OFF
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise RequestError(
                401,
                "an API key is required: send `Authorization: Bearer <key>`",
                code="UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="contentintel"'},
            )
        try:
            principal = await self.keys.verify(self.sessions(), key.strip())
        except (DBAPIError, PoolTimeout) as exc:
            log.warning("API key check failed: %s", exc)
            raise RequestError(
                503,
                "cannot check the API key: the database is unavailable, retry later",
                code=UNAVAILABLE,
                headers={"Retry-After": "5"},
            ) from None
        if principal is None:
            raise RequestError(
                401,
                "the API key is not valid (unknown or revoked)",
                code="UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer realm="contentintel", error="invalid_token"'},
            )
        return principal

    def _check_rate(self, principal: Principal) -> None:
        if principal.key_id is None:
            return  # auth off: nobody to count against
        wait = self.limiter.acquire(principal.key_id)
        if wait > 0:
            raise RequestError(
                429,
                f"rate limit of {self.settings.rate_limit:g} requests/s for this key: retry later",
                code="RATE_LIMITED",
                headers={"Retry-After": str(max(1, round(wait)))},
            )

    async def _read(self, request: Request) -> Params:
        if request.method == "GET":
            return _params(request.query_params)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            raise RequestError(415, f"POST bodies must be {JSON}, got {content_type or 'none'}")
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestError(413, f"the request body is larger than {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"the request body is larger than {limit:,} bytes")
            chunks.append(chunk)
        try:
            data = json.loads(b"".join(chunks))
        except ValueError:
            raise RequestError(400, "the request body is not valid JSON") from None
        except RecursionError:
            raise RequestError(400, "the request body is nested too deeply") from None
        if not isinstance(data, dict):
            raise RequestError(400, "the request body must be a JSON object")
        return _params(data)

    async def _execute(
        self,
        request: Request,
        params: Params,
        query: str,
        principal: Principal,
        media: str,
        request_id: str,
    ) -> tuple[Response, str, str]:
        _check_variables(params.variables, media)
        label = params.operation_name or "-"
        limit = self.settings.max_query_bytes
        if len(query) > limit:
            too_long = GraphQLError(
                f"the query document is {len(query):,} characters, more than the maximum "
                f"{limit:,}: send large values as variables"
            )
            return self._parse_failed(too_long, media), self._label(label), "-"
        try:
            document = parse_document(query, self.settings.max_tokens)
        except GraphQLError as syntax_error:
            return self._parse_failed(syntax_error, media), self._label(label), "-"
        timeout_s = self.settings.execution_timeout_ms / 1000
        # The session is opened on the first database call, on the primary for a mutation
        # and on the read side otherwise: the operation type is known by then, so the
        # document is parsed only once, with the token limit.
        context = Context(
            settings=self.settings,
            sessions=self.read_sessions(),
            write_sessions=self.sessions(),
            principal=principal,
            request_id=request_id,
            deadline=time.monotonic() + timeout_s,
            document=document,
        )
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            async with asyncio.timeout(timeout_s):
                if self.schema is schema:
                    result = await run_operation(
                        self.schema,
                        query,
                        document,
                        context,
                        params.variables,
                        params.operation_name,
                        allowed,
                    )
                else:  # another schema (benchmarks): its own extensions, through strawberry
                    result = await self.schema.execute(
                        query,
                        variable_values=params.variables,
                        context_value=context,
                        operation_name=params.operation_name,
                        allowed_operation_types=allowed,
                    )
        except TimeoutError:
            context.timed_out = True
        except InvalidOperationTypeError as exc:
            kind = exc.operation_type.value
            raise RequestError(
                405,
                f"{kind}s are not allowed over GET: use POST",
                headers={"Allow": "POST"},
            ) from None
        except MissingQueryError:
            raise RequestError(400, "no `query` in the request") from None
        except CannotGetOperationTypeError as exc:
            raise RequestError(400, exc.as_http_error_reason()) from None
        finally:
            if context.timed_out:
                # A statement may still run (statement_timeout bounds it): answer now, and
                # close the session once it has finished.
                _in_background(context.close())
            else:
                await context.close()
        if label == "-" and context.operation is not None:
            label = context.operation[1]
        label = self._label(label)
        op_type = context.operation[0] if context.operation else "-"
        if context.timed_out:
            log.warning(
                "request %s stopped after %d ms (execution timeout)",
                request_id,
                self.settings.execution_timeout_ms,
            )
            timeout = ExecutionTimeout(self.settings.execution_timeout_ms)
            return self._failed(str(timeout), ErrorCode.TIMEOUT, media), label, op_type
        body: dict[str, Any] = {}
        status = 200
        errors = result.errors or []
        before_execution = result.data is None and errors and all(not e.path for e in errors)
        if before_execution:
            if media == GRAPHQL_RESPONSE:
                status = 400
        else:
            body["data"] = result.data
        if errors:
            body["errors"] = [e.formatted for e in errors]
            for error in errors:
                code = (error.extensions or {}).get("code", "UNKNOWN")
                METRICS.errors.labels(str(code)).inc()
        if result.extensions:
            body["extensions"] = result.extensions
        encoded = _encode(body)
        if len(encoded) > self.settings.max_response_bytes:
            message = (
                f"the response would be {len(encoded):,} bytes, more than the maximum "
                f"{self.settings.max_response_bytes:,}: ask for fewer items or fields"
            )
            return self._failed(message, RESPONSE_TOO_LARGE, media), label, op_type
        return _json_bytes(encoded, status, media), label, op_type

    def _parse_failed(self, error: GraphQLError, media: str) -> Response:
        """A document that does not parse (syntax, too many tokens): nothing ran."""
        METRICS.errors.labels(PARSE_FAILED).inc()
        formatted = {**error.formatted, "extensions": {"code": PARSE_FAILED}}
        return _json_response(
            {"errors": [formatted]}, 400 if media == GRAPHQL_RESPONSE else 200, media
        )

    def _failed(self, message: str, code: str, media: str) -> Response:
        """An operation that ran and was stopped: no data, one coded error."""
        METRICS.errors.labels(code).inc()
        return _json_response(
            {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
            200,
            media,
        )

    def _label(self, name: str | None) -> str:
        """The metrics label for an operation name (bounded: unknown names past a cap are
        counted as ``other``)."""
        if not name or name == "-":
            return "anonymous"
        if not OPERATION_NAME_RE.match(name):
            return "other"
        if name not in self.operation_labels:
            if len(self.operation_labels) >= MAX_OPERATION_LABELS:
                return "other"
            self.operation_labels.add(name)
        return name

    def _error_response(self, exc: RequestError, media: str) -> Response:
        METRICS.errors.labels(exc.code).inc()
        extensions = {"code": exc.code}
        if exc.field:
            extensions["field"] = exc.field
        body = {"errors": [{"message": str(exc), "extensions": extensions}]}
        response = _json_response(body, exc.status, media)
        response.headers.update(exc.headers)
        return response


_BACKGROUND: set[asyncio.Task[None]] = set()


def _in_background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _json_bytes(encoded: bytes, status: int, media: str) -> Response:
    return Response(encoded, status_code=status, media_type=f"{media}; charset=utf-8")


def _json_response(body: dict[str, Any], status: int, media: str) -> Response:
    return _json_bytes(_encode(body), status, media)


def _check_variables(variables: Mapping[str, Any] | None, media: str) -> None:
    """Strings Postgres cannot take are refused before anything runs, naming the variable."""
    for where, reason in unsafe_strings(variables or {}, "$"):
        name = where[1:].lstrip(".")
        raise RequestError(
            400 if media == GRAPHQL_RESPONSE else 200,
            f"variable `${name}` {reason}",
            code=ErrorCode.BAD_USER_INPUT.value,
            field=name.split(".")[0].split("[")[0],
        )
