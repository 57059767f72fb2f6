"""Role checks on GraphQL fields: ``permission_classes=[requires(Role.ANALYST)]``.

A field that needs more than the caller's role fails with ``extensions.code = "FORBIDDEN"``;
its siblings still resolve. Root fields carry the check (nested fields inherit their parent's).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from strawberry.permission import BasePermission

from server.kit.errors import ErrorCode, ExpectedError
from server.kit.roles import Role


class Forbidden(ExpectedError):
    code = ErrorCode.FORBIDDEN


class _RequiresRole(BasePermission):
    role: ClassVar[Role]

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        return bool(principal.role.allows(self.role))

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message or "forbidden")


def required_role(permission: type[BasePermission]) -> Role | None:
    """The role a permission class of ``requires`` asks for; None for any other class."""
    if isinstance(permission, type) and issubclass(permission, _RequiresRole):
        return permission.role
    return None


@functools.cache
def requires(role: Role) -> type[BasePermission]:
    """The permission class allowing ``role`` and every role above it (one class per role)."""
    return type(
        f"Requires{role.name.title()}",
        (_RequiresRole,),
        {
            "role": role,
            "message": f"this field needs an API key with the {role.value} role or above",
        },
    )


VIEWER = [requires(Role.VIEWER)]
ANALYST = [requires(Role.ANALYST)]
ADMIN = [requires(Role.ADMIN)]
