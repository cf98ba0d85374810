"""The params checks prepared from signatures (pure unit tests of the prepared checker)."""

from __future__ import annotations

from typing import Any, Optional

import pytest

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
    (list[int], [1], "x"), (Optional[int], None, "x"), (int | str, "x", 1.5), (Any, object(), None),
])
def test_annotations_map_to_exact_json_types(annotation, good, bad):
    def f(x): ...

    f.__annotations__ = {"x": annotation}
    checker = ParamsChecker("m", f)
    assert problem(checker, [good]) is None
    if annotation is not Any:
        assert problem(checker, [bad])[0] == "x"


def test_unresolvable_annotations_are_not_checked():
    def f(x: "NoSuchType") -> None: ...  # noqa: F821

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
