"""Meta-tests: every hook is documented in docs/hooks.md and has a test of its own."""

from __future__ import annotations

import ast
import re

import pytest
from kaiju_tools import hookspecs
from kernel_support import REPO

HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("kaiju_")
               and hasattr(getattr(hookspecs, name), "kaiju_spec"))


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in [*REPO.glob("tests/test_*.py"), *REPO.glob("plugins/*/tests/test_*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef))
    return names


def test_there_are_hooks_of_all_four_families() -> None:
    assert {"kaiju_load_config_source", "kaiju_register_services", "kaiju_app_started",
            "kaiju_wrap_request"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docs_section(hook: str) -> None:
    text = (REPO / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert re.search(rf"^### {hook}$", text, re.M), f"docs/hooks.md has no '### {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    assert f"test_hook_{hook}" in _test_names(), f"no test named test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_documents_itself(hook: str) -> None:
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert len(doc.strip()) > 20, f"{hook} has no docstring"
