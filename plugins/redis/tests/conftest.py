"""Fixtures: a real ``redis-server`` on a free port of 127.0.0.1, started and stopped here.

The tests are skipped (with the reason) only when the ``redis-server`` binary is absent.
``REDIS_SERVER`` names the binary to use; when it is set (as CI does), a missing binary
fails the tests instead of skipping them. CI installs Debian's ``redis-server``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for redis_support (pytest runs in importlib mode)

from redis_support import BINARY, RedisServer  # noqa: E402


def need_binary() -> None:
    """Skip when redis-server is absent, or fail when ``REDIS_SERVER`` names a missing one."""
    wanted = os.environ.get("REDIS_SERVER")
    if wanted and not (os.path.isfile(wanted) and os.access(wanted, os.X_OK)):
        pytest.fail(f"REDIS_SERVER={wanted!r} is not an executable file; install redis-server "
                    "(apt-get install redis-server) or fix REDIS_SERVER")
    if BINARY is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER)")


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


