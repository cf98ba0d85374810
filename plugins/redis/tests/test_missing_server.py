"""Without redis-server the Redis tests never pass quietly: CI fails, a developer sees a loud banner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def run_smoke(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``pytest test_smoke.py`` in a child with no redis-server on PATH."""
    child = {k: v for k, v in os.environ.items() if k not in ("REDIS_SERVER", "CI", "PYTEST_ADDOPTS")}
    child.update(PATH=str(HERE / "no-such-dir"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_smoke.py"],
                          check=False, cwd=HERE, capture_output=True, text=True, timeout=120, env=child)


def test_a_developer_without_redis_server_gets_a_loud_summary() -> None:
    result = run_smoke({})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Redis tests were SKIPPED: redis-server is not installed" in result.stdout
    assert "The Redis plugin is NOT tested by this run" in result.stdout


@pytest.mark.parametrize("env", [{"CI": "true"}, {"REDIS_SERVER": "/nonexistent/redis-server"}],
                         ids=["CI", "REDIS_SERVER"])
def test_ci_fails_without_redis_server(env: dict[str, str]) -> None:
    result = run_smoke(env)
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stdout.splitlines()[-1]
    assert "error" in last and "skipped" not in last  # the fixture fails: the test errors, never skips
    assert "redis-server" in result.stdout
