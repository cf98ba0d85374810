"""The call engine's one entry: ``answer(obj, scope)`` -> an answer or a Pending, ``complete`` -> the
answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.rpc import InvalidParams, JSONRPCServer
from kaiju_plugins.rpc._calls import ANYONE
from kaiju_plugins.rpc._invoke import NOTHING
from kaiju_plugins.rpc._params import ParamsChecker
from kaiju_plugins.rpc._pending import Detached, Pending, PendingBatch, Queued, Running

from .conftest import RpcCalc, run


def _none() -> str: return "none"
def _one(a: int) -> tuple[Any, ...]: return (a,)
def _two(a: int, b: str = "x") -> tuple[Any, ...]: return (a, b)
def _kw_only(a: int, *, k: int) -> tuple[Any, ...]: return (a, k)
def _star(*rest: int, **kws: Any) -> tuple[Any, ...]: return (*rest, *sorted(kws.items()))


_values = st.none() | st.booleans() | st.integers() | st.text(max_size=3)


@pytest.mark.parametrize("func", [_none, _one, _two, _kw_only, _star])
@settings(max_examples=150, deadline=None)
@given(params=st.just(NOTHING) | st.lists(_values, max_size=3)
       | st.dictionaries(st.sampled_from(["a", "b", "k", "z"]), _values, max_size=3))
def test_invoke_calls_exactly_when_the_full_check_of_the_params_shape_passes(func, params):
    """One closure per route tells absent / list / dict params apart; it agrees with the full checks."""
    checker = ParamsChecker("m", func)
    invoke = checker.call_list  # Route.invoke
    as_list = [] if params is NOTHING else params
    try:
        if type(as_list) is list:
            checker.check_list(as_list)
        else:
            checker.check_dict(as_list)
    except InvalidParams as exc:
        with pytest.raises(InvalidParams) as raised:
            invoke(params)
        assert raised.value.data == exc.data
    else:
        expected = func(*as_list) if type(as_list) is list else func(**as_list)
        assert invoke(params) == expected


def _engine(**settings_: Any) -> tuple[JSONRPCServer, RpcCalc]:
    server = JSONRPCServer(enable_permissions=False, **settings_)
    calc = RpcCalc()
    calc.service_name = "calc"  # what the app's container names it
    server.prepare([calc])
    return server, calc


def _call(method: str, params: Any = None, id_: Any = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        obj["params"] = params
    return obj


def test_a_call_answered_in_its_first_step_is_answered_at_once():
    server, _ = _engine()
    assert server.answer(_call("calc.ping"), ANYONE) == {"jsonrpc": "2.0", "result": "pong", "id": 1}
    assert server.answer(_call("calc.add", [1, 2]), ANYONE)["result"] == 3
    assert server.answer(_call("calc.add", {"a": 1, "b": 5}), ANYONE)["result"] == 6
    assert server.answer(_call("calc.add", ["1", 2]), ANYONE)["error"]["code"] == -32602
    assert server.answer([_call("calc.ping"), _call("calc.add", [2, 2], 2)], ANYONE) == [
        {"jsonrpc": "2.0", "result": "pong", "id": 1}, {"jsonrpc": "2.0", "result": 4, "id": 2}]
    assert server.answer({"jsonrpc": "2.0", "method": "calc.ping"}, ANYONE) is None
    assert server.answer(7, ANYONE)["error"]["code"] == -32600
    assert server.limiter.active == 0


def test_each_kind_of_pending_call_is_completed_by_the_one_entry():
    """Running (started, suspended), Queued (waits for a slot), Detached (the general path's
    generator, here because of per-call logs) and a PendingBatch all complete to their answer."""

    async def go() -> list[Any]:
        server, _ = _engine(max_parallel=1)
        running = server.answer(_call("calc.sleep", [0.01, "a"]), ANYONE)
        queued = server.answer(_call("calc.sleep", [0.01, "b"], 2), ANYONE)
        batch = server.answer([_call("calc.add", [1, 1], 3), _call("calc.sleep", [0.01, "c"], 4)], ANYONE)
        kinds = [type(running), type(queued), type(batch), type(batch.out[1])]
        until = time.time() + 30  # unix time
        answers = await asyncio.gather(server.complete(running, until), server.complete(queued, until),
                                       server.complete(batch, until))
        logged, _ = _engine(response_logs=True)
        detached = logged.answer(_call("calc.sleep", [0.01, "d"], 5), ANYONE)
        kinds.append(type(detached))
        answers.append(await logged.complete(detached, until))
        assert server.limiter.active == logged.limiter.active == 0
        assert all(isinstance(p, Pending) for p in (running, queued, batch, detached))
        return [kinds, answers]

    kinds, answers = run(go())
    assert kinds == [Running, Queued, PendingBatch, Queued, Detached]
    assert answers == [
        {"jsonrpc": "2.0", "result": "a", "id": 1}, {"jsonrpc": "2.0", "result": "b", "id": 2},
        [{"jsonrpc": "2.0", "result": 2, "id": 3}, {"jsonrpc": "2.0", "result": "c", "id": 4}],
        {"jsonrpc": "2.0", "result": "d", "id": 5}]
