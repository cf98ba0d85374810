"""``kaiju_tools.caches.dataclass``: the standard dataclass, its methods compiled once and cached."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kaiju_tools import caches
from kernel_support import child_env

# One child per run: the cache is per process. It makes the same classes with the standard
# decorator and with ours, and prints how they behave and whether it compiled any method.
CHILD = r'''
import dataclasses, inspect, json, sys
from dataclasses import field
from kaiju_tools import _dataclass_code, caches

def make(decorator):
    @decorator
    class Plain:
        name: str
        size: int = 3
        tags: list = field(default_factory=list)
        hidden: int = field(default=0, repr=False, compare=False)

    @decorator(frozen=True, order=True)
    class Frozen:
        a: int
        b: str = "x"

    return Plain, Frozen

def behaviour(Plain, Frozen):
    p, q = Plain("n"), Plain("n", 3, [], hidden=9)
    f = Frozen(1)
    try:
        f.a = 2
        frozen = "mutable"
    except dataclasses.FrozenInstanceError as exc:
        frozen = type(exc).__name__
    try:
        Plain()
        missing = ""
    except TypeError as exc:
        missing = str(exc).split(".")[-1]
    return {
        "repr": [repr(p), repr(f)], "eq": p == q,
        "hash": [Plain.__hash__ is None, hash(f) == hash(Frozen(1))],
        "order": Frozen(1) < Frozen(2), "frozen": frozen, "missing": missing,
        "signature": [str(inspect.signature(Plain)), str(inspect.signature(Frozen))],
        "fields": [[x.name for x in dataclasses.fields(c)] for c in (Plain, Frozen)],
        "fresh_list": Plain("a").tags is not Plain("b").tags,
    }

ours = behaviour(*make(caches.dataclass))
print(json.dumps({"same": ours == behaviour(*make(dataclasses.dataclass)), "ours": ours,
                  "compiled": _dataclass_code._dirty, "left_behind": "exec" in vars(dataclasses),
                  "saved": caches.save_dataclass_code()}))
'''


def _run(cache: str) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            env=child_env({caches.CACHE_ENV: cache}))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _file(tmp_path: Path) -> Path:
    files = list(tmp_path.glob("dataclass-code-*.marshal"))
    assert len(files) == 1
    return files[0]


def test_same_classes_compiled_once_then_read(tmp_path: Path) -> None:
    first = _run(str(tmp_path))
    assert first["same"] and not first["left_behind"]
    assert first["compiled"] and first["saved"]
    assert _file(tmp_path).stat().st_size > 0
    second = _run(str(tmp_path))
    assert second["same"] and second["ours"] == first["ours"]
    assert not second["compiled"] and not second["saved"]  # every method came from the file


@pytest.mark.parametrize("content", [b"", b"\x00garbage", b"[]"])
def test_corrupt_file_compiles_and_rewrites(tmp_path: Path, content: bytes) -> None:
    _run(str(tmp_path))
    target = _file(tmp_path)
    target.write_bytes(content)
    again = _run(str(tmp_path))
    assert again["same"] and again["compiled"] and again["saved"]
    assert _file(tmp_path).read_bytes() != content


def test_no_cache_directory(tmp_path: Path) -> None:
    off = _run("-")
    assert off["same"] and off["compiled"] and not off["saved"]
    assert not list(tmp_path.iterdir())
