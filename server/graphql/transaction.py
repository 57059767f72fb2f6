"""The one place a request's session is committed, rolled back and closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType


class RequestTransaction(SchemaExtension):
    """Mutations commit when they finished without errors; everything else rolls back. The
    context closes its session only after every statement of the request has finished."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        ctx = self.execution_context
        close = getattr(ctx.context, "close", None)
        if close is None:
            return
        result = ctx.result
        ok = result is not None and not getattr(result, "errors", None)
        await close(commit=ok and ctx.operation_type is OperationType.MUTATION)
