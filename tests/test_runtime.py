"""The runtime an app is built from: settings carry it in a typed field, hand-built settings
are validated again field by field, and the app keys live in a leaf module (#19.4)."""

from __future__ import annotations

import ast
import pathlib
from dataclasses import fields

from kaiju_tools import MainSettings, ProjectSettings, RunSettings, ServiceSettings, get_settings, init_app
from kaiju_tools._runtime import Runtime
from kaiju_tools.app import settings_from_mapping

KERNEL = pathlib.Path(__file__).resolve().parents[1] / "kernel" / "kaiju_tools"


def test_validated_settings_carry_their_runtime_in_a_field() -> None:
    settings = settings_from_mapping({"main": {"name": "rt"}})
    assert "runtime" in {f.name for f in fields(ProjectSettings)}
    assert isinstance(settings.runtime, Runtime)
    assert settings.runtime.settings is settings
    assert "runtime" not in repr(settings)


def test_hand_built_settings_keep_every_field_through_init_app() -> None:
    """Every section's fields survive ``init_app`` (run.drain_delay was dropped before)."""
    hand = ProjectSettings(
        app={"client_max_size": 4096},
        run=RunSettings(host="127.0.0.2", port=8123, shutdown_timeout=3.5, drain_delay=2.5,
                        extra={"backlog": 64}),
        main=MainSettings(name="byhand", version="1.2.3", env="test", loglevel="DEBUG",
                          start_timeout=7.0, stop_timeout=8.0),
        etc={"custom": {"x": 1}},
        services=[ServiceSettings(cls="Service", name="plain", enabled=False, required=False,
                                  loglevel="WARNING", settings={}, depends_on=[])],
    )
    app = init_app(hand)
    got = get_settings(app)
    assert got.runtime is not None
    run = got.run
    assert (run.host, run.port, run.shutdown_timeout, run.drain_delay, run.extra["backlog"]) == \
        ("127.0.0.2", 8123, 3.5, 2.5, 64)
    assert got.main == hand.main
    assert got.app == hand.app
    assert got.etc["custom"] == {"x": 1}
    entry = got.services[0]
    assert (entry.cls, entry.name, entry.enabled, entry.required, entry.loglevel) == \
        ("Service", "plain", False, False, "WARNING")


def _module_imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom) and node.level]


def test_the_app_keys_module_is_a_leaf() -> None:
    """``_keys`` imports nothing of the kernel at run time, so every module can import it."""
    assert _module_imports(KERNEL / "_keys.py") == []


def _kernel_graph() -> dict[str, set[str]]:
    """Module -> kernel modules it imports at module level (``TYPE_CHECKING`` blocks left out)."""
    graph: dict[str, set[str]] = {}
    for path in KERNEL.glob("*.py"):
        edges: set[str] = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                edges.update(n.split(".")[0] for n in names)
        graph[path.stem] = {e for e in edges if (KERNEL / f"{e}.py").exists() and e != path.stem}
    return graph


def test_the_kernel_modules_import_each_other_without_a_cycle() -> None:
    graph = _kernel_graph()
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            raise AssertionError(f"import cycle: {' -> '.join([*stack[stack.index(module):], module])}")
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*stack, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
