"""Every example of section 7 of the JSON-RPC 2.0 specification, verbatim, over real HTTP.

The request bodies are the specification's text as written (``-->``); the expected answers
are its ``<--`` lines, compared as JSON values; "nothing returned" is HTTP 200 with an empty
body (``notification_status``). Our -32600 / -32601 error objects add a ``data`` member (what
is wrong, close method names), which the specification allows ("may be omitted"): it is left
out of the comparison.
Batch answers are compared in request order (the specification allows any order; this
server keeps request order).
"""

from __future__ import annotations

import asyncio
import json

import pytest

NOTHING = None

EXAMPLES = [
    ("positional parameters 1",
     '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
     '{"jsonrpc": "2.0", "result": 19, "id": 1}'),
    ("positional parameters 2",
     '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
     '{"jsonrpc": "2.0", "result": -19, "id": 2}'),
    ("named parameters 1",
     '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
     '{"jsonrpc": "2.0", "result": 19, "id": 3}'),
    ("named parameters 2",
     '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
     '{"jsonrpc": "2.0", "result": 19, "id": 4}'),
    ("a Notification 1",
     '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
     NOTHING),
    ("a Notification 2",
     '{"jsonrpc": "2.0", "method": "foobar"}',
     NOTHING),
    ("non-existent Method",
     '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
     '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}'),
    ("invalid JSON",
     '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
     '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'),
    ("invalid Request object",
     '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
     '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}'),
    ("Batch, invalid JSON",
     '''[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]''',
     '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'),
    ("empty Array",
     '[]',
     '{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}'),
    ("an invalid Batch (but not empty)",
     '[1]',
     '''[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]'''),
    ("invalid Batch",
     '[1,2,3]',
     '''[
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
  {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}
]'''),
    ("Batch",
     '''[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]''',
     '''[
        {"jsonrpc": "2.0", "result": 7, "id": "1"},
        {"jsonrpc": "2.0", "result": 19, "id": "2"},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
        {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]'''),
    ("Batch (all notifications)",
     '''[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]''',
     NOTHING),
]


@pytest.mark.parametrize(("request_text", "expected_text"), [e[1:] for e in EXAMPLES],
                         ids=[e[0] for e in EXAMPLES])
def test_specification_example_is_answered_verbatim(serve_app, request_text, expected_text):
    async def scenario():
        async with serve_app() as served:
            status, out, headers = await served.post_raw(request_text)
        return status, out, headers

    status, out, headers = asyncio.run(scenario())
    if expected_text is NOTHING:
        assert (status, out) == (200, None)
    else:
        assert status == 200
        assert headers["Content-Type"].startswith("application/json")
        assert without_data(out) == json.loads(expected_text)


def without_data(answer):
    """The answer without the ``data`` of its error objects."""
    if type(answer) is list:
        return [without_data(item) for item in answer]
    if "error" in answer:
        answer = {**answer, "error": {k: v for k, v in answer["error"].items() if k != "data"}}
    return answer


def test_notifications_of_the_examples_run_although_never_answered(serve_app):
    async def scenario():
        async with serve_app() as served:
            for _, request_text, _ in EXAMPLES:
                await served.post_raw(request_text)
            return served.service("spec").notified

    notified = asyncio.run(scenario())
    assert notified == [("update", (1, 2, 3, 4, 5)), ("notify_hello", 7), ("notify_sum", 7),
                        ("notify_hello", 7)]
