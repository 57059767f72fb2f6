"""graphql-core's executor, checking the request's deadline at each object it completes.

Python work is not covered by ``statement_timeout``: a response of many objects stops at the
next object once the request's deadline has passed (``Context.check_deadline``), so the rest
of it is not built.

This overrides a graphql-core internal (``execute_fields``), so pyproject bounds graphql-core's
versions; tests/graphql/test_timeouts.py checks it.

A plain-leaf shortcut lived here too (scalar fields read without graphql-core's per-field
machinery: 8-11% of the CPU of a `titles(first: 20)` page on the executor). Issue 15 kept it
only if it still gained 10% on some bench/peers.py query once the hot paths were compiled;
every one of those queries is now answered by one compiled statement, so it gained nothing
there, and it went, with the pin on strawberry's versions it needed.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class DeadlineExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        check_deadline = getattr(self.context_value, "check_deadline", None)
        if check_deadline is not None:
            check_deadline()
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )
