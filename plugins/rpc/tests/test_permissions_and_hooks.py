"""Permission scopes per route, set by a request hook; call hooks composed once at start-up."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from kaiju_plugins.rpc import PermissionKeys
from kaiju_tools import context
from kaiju_tools.hookspecs import hookimpl


def call(method, params=None, id_=1):
    body = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        body["params"] = params
    return body


class HeaderAuthPlugin:
    """A third-party plugin that authenticates callers from an ``X-Scope`` header."""

    __name__ = "header_auth_test_plugin"

    @staticmethod
    @hookimpl
    def kaiju_wrap_request(app):
        def wrapper(handler):
            async def authenticate(request):
                name = request.headers.get("X-Scope")
                if name is None:
                    return await handler(request)
                tokens = context.bind(scope=PermissionKeys[name.upper()])
                try:
                    return await handler(request)
                finally:
                    context.reset(tokens)

            return authenticate

        return wrapper


class CallAuditPlugin:
    """A third-party plugin that sees every call (one per call of a batch) and refuses one."""

    __name__ = "call_audit_test_plugin"
    hook_calls = 0
    seen: ClassVar[list] = []

    @staticmethod
    @hookimpl
    def kaiju_wrap_call(app):
        CallAuditPlugin.hook_calls += 1

        def wrapper(next_call):
            async def audit(method, params):
                CallAuditPlugin.seen.append((method, params))
                if method == "calc.echo" and params == ["forbidden"]:
                    raise PermissionError("echo of 'forbidden' is refused by the audit plugin")
                return await next_call(method, params)

            return audit

        return wrapper


def test_a_guest_may_call_guest_routes_only_and_is_told_why_otherwise(serve_app):
    async def go():
        async with serve_app() as served:
            return [await served.post(call(m)) for m in ("calc.ping", "calc.user_only", "calc.system_only")]

    ping, user, system = asyncio.run(go())
    assert ping["result"] == "pong"
    for out, needed in ((user, "USER"), (system, "SYSTEM")):
        assert out["error"]["code"] == -32002
        assert out["error"]["message"] == "Permission denied"
        assert out["error"]["data"]["required"] == needed


def test_a_request_hook_sets_the_callers_scope(serve_app):
    async def go():
        async with serve_app(hooks=[HeaderAuthPlugin]) as served:
            user = [await served.post(call(m), {"X-Scope": "user"})
                    for m in ("calc.user_only", "calc.system_only")]
            system = await served.post(call("calc.system_only"), {"X-Scope": "system"})
            seen = await served.post(call("calc.context"), {"X-Scope": "user"})
            return user, system, seen

    (user_ok, user_denied), system, seen = asyncio.run(go())
    assert user_ok["result"] == "user"
    assert user_denied["error"]["code"] == -32002
    assert system["result"] == "system"
    assert seen["result"]["scope"] == PermissionKeys.USER


def test_with_permissions_disabled_every_route_is_callable(serve_app):
    async def go():
        async with serve_app({"enable_permissions": False}) as served:
            return await served.post([call("calc.user_only", id_=1), call("calc.system_only", id_=2)])

    assert [o["result"] for o in asyncio.run(go())] == ["user", "system"]


def test_routes_default_to_the_system_scope():
    from kaiju_plugins.rpc import PublicInterface

    assert dict(PublicInterface().permissions) == {"*": PermissionKeys.SYSTEM}


def test_call_hooks_are_collected_once_and_wrap_every_call_of_a_batch(serve_app):
    CallAuditPlugin.hook_calls = 0
    CallAuditPlugin.seen = []

    async def go():
        async with serve_app(hooks=[CallAuditPlugin]) as served:
            outs = [await served.post([call("calc.add", [1, 2], 1), call("calc.ping", id_=2)])
                    for _ in range(3)]
            refused = await served.post(call("calc.echo", ["forbidden"]))
            return outs, refused

    outs, refused = asyncio.run(go())
    assert CallAuditPlugin.hook_calls == 1
    assert all([o["result"] for o in out] == [3, "pong"] for out in outs)
    assert CallAuditPlugin.seen[:2] == [("calc.add", [1, 2]), ("calc.ping", None)]
    assert len(CallAuditPlugin.seen) == 7
    assert refused["error"]["code"] == -32002
    assert "audit plugin" in refused["error"]["message"]


def test_without_call_hooks_the_call_path_has_no_hook_layer(serve_app):
    async def go():
        async with serve_app() as served:
            return served.service("rpc")._chain  # noqa: SLF001 -- the zero-overhead guarantee

    assert asyncio.run(go()) is None
