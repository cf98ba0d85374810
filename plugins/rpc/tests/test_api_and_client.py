"""``rpc.api`` introspection, and ``JSONRPCClient`` against a real server."""

from __future__ import annotations

import asyncio
import time

import pytest
from kaiju_plugins.rpc import (
    InvalidParams,
    JSONRPCClient,
    MethodNotFound,
    PermissionDenied,
    RequestTimeout,
    RPCError,
)
from kaiju_tools import context


def test_rpc_api_lists_the_methods_a_guest_may_call_with_params_and_types(serve_app):
    async def go():
        async with serve_app() as served:
            return await served.call("rpc.api")

    methods = {m["method"]: m for m in asyncio.run(go())["result"]}
    assert "calc.user_only" not in methods and "calc.system_only" not in methods
    assert {"rpc.api", "calc.add", "calc.ping", "subtract", "get_data"} <= set(methods)
    assert methods["calc.add"]["params"] == [
        {"name": "a", "type": "int", "required": True, "kind": "positional_or_keyword"},
        {"name": "b", "type": "int", "required": True, "kind": "positional_or_keyword"}]
    assert methods["calc.add"]["doc"] == "Add two integers."
    assert methods["calc.add"]["scope"] == "GUEST"
    typed = {p["name"]: p["type"] for p in methods["calc.typed"]["params"]}
    assert typed == {"i": "int", "f": "float", "s": "str", "b": "bool", "items": "list", "mapping": "dict",
                     "maybe": "int | null"}


def test_rpc_api_lists_everything_when_permissions_are_off(serve_app):
    async def go():
        async with serve_app({"enable_permissions": False}) as served:
            return await served.call("rpc.api")

    assert {"calc.user_only", "calc.system_only"} <= {m["method"] for m in asyncio.run(go())["result"]}


def test_the_client_calls_single_methods_and_batches(serve_app):
    async def go():
        async with serve_app() as served, JSONRPCClient(url=served.url) as client:
            single = await client.call("calc.add", [1, 2])
            named = await client.call("subtract", {"minuend": 5, "subtrahend": 3})
            batch = await client.batch([("calc.add", (2, 3)), "calc.ping", ("nope.nope", None),
                                        {"method": "update", "params": [1], "notify": True}])
            note = await client.call("update", [9], notify=True)
            await client.close()
            return single, named, batch, note

    single, named, batch, note = asyncio.run(go())
    assert (single, named, note) == (3, 2, None)
    assert batch[:2] == [5, "pong"] and isinstance(batch[2], MethodNotFound) and batch[3] is None


def test_the_client_turns_error_objects_back_into_exceptions(serve_app):
    async def go():
        async with serve_app() as served, JSONRPCClient(url=served.url) as client:
            errors = []
            for method, params in (("calc.add", [1]), ("calc.user_only", None), ("calc.fail_rpc", None)):
                with pytest.raises(RPCError) as info:
                    await client.call(method, params)
                errors.append(info.value)
            with pytest.raises(MethodNotFound):
                await client.batch([("calc.ping", None), ("nope.nope", None)], return_exceptions=False)
            await client.close()
            return errors

    invalid, denied, custom = asyncio.run(go())
    assert isinstance(invalid, InvalidParams) and invalid.data["param"] == "b"
    assert isinstance(denied, PermissionDenied)
    assert (custom.error_code, custom.error_message, custom.data) == (-32050, "custom failure",
                                                                      {"why": "testing"})


def test_the_client_forwards_the_correlation_id_and_the_remaining_deadline(serve_app):
    async def go():
        async with serve_app() as served, JSONRPCClient(url=served.url, timeout=30) as client:
            tokens = context.bind(correlation_id="from-upstream", deadline=time.time() + 0.5)
            try:
                seen = await client.call("calc.context")
                with pytest.raises(RequestTimeout):
                    await client.call("calc.sleep", [10])
            finally:
                context.reset(tokens)
            await client.close()
            return seen

    seen = asyncio.run(go())
    assert seen["cid"] == "from-upstream"
    assert 0 < seen["remaining"] <= 0.5


def test_the_client_refuses_a_call_when_the_deadline_has_passed(serve_app):
    async def go():
        async with serve_app() as served, JSONRPCClient(url=served.url) as client:
            tokens = context.bind(deadline=time.time() - 1)
            try:
                with pytest.raises(RequestTimeout):
                    await client.call("calc.ping")
            finally:
                context.reset(tokens)
            await client.close()

    asyncio.run(go())


def test_the_client_is_a_service_of_an_app(serve_app):
    async def go():
        async with serve_app() as upstream:
            services = [{"cls": "JSONRPCClient", "name": "other", "settings": {"url": upstream.url}},
                        {"cls": "RpcCalc", "name": "calc"}]
            async with serve_app(services=services) as app:
                client = app.service("other")
                return await client.call("calc.add", [20, 22])

    assert asyncio.run(go()) == 42


def test_a_client_with_a_bad_url_is_a_config_error():
    from kaiju_tools import ConfigError

    with pytest.raises(ConfigError, match="expected an http"):
        JSONRPCClient(url="localhost:80")
