"""The public surface is pinned, and every kernel module imports alone without warnings."""

from __future__ import annotations

import subprocess
import sys

import kaiju_tools
import pytest
from kernel_support import REPO, child_env

MODULES = sorted(p.stem for p in (REPO / "kernel" / "kaiju_tools").glob("*.py") if p.stem != "__main__")


def test_public_names_are_exactly_all() -> None:
    public = {n for n in vars(kaiju_tools) if not n.startswith("_") and n != "annotations"}
    submodules = {n for n in public if type(getattr(kaiju_tools, n)).__name__ == "module"}
    assert (public - submodules) | {"context"} == set(kaiju_tools.__all__)


def test_all_is_sorted() -> None:
    assert list(kaiju_tools.__all__) == sorted(kaiju_tools.__all__)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone_with_warnings_as_errors(module: str) -> None:
    name = "kaiju_tools" if module == "__init__" else f"kaiju_tools.{module}"
    result = subprocess.run([sys.executable, "-W", "error", "-c", f"import {name}"], capture_output=True,
                            text=True, env=child_env())
    assert result.returncode == 0, result.stderr


def test_plugin_names_resolve_lazily_or_say_what_to_install() -> None:
    for name in ("Scheduler", "JSONRPCServer", "LoggingService"):
        try:
            getattr(kaiju_tools, name)
        except ImportError as exc:
            assert "pip install kaiju-plugin-" in str(exc)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        kaiju_tools.Nope  # noqa: B018
