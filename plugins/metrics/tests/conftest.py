"""The metrics plugin's tests run with the kernel, the rpc and scheduler plugins and this plugin."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # for metrics_support (pytest runs in importlib mode)

import socket

import pytest


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
