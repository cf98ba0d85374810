"""The params checks prepared from signatures (pure unit tests of the prepared checker)."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kaiju_plugins.rpc import InvalidParams
from kaiju_plugins.rpc._params import ParamsChecker


def problem(checker: ParamsChecker, params: Any) -> tuple[Any, str] | None:
    try:
        if isinstance(params, list):
            checker.check_list(params)
        else:
            checker.check_dict(params)
    except InvalidParams as exc:
        return exc.data["param"], exc.data["problem"]
    return None


def test_positional_only_params_cannot_be_named():
    def f(a: int, /, b: int = 0) -> None: ...

    checker = ParamsChecker("m", f)
    assert problem(checker, [1]) is None
    assert problem(checker, {"a": 1})[0] == "a"
    assert "positional-only" in problem(checker, {"b": 1})[1]


def test_keyword_only_params_cannot_be_positional():
    def f(*, key: str) -> None: ...

    checker = ParamsChecker("m", f)
    assert problem(checker, {"key": "x"}) is None
    assert problem(checker, []) == ("key", "this parameter is keyword-only: pass params as an object")
    assert problem(checker, {})[0] == "key"


@pytest.mark.parametrize(("annotation", "good", "bad"), [
    (int, 1, True), (float, 1, "1"), (str, "x", 1), (bool, False, 0), (list, [], {}), (dict, {}, []),
    (list[int], [1], "x"), (Optional[int], None, "x"), (int | str, "x", 1.5), (Any, object(), None),  # noqa: UP045 -- typing.Optional itself
])
def test_annotations_map_to_exact_json_types(annotation, good, bad):
    def f(x): ...

    f.__annotations__ = {"x": annotation}
    checker = ParamsChecker("m", f)
    assert problem(checker, [good]) is None
    if annotation is not Any:
        assert problem(checker, [bad])[0] == "x"


def test_unresolvable_annotations_are_not_checked():
    def f(x: NoSuchType) -> None: ...  # noqa: F821

    assert problem(ParamsChecker("m", f), ["anything"]) is None


def test_var_positional_annotations_are_checked():
    def f(*values: int) -> None: ...

    checker = ParamsChecker("m", f)
    assert problem(checker, [1, 2, 3]) is None
    assert problem(checker, [1, "2"]) == ("*args", "expected int, got str")


def _none() -> None: ...
def _defaults(a: int = 1, *args: int, b: str = "x", **kws: Any) -> None: ...
def _required_positional(a: int) -> None: ...
def _required_positional_only(a: int, /) -> None: ...
def _required_keyword_only(*, key: str) -> None: ...
def _required_after_optional(a: int = 0, *, key: str) -> None: ...


@pytest.mark.parametrize("func", [_none, _defaults, _required_positional, _required_positional_only,
                                  _required_keyword_only, _required_after_optional])
def test_accepts_no_params_is_true_exactly_when_a_bare_call_binds(func):
    """The view skips the params check of a call without params when this is true: it must
    never be true for a function that needs an argument (that would be an internal error
    instead of -32602 naming the parameter)."""
    import inspect

    try:
        inspect.signature(func).bind()
        binds = True
    except TypeError:
        binds = False
    checker = ParamsChecker("m", func)
    assert checker.accepts_no_params is binds
    assert (problem(checker, []) is None) is binds


def _one(a: int) -> tuple[Any, ...]: return (a,)
def _two(a: int, b: str) -> tuple[Any, ...]: return (a, b)
def _three(a: float, b: bool, c: list) -> tuple[Any, ...]: return (a, b, c)
def _untyped(a, b=2) -> tuple[Any, ...]: return (a, b)
def _mixed(a: int, b, c: str = "x", d: int = 4) -> tuple[Any, ...]: return (a, b, c, d)
def _star(a: int, *rest: str) -> tuple[Any, ...]: return (a, *rest)
def _kw_only(a: int, *, k: int) -> tuple[Any, ...]: return (a, k)


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3) | \
    st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)


@pytest.mark.parametrize("func", [_one, _two, _three, _untyped, _mixed, _star, _kw_only, _none])
@settings(max_examples=150, deadline=None)
@given(params=st.lists(_scalars, max_size=5) | st.tuples(st.integers()).map(list)  # well-typed lists too
       | st.tuples(st.integers(), st.text(max_size=3)).map(list)
       | st.tuples(st.floats(allow_nan=False) | st.integers(), st.booleans(),
                   st.lists(st.integers())).map(list)
       | st.tuples(st.integers(), _scalars, st.text(max_size=2)).map(list))
def test_call_list_calls_exactly_when_the_full_check_passes(func, params):
    """``call_list`` (the fast, unrolled caller) agrees with ``check_list`` + ``func(*params)``."""
    checker = ParamsChecker("m", func)
    try:
        checker.check_list(params)
    except InvalidParams as exc:
        with pytest.raises(InvalidParams) as raised:
            checker.call_list(params)
        assert raised.value.data == exc.data
    else:
        assert checker.call_list(params) == func(*params)
