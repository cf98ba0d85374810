"""The scheduler's ``tasks`` command, run in a real process of the example app (as in the README).

The example app needs every first-party plugin (it serves JSON-RPC), so this lives with the
whole-suite tests of the ``all`` env rather than in the scheduler plugin's own env.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def example(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=EXAMPLES, capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def test_tasks_lists_trigger_next_due_outcome_and_counts() -> None:
    done = example("tasks")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1 task(s)" in out and "LocalCache._reload_local_cache  (scheduler: enabled, WAIT)" in out
    assert "trigger:  every 60 s" in out and "next due: 20" in out
    assert "last:     never run here" in out and "counts:   runs 0, failures 0" in out
    assert "tasks" in example("--help").stdout  # registered by the plugin


def test_tasks_json() -> None:
    done = example("tasks", "--json")
    assert done.returncode == 0, done.stderr
    start = done.stdout.index("[")
    (task,) = json.loads(done.stdout[start:done.stdout.rindex("]") + 1])
    assert task["name"] == "LocalCache._reload_local_cache" and task["interval"] == 60
    assert task["next_run"] is not None and task["stored"] is False and task["runs"] == 0


def test_the_readme_shows_the_tasks_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try the example", 1)[1].split("\n## ", 1)[0]
    assert "python -m app tasks)" in section
