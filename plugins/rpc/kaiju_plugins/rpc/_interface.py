"""``PublicInterface``: how a service exposes RPC methods, and the permission scopes."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

__all__ = ["PermissionKeys", "PublicInterface"]


class PermissionKeys(enum.IntEnum):
    """Permission scopes, most privileged first (a lower number may do more).

    A route's scope is the *least* privileged caller that may call it; a caller may call
    a route when ``caller_scope <= route_scope``. Callers nobody authenticated are guests.
    The ``GLOBAL_*_PERMISSION`` names are aliases kept for kaiju-tools code.
    """

    SYSTEM = 0
    USER = 100
    GUEST = 1000
    GLOBAL_SYSTEM_PERMISSION = 0
    GLOBAL_USER_PERMISSION = 100
    GLOBAL_GUEST_PERMISSION = 1000


class PublicInterface:
    """Mixin for a service that exposes RPC methods.

    ``routes`` maps a route name to a callable (usually a bound method); the RPC method
    name is ``<service name>.<route>`` (or the bare route when ``rpc_namespace = ""``).
    ``permissions`` maps route names or ``fnmatch`` patterns (``"*"``, ``"get_*"``) to a
    :class:`PermissionKeys` scope; an exact name wins over patterns, a more specific
    pattern (more literal characters) over a vaguer one (``"system_*"`` over ``"*"``);
    routes nothing matches need ``SYSTEM``. Both are read once,
    when the RPC server starts.

    Example::

        class Calc(Service, PublicInterface):
            @property
            def routes(self):
                return {"add": self.add}

            @property
            def permissions(self):
                return {"*": self.PermissionKeys.GUEST}

            async def add(self, a: int, b: int) -> int:
                return a + b
    """

    PermissionKeys: ClassVar[type[PermissionKeys]] = PermissionKeys
    rpc_namespace: ClassVar[str | None] = None
    """Method-name prefix: ``None`` uses the service name; ``""`` serves bare route names."""

    @property
    def routes(self) -> Mapping[str, Callable[..., Any]]:
        """Route name -> callable. Override it."""
        return {}

    @property
    def permissions(self) -> Mapping[str, int]:
        """Route name or pattern -> the least privileged scope allowed. Default: system only."""
        return {"*": PermissionKeys.SYSTEM}
