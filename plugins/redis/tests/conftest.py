"""Fixtures: a real ``redis-server`` on a free port of 127.0.0.1, started and stopped here.

The tests are skipped (with the reason) only when the ``redis-server`` binary is absent;
``REDIS_SERVER`` may name another binary. CI installs Debian's ``redis-server``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for redis_support (pytest runs in importlib mode)

from redis_support import BINARY, RedisServer  # noqa: E402

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A server shared by the session (tests use distinct key prefixes)."""
    if BINARY is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server for one test (that stops and restarts it)."""
    if BINARY is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


