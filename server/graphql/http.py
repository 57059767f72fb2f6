"""GraphQL over HTTP (the GraphQL-over-HTTP specification): the ``/graphql`` endpoint.

The steps of a request, each in its own piece:

* around it all, the request id, access log and metrics (``access``);
* the GraphiQL page for a browser asking without a query; GET and POST only (405);
* ``Accept`` negotiation: ``application/graphql-response+json`` when the client accepts it,
  ``application/json`` otherwise (and when no ``Accept`` is sent); 406 when neither is
  acceptable (``replies``);
* admission: ``Authorization: Bearer <key>``, 401 (``UNAUTHENTICATED``) when missing or bad,
  and the key's rate limit (``gate``);
* the parameters: GET runs queries only (a mutation over GET gets 405 with ``Allow: POST``);
  POST takes ``application/json`` (415 otherwise) up to ``max_body_bytes`` (413 past it);
  malformed requests (bad JSON, no query, ``variables`` not an object) get 400; automatic
  persisted queries and the allow-list mode (``persisted``);
* execution on the lean path (``operation.run_operation``) under the execution timeout. A
  request that fails before execution (syntax, validation, variable types, limits) gets 400
  with ``application/graphql-response+json`` and 200 with ``application/json``, as the spec
  says.

Not a subclass of strawberry's ASGI view (``strawberry.asgi.GraphQL``), whose ``run`` does the
same steps through hooks. Built twice (branches ``view-strawberry-run`` and ``view2``), each
passing the same tests and the graphql-http audit (61/61): the second, on top of the compiled
paths, cost 5.5-7% more server CPU on a 20-title page, 4.5-6% on ``title(id)`` and 15-23% on
``{ __typename }`` (in-process, interleaved, old-vs-old control 0.97-1.03). Part of it is
``run``'s check of every result against the ``SubscriptionExecutionResult`` protocol
(``typing_extensions``' ``isinstance`` through ``inspect.getattr_static``), part its extra
awaits. It needed three workarounds (``get_context`` runs before the 405 and GraphiQL checks,
``create_response`` is not given the request, its ``HTTPException`` answers in plain text),
and it made the endpoint no shorter (374 lines plus a new 98-line ``params`` module, against
369 here).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from server.config import Settings
from server.graphql.access import AccessLog, Exchange
from server.graphql.documents import parse_document
from server.graphql.gate import Gate
from server.graphql.operation import run_operation
from server.graphql.persisted import PersistedQueries
from server.graphql.replies import (
    GRAPHQL_RESPONSE,
    JSON,
    RequestError,
    encode,
    error_response,
    json_bytes,
    json_response,
    media_of,
    negotiate,
)
from server.graphql.schema import schema
from server.kit.errors import ErrorCode
from server.kit.resolving.context import Context, ExecutionTimeout, ReadOne
from server.kit.resolving.errors import INTERNAL, PARSE_FAILED
from server.kit.roles import Principal
from server.kit.text import unsafe_strings
from server.observability.metrics import METRICS

__all__ = ["GraphQLHTTP", "negotiate"]

log = logging.getLogger("contentintel.http")

RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


@dataclass
class Params:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] = field(default_factory=dict)


class GraphQLHTTP:
    """The ``/graphql`` endpoint (a starlette request handler)."""

    def __init__(
        self,
        settings: Settings,
        sessions: Any,
        read_sessions: Any = None,
        ide_html: str | None = None,
        reads: Callable[[], ReadOne | None] | None = None,
    ) -> None:
        self.settings = settings
        # The GraphiQL page a browser gets (strawberry's own unless the app serves another:
        # the explorer's, with its assets vendored).
        self.ide_html = ide_html or get_graphql_ide_html("graphiql")
        self.read_sessions = read_sessions or sessions
        self.sessions = sessions  # () -> async_sessionmaker, available once the lifespan ran
        self.reads = reads or _no_reads  # () -> driver reads (see Context.fetch_one), likewise
        self.gate = Gate(settings, sessions)
        self.persisted = PersistedQueries.from_settings(settings)
        self.apq = settings.persisted_queries.value == "on"
        self.access = AccessLog()

    async def handle(self, request: Request) -> Response:
        return await self.access(request, self._answer)

    async def _answer(self, request: Request, exchange: Exchange) -> Response:
        try:
            if request.method == "GET" and self._wants_ide(request):
                return HTMLResponse(self.ide_html)
            if request.method not in ("GET", "POST"):
                raise RequestError(
                    405, "GraphQL over HTTP takes GET and POST", headers={"Allow": "GET, POST"}
                )
            exchange.media = media_of(request.headers.get("accept"))
            principal = await self.gate.admit(request.headers)
            params = await self._read(request)
            query = self.persisted.resolve(params.query, params.extensions, self.apq)
            return await self._execute(request, params, query, principal, exchange)
        except RequestError as exc:
            return error_response(exc, exchange.media)
        except Exception:  # a bug outside execution: masked, logged with the request id
            log.exception(
                "unexpected error serving %s (request %s)", request.url.path, exchange.request_id
            )
            body = {
                "errors": [
                    {
                        "message": "Unexpected error.",
                        "extensions": {"code": INTERNAL, "requestId": exchange.request_id},
                    }
                ]
            }
            METRICS.errors.labels(INTERNAL).inc()
            return json_response(body, 500, exchange.media)

    def _wants_ide(self, request: Request) -> bool:
        return (
            self.settings.graphiql.value == "on"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
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
        exchange: Exchange,
    ) -> Response:
        media = exchange.media
        _check_variables(params.variables, media)
        limit = self.settings.max_query_bytes
        if len(query) > limit:
            too_long = GraphQLError(
                f"the query document is {len(query):,} characters, more than the maximum "
                f"{limit:,}: send large values as variables"
            )
            exchange.label = self.access.label(params.operation_name)
            return _parse_failed(too_long, media)
        try:
            document = parse_document(query, self.settings.max_tokens)
        except GraphQLError as syntax_error:
            exchange.label = self.access.label(params.operation_name)
            return _parse_failed(syntax_error, media)
        timeout_s = self.settings.execution_timeout_ms / 1000
        # The session is opened on the first database call, on the primary for a mutation
        # and on the read side otherwise: the operation type is known by then, so the
        # document is parsed only once, with the token limit.
        context = Context(
            settings=self.settings,
            sessions=self.read_sessions(),
            write_sessions=self.sessions(),
            reads=self.reads(),
            principal=principal,
            request_id=exchange.request_id,
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
                result = await run_operation(
                    schema,
                    query,
                    document,
                    context,
                    params.variables,
                    params.operation_name,
                    allowed,
                    encoded=True,
                )
        except TimeoutError:
            context.timed_out = True
        except InvalidOperationTypeError as exc:
            kind = exc.operation_type.value
            raise RequestError(
                405, f"{kind}s are not allowed over GET: use POST", headers={"Allow": "POST"}
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
        name = params.operation_name
        if name is None and context.operation is not None:
            name = context.operation[1]
        exchange.label = self.access.label(name)
        exchange.op_type = context.operation[0] if context.operation else "-"
        if context.timed_out:
            log.warning(
                "request %s stopped after %d ms (execution timeout)",
                exchange.request_id,
                self.settings.execution_timeout_ms,
            )
            timeout = ExecutionTimeout(self.settings.execution_timeout_ms)
            return _failed(str(timeout), ErrorCode.TIMEOUT, media)
        return self._respond(result, media)

    def _respond(self, result: ExecutionResult, media: str) -> Response:
        """The result as JSON: no ``data`` (and 400 with the spec's type) when nothing ran;
        RESPONSE_TOO_LARGE past ``max_response_bytes``."""
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
        encoded = encode(body)
        if len(encoded) > self.settings.max_response_bytes:
            message = (
                f"the response would be {len(encoded):,} bytes, more than the maximum "
                f"{self.settings.max_response_bytes:,}: ask for fewer items or fields"
            )
            return _failed(message, RESPONSE_TOO_LARGE, media)
        return json_bytes(encoded, status, media)


def _parse_failed(error: GraphQLError, media: str) -> Response:
    """A document that does not parse (syntax, too many tokens): nothing ran."""
    METRICS.errors.labels(PARSE_FAILED).inc()
    formatted = {**error.formatted, "extensions": {"code": PARSE_FAILED}}
    return json_response({"errors": [formatted]}, 400 if media == GRAPHQL_RESPONSE else 200, media)


def _failed(message: str, code: str, media: str) -> Response:
    """An operation that ran and was stopped: no data, one coded error."""
    METRICS.errors.labels(code).inc()
    return json_response(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        200,
        media,
    )


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


_BACKGROUND: set[asyncio.Task[None]] = set()


def _in_background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(work)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _no_reads() -> ReadOne | None:
    return None
