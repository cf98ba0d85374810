"""Fixtures: a real ``redis-server`` on a free port of 127.0.0.1, started and stopped here.

``REDIS_SERVER`` names the binary to use (else ``redis-server`` on ``PATH``). When it is set,
or ``CI`` is true (as ``.ci/run`` has both), a missing binary FAILS the tests that need it.
On a developer's machine without it they are skipped, and the run ends with a loud summary
saying how many were skipped and how to install redis-server: never a quiet "OK".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for redis_support (pytest runs in importlib mode)

from redis_support import BINARY, RedisServer

_MISSING = "redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER)"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need_binary() -> None:
    """Fail when redis-server is missing and must be there (``REDIS_SERVER`` set, or CI); else skip."""
    wanted = os.environ.get("REDIS_SERVER")
    if wanted and not (os.path.isfile(wanted) and os.access(wanted, os.X_OK)):
        pytest.fail(f"REDIS_SERVER={wanted!r} is not an executable file; install redis-server "
                    "(apt-get install redis-server) or fix REDIS_SERVER")
    if BINARY is None:
        if _ci():
            pytest.fail(f"CI is set and {_MISSING}: the Redis plugin's tests must run in CI")
        pytest.skip(_MISSING)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A loud banner when tests were skipped for want of redis-server."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _MISSING in str(r.longrepr)]
    if not skipped:
        return
    bar = "!" * 78
    terminalreporter.write_line(bar, red=True, bold=True)
    terminalreporter.write_line(f"{len(skipped)} Redis tests were SKIPPED: {_MISSING}.", red=True, bold=True)
    terminalreporter.write_line("The Redis plugin is NOT tested by this run. CI (CI=true) fails instead.",
                                red=True, bold=True)
    terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A server shared by the session (tests use distinct key prefixes)."""
    need_binary()
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server for one test (that stops and restarts it)."""
    need_binary()
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


