"""Four JSON-RPC clients from the package index against a real server: calls, notifications, batches, errors.

tox installs them (the ``all`` and ``rpc`` envs); a client not importable here is skipped.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest


@pytest.fixture
def stock(server: Any) -> Any:
    """The module's server (conftest ``server``: the default test services, served in a thread)."""
    return server


def spec(stock: Any) -> Any:
    return stock.served.service("spec")


def test_jsonrpcclient(stock):
    jsonrpcclient = pytest.importorskip("jsonrpcclient")
    requests = pytest.importorskip("requests")
    url = stock.served.url
    out = jsonrpcclient.parse(requests.post(url,
                                            json=jsonrpcclient.request("subtract", params=[42, 23])).json())
    assert isinstance(out, jsonrpcclient.Ok) and out.result == 19
    out = jsonrpcclient.parse(requests.post(url, json=jsonrpcclient.request("calc.ad", params=[1, 2])).json())
    assert isinstance(out, jsonrpcclient.Error) and out.code == -32601
    note = requests.post(url, json=jsonrpcclient.notification("notify_hello", params=[7]))
    assert note.status_code == 200 and note.content == b""
    batch = [jsonrpcclient.request("subtract", params=[5, 3]), jsonrpcclient.request("calc.fail_rpc"),
             jsonrpcclient.notification("notify_hello", params=[8])]
    outs = list(jsonrpcclient.parse(requests.post(url, json=batch).json()))
    assert isinstance(outs[0], jsonrpcclient.Ok) and outs[0].result == 2
    assert isinstance(outs[1], jsonrpcclient.Error) and outs[1].code == -32050
    too_large = [jsonrpcclient.request("get_data") for _ in range(101)]
    outs = list(jsonrpcclient.parse(requests.post(url, json=too_large).json()))
    assert len(outs) == 101 and all(isinstance(o, jsonrpcclient.Error) and o.code == -32004 for o in outs)
    assert ("notify_hello", 7) in spec(stock).notified and ("notify_hello", 8) in spec(stock).notified


def test_tinyrpc(stock):
    pytest.importorskip("tinyrpc")
    from tinyrpc import RPCClient
    from tinyrpc.exc import RPCError as TinyError
    from tinyrpc.protocols.jsonrpc import JSONRPCProtocol
    from tinyrpc.transports.http import HttpPostClientTransport

    protocol = JSONRPCProtocol()
    # requests sends bytes without a Content-Type: the header is tinyrpc's documented keyword
    transport = HttpPostClientTransport(stock.served.url, headers={"Content-Type": "application/json"})
    client = RPCClient(protocol, transport)
    assert client.call("subtract", [42, 23], {}) == 19
    assert client.call("subtract", [], {"minuend": 42, "subtrahend": 23}) == 19
    with pytest.raises(TinyError):
        client.call("calc.ad", [1, 2], {})
    assert client.call("notify_hello", [9], {}, one_way=True) is None
    batch = protocol.create_batch_request([protocol.create_request("subtract", [5, 3], {}),
                                           protocol.create_request("calc.fail_rpc", [], {})])
    reply = protocol.parse_reply(transport.send_message(batch.serialize()))
    assert reply[0].result == 2 and reply[1].error == "custom failure"
    big = protocol.create_batch_request([protocol.create_request("get_data", [], {}) for _ in range(101)])
    reply = protocol.parse_reply(transport.send_message(big.serialize()))
    assert len(reply) == 101 and all(r._jsonrpc_error_code == -32004 for r in reply)  # noqa: SLF001 -- the client's own error field
    assert ("notify_hello", 9) in spec(stock).notified


def test_jsonrpc_requests(stock):
    pytest.importorskip("jsonrpc_requests")
    from jsonrpc_requests import ProtocolError, Server

    server = Server(stock.served.url)
    assert server.send_request("subtract", False, [42, 23]) == 19
    assert server.send_request("subtract", False, {"minuend": 42, "subtrahend": 23}) == 19
    with pytest.raises(ProtocolError, match="-32601"):
        server.send_request("calc.ad", False, [1, 2])
    # 200 with an empty body: no TransportError
    assert server.send_request("notify_hello", True, [10]) is None
    response = server.request(data=json.dumps([{"jsonrpc": "2.0", "method": "subtract",
                                                "params": [5, 3], "id": 1}]))
    assert response.json() == [{"jsonrpc": "2.0", "result": 2, "id": 1}]
    assert ("notify_hello", 10) in spec(stock).notified


def test_jsonrpc_async(stock):
    pytest.importorskip("jsonrpc_async")
    from jsonrpc_async import ProtocolError, Server

    async def go() -> Any:
        async with Server(stock.served.url) as server:
            results = [await server.send_message(_message(server, "subtract", [42, 23]))]
            results.append(await server.subtract(minuend=42, subtrahend=23))
            with pytest.raises(ProtocolError):
                await server.send_message(_message(server, "calc.ad", [1, 2]))
            results.append(await server.notify_hello(11, _notification=True))
            return results

    assert asyncio.run(go()) == [19, 19, None]
    assert ("notify_hello", 11) in spec(stock).notified


def _message(server: Any, method: str, params: Any) -> Any:
    from jsonrpc_base import Request

    return Request(method, params, msg_id=1)


def test_a_204_for_notifications_can_be_chosen(serve_app):
    async def go() -> Any:
        async with serve_app({"notification_status": 204}) as served:
            return await served.post_raw('{"jsonrpc": "2.0", "method": "notify_hello", "params": [1]}')

    status, out, _ = asyncio.run(go())
    assert (status, out) == (204, None)
