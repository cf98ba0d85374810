"""``rpc.discover``: an OpenRPC document valid against the official meta-schema, per caller scope."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
from asyncio import run
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# helpers beside this file (pytest imports tests with importlib)
sys.path.insert(0, str(Path(__file__).parent))
from kaiju_plugins.rpc._encoding import encode
from openrpc_meta import validate
from typed_service import Everything
from typed_strategies import everything

TYPED = [{"cls": "Typed", "name": "typed"}, {"cls": "RpcCalc", "name": "calc"}]
REPO = Path(__file__).resolve().parents[3]


def discover(serve_app: Any, scope: int | None = None, **rpc: Any) -> dict[str, Any]:
    """``rpc.discover`` of the typed app, called as a caller of ``scope`` (a middleware sets it)."""
    from aiohttp import web
    from kaiju_tools import context

    @web.middleware
    async def with_scope(request: Any, handler: Any) -> Any:
        context.scope.set(scope)
        return await handler(request)

    async def go() -> dict[str, Any]:
        kws = {"middlewares": [with_scope]} if scope is not None else {}
        async with serve_app(rpc_settings=rpc or None, services=TYPED, **kws) as served:
            out = await served.call("rpc.discover")
            return out["result"]

    return run(go())


def test_the_typed_apps_document_validates_against_the_official_meta_schema(serve_app: Any) -> None:
    doc = discover(serve_app)
    validate(doc)
    assert doc["openrpc"].startswith("1.") and doc["info"] == {"title": "rpctest", "version": "0.0.0"}
    assert doc["servers"] == [{"name": "rpctest", "url": "/public/rpc"}]
    methods = {m["name"]: m for m in doc["methods"]}
    assert "typed.secret" not in methods and "calc.system_only" not in methods  # guests do not see them
    assert "calc.user_only" not in methods
    assert {"typed.centroid", "rpc.discover", "rpc.api", "calc.add"} <= set(methods)
    centroid = methods["typed.centroid"]
    assert centroid["params"] == [{"name": "points", "required": True, "schema": {
        "type": "array", "items": {"$ref": "#/components/schemas/Point"}}}]
    assert centroid["result"]["schema"] == {"$ref": "#/components/schemas/Point"}
    assert centroid["summary"] == "The centroid of points (integer division)."
    assert "Returns the origin" in centroid["description"]
    schemas = doc["components"]["schemas"]
    assert schemas["Point"] == {"type": "object", "title": "Point", "description": "A point on the plane.",
                                "additionalProperties": False, "required": ["x"],
                                "properties": {"x": {"type": "integer"},
                                               "y": {"type": "integer", "default": 0}}}
    assert schemas["Color"] == {"enum": ["red", "green"], "type": "string", "title": "Color",
                                "x-enum-varnames": ["RED", "GREEN"]}
    assert schemas["Tag"]["required"] == ["name"] and schemas["Partial"].get("required") is None
    assert schemas["Tree"]["properties"]["children"] == {"type": "array",
                                                         "items": {"$ref": "#/components/schemas/Tree"}}
    assert methods["typed.shift"]["errors"] == [{"code": -32602, "message": "Invalid params"}]
    assert methods["typed.positional"]["paramStructure"] == "by-position"
    assert methods["typed.named"]["paramStructure"] == "by-name"
    assert methods["calc.add"]["paramStructure"] == "either"
    bounded = {p["name"]: p["schema"] for p in methods["typed.bounded"]["params"]}
    assert bounded["n"] == {"type": "integer", "minimum": 0, "maximum": 10}
    assert bounded["name"] == {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$",
                               "default": "a"}


def test_a_system_caller_sees_the_system_methods_too(serve_app: Any) -> None:
    doc = discover(serve_app, scope=0)
    validate(doc)
    assert {"typed.secret", "calc.system_only", "calc.user_only"} <= {m["name"] for m in doc["methods"]}


def test_without_permissions_every_method_is_listed(serve_app: Any) -> None:
    doc = discover(serve_app, enable_permissions=False)
    assert "typed.secret" in {m["name"] for m in doc["methods"]}


def test_the_document_is_built_once_not_per_request(serve_app: Any) -> None:
    async def go() -> None:
        async with serve_app(services=TYPED) as served:
            first = (await served.call("rpc.discover"))["result"]
            server = served.service("rpc")
            documents = server.openrpc()
            await served.call("rpc.discover")
            assert server.openrpc() is documents  # the same object: nothing rebuilt per call
            assert documents.for_scope(1000)["methods"] == first["methods"]

    run(go())


def test_the_meta_schema_check_is_not_vacuous() -> None:
    with pytest.raises(AssertionError, match="info"):
        validate({"openrpc": "1.3.2", "methods": []})
    with pytest.raises(AssertionError):
        validate({"openrpc": "1.3.2", "info": {"title": "t", "version": "1"},
                  "methods": [{"name": "m", "params": [{"schema": {}}]}]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_encoded_values_validate_against_their_published_schemas(data: st.DataObject,
                                                                 typed_doc: dict[str, Any]) -> None:
    import jsonschema
    value = json.loads(json.dumps(encode(data.draw(everything))))
    method = next(m for m in typed_doc["methods"] if m["name"] == "typed.everything")
    schema = {**method["params"][0]["schema"], "components": typed_doc["components"]}
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    validator.validate(value)
    assert isinstance(data.draw(st.just(Everything)), type)


@pytest.fixture(scope="module")
def typed_doc(serve_app: Any) -> dict[str, Any]:
    return discover(serve_app)


EXAMPLE_NEEDS = ("kaiju_plugins.logging", "kaiju_plugins.scheduler", "kaiju_plugins.config_yaml")


@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in EXAMPLE_NEEDS),
                    reason="the example app needs every first-party plugin (runs in the `all` env)")
def test_the_example_apps_document_validates_against_the_meta_schema() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO / "examples")}
    proc = subprocess.Popen([sys.executable, "-m", "app", "-e", f"run_port={port}"], cwd=REPO / "examples",
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}).encode()
        doc = None
        for _ in range(300):
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/public/rpc", data=body,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    doc = json.loads(response.read())["result"]
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                time.sleep(0.1)
        assert doc is not None, "the example app did not answer"
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    validate(doc)
    assert doc["info"] == {"title": "example", "version": "1.0"}
    assert "greeter.add" in {m["name"] for m in doc["methods"]}
