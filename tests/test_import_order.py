"""Start-up import order: what ``import kaiju_tools`` imports, and from how deep a stack.

The figures behind these rules are in docs/architecture.md ("Start-up"); speed itself is
measured in bench/, never here. These tests pin the shape that gives the speed.
"""

from __future__ import annotations

import re
import subprocess
import sys

_LINE = re.compile(r"import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$")


def _import_depths(code: str) -> dict[str, int]:
    """Each module a fresh interpreter imports running ``code``: its nesting depth (1: imported
    by ``code`` itself), from ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                          text=True, check=True, timeout=120)
    depths = {}
    for line in proc.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            depths.setdefault(match.group(2), len(match.group(1)) // 2)
    return depths


def test_aiohttp_web_is_imported_first_and_directly_by_the_package() -> None:
    # imported one level under kaiju_tools, before any of its submodules: aiohttp's ~300
    # module bodies then run on a shallow stack, not one frame chunk deeper
    depths = _import_depths("import kaiju_tools")
    assert depths["aiohttp.web"] == depths["kaiju_tools"] + 1
    assert depths["aiohttp"] == depths["kaiju_tools"] + 1


def test_a_server_start_imports_neither_secrets_nor_hmac() -> None:
    # the rpc view draws its correlation-id prefix from os.urandom (what secrets reads)
    depths = _import_depths("import kaiju_tools, kaiju_plugins.rpc")
    assert "kaiju_plugins.rpc._view" in depths
    assert "secrets" not in depths and "hmac" not in depths
