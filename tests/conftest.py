"""Shared fixtures for the kernel's black-box tests: real files, real subprocesses."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from kernel_support import AppDir, free_port


@pytest.fixture
def app_dir(tmp_path: Path) -> AppDir:
    """A fresh app package in a temp dir (settings/config.yml and env.json not yet written)."""
    return AppDir(tmp_path)


@pytest.fixture
def port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_port()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented file below the test's temp dir."""
    def _write(rel: str, text: str) -> Path:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return _write
