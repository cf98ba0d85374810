"""Helpers for the scaffold and docs tests: a venv that sees this environment, doc blocks."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Block", "blocks", "make_venv"]

_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def make_venv(root: Path) -> Path:
    """A venv in ``root`` whose ``.pth`` file adds this environment's site-packages; its ``bin``."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True)
    python = str(root / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib, "kaiju_parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return root / "bin"


@dataclass
class Block:
    """One fenced block of a markdown file."""

    lang: str
    text: str
    line: int


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a markdown file, in order, with their line numbers."""
    source = path.read_text(encoding="utf-8")
    return [Block(m.group(1), m.group(2), source.count("\n", 0, m.start()) + 1)
            for m in _FENCE.finditer(source)]
