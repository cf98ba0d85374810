"""Configuration input is bounded: the example app, run as ``python -m app`` from ``examples/``.

Each child runs under a 1 GiB address-space limit: a generous bound (the fixed loader stays
far below it) that also keeps an unbounded loader from taking the machine down.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from kernel_support import EXAMPLES, child_env
from suite_support import CHILD_ENV

MEMORY = 1024 * 2**20


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m app *args`` in ``examples/`` (its own settings, plus what ``args`` add)."""
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=EXAMPLES, capture_output=True, text=True,
                          env=child_env({**CHILD_ENV, **(env or {})}), timeout=120, preexec_fn=_bounded,
                          check=False)


def laughs(levels: int) -> str:
    """The "billion laughs": each level a list of nine aliases of the one before."""
    lines = ["etc:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def assert_config_error(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    for part in parts:
        assert part in result.stderr, result.stderr[-2000:]


def test_the_billion_laughs_is_a_config_error_naming_the_alias_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yml"
    path.write_text(laughs(9), encoding="utf-8")
    assert path.stat().st_size < 600
    result = app("config", "-c", str(path))
    assert_config_error(result, f"{path}:7:", "with the alias (of line 6) expanded",
                        "over the limit of 100000 values (max_values)",
                        "KAIJU_CONFIG_MAX_VALUES=")


def test_a_smaller_laugh_that_used_to_load_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yml"
    path.write_text(laughs(6), encoding="utf-8")  # 531441 values from 337 bytes
    assert_config_error(app("config", "-c", str(path)), f"{path}:7:", "(max_values)")


def test_the_limit_can_be_raised_as_the_message_says(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yml"
    path.write_text(laughs(5), encoding="utf-8")  # 59049 lols, 66430 values
    refused = app("config", "-c", str(path), env={"KAIJU_CONFIG_MAX_VALUES": "50000"})
    assert_config_error(refused, "KAIJU_CONFIG_MAX_VALUES=200000")
    result = app("config", "--json", "-c", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(json.loads(result.stdout)["etc"]["l4"]) == 9


def test_deep_nesting_is_a_config_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text("etc:\n  x:\n    " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    assert_config_error(app("config", "-c", str(path)), f"{path}:3:", "nest 65 levels",
                        "over the limit of 64 levels (max_depth)", "KAIJU_CONFIG_MAX_DEPTH=")


def test_deep_block_nesting_names_the_line_it_passes_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text("etc:\n" + "".join(f"{'  ' * i}k{i}:\n" for i in range(1, 200)) + "  " * 200 + "v: 1\n",
                    encoding="utf-8")
    assert_config_error(app("config", "-c", str(path)), f"{path}:65:", "(max_depth)")


def test_aliases_that_nest_deeper_than_the_limit_are_refused(tmp_path: Path) -> None:
    lines = ["etc:", "  a0: &a0 [1]"] + [f"  a{i}: &a{i} [*a{i - 1}]" for i in range(1, 80)]
    path = tmp_path / "deep_aliases.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_config_error(app("config", "-c", str(path)), f"{path}:64:", "with the alias (of line 63) expanded",
                        "nest 65 levels", "(max_depth)")


def test_a_recursive_alias_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "loop.yml"
    path.write_text("etc:\n  a: &a\n    - 1\n    - *a\n", encoding="utf-8")
    assert_config_error(app("config", "-c", str(path)), f"{path}:4:", "recursive")


def test_deep_env_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"run_port": 8080,\n "x": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert_config_error(app("config", "-f", "settings/env.json", "-f", str(path)), f"{path}:2:",
                        "(max_depth)", "KAIJU_CONFIG_MAX_DEPTH=")


def test_brackets_inside_json_strings_are_not_nesting(tmp_path: Path) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"greeting": "[" * 1000 + '\\"{' * 100}), encoding="utf-8")
    result = app("config", "--json", "-f", "settings/env.json", "-f", str(path))
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_deep_environment_value_is_a_config_error() -> None:
    result = app("config", env={"run_port": "[" * 500 + "]" * 500})
    assert_config_error(result, "environment variable run_port", "(max_depth)")
    result = app("-e", "run_port=" + "[" * 900 + "]" * 900, "config")
    assert_config_error(result, "-e run_port=...", "(max_depth)")


def test_a_large_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text("etc:\n  blob: '" + "x" * (5 * 2**20) + "'\n", encoding="utf-8")
    assert_config_error(app("config", "-c", str(path)), str(path), "the file is 524", "(max_bytes)",
                        "KAIJU_CONFIG_MAX_BYTES=")
    result = app("config", "--json", "-c", str(path), env={"KAIJU_CONFIG_MAX_BYTES": str(8 * 2**20)})
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_a_bad_limit_variable_is_a_config_error(value: str) -> None:
    assert_config_error(app("config", env={"KAIJU_CONFIG_MAX_DEPTH": value}),
                        "environment variable KAIJU_CONFIG_MAX_DEPTH", "expected a positive integer")


def test_an_alias_heavy_but_reasonable_file_loads(tmp_path: Path) -> None:
    lines = ["etc:", "  defaults: &defaults", "    retries: 3",
             "    timeouts: &timeouts {connect: 1, read: 5}",
             "    tags: [a, b, c]", "  workers:"]
    for i in range(300):
        lines += [f"    w{i}:", "      <<: *defaults", f"      name: w{i}", "      timeouts: *timeouts"]
    path = tmp_path / "aliases.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = app("config", "--json", "-c", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    workers = json.loads(result.stdout)["etc"]["workers"]
    assert len(workers) == 300
    assert workers["w7"] == {"retries": 3, "timeouts": {"connect": 1, "read": 5}, "tags": ["a", "b", "c"],
                             "name": "w7"}
    shown = app("config", "-c", str(path))
    assert f"etc.workers.w7.timeouts.read = 5  # {path}:" in shown.stdout
    assert "(alias of line 4)" in shown.stdout
