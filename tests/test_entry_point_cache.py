"""The cached entry-point scan: same result as a live scan, invalidated by installs, safe on errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kaiju_tools import _entry_points as eps
from kaiju_tools import caches
from kaiju_tools.plugins import ENTRY_POINT_GROUP
from kernel_support import REPO, child_env
from scaffold_support import make_venv
from suite_support import fake_dist

SAMPLE = REPO / "tests" / "sample_plugin"
SCAN = ("import json, sys; from kaiju_tools._entry_points import entry_points; "
        "print(json.dumps([r.as_list() for r in entry_points('kaiju.plugins')])); "
        "print(json.dumps('importlib_metadata' in sys.modules))")


def _rows(records: list[eps.EntryPointRecord]) -> list[list[str]]:
    return [r.as_list() for r in records]


def test_cached_equals_live(tmp_path: Path) -> None:
    env = {caches.CACHE_ENV: str(tmp_path)}
    live = _rows(eps.live_scan(ENTRY_POINT_GROUP))
    assert _rows(eps.entry_points(ENTRY_POINT_GROUP, env)) == live  # miss: written
    target = eps.cache_file(ENTRY_POINT_GROUP, environ=env)
    assert target is not None and target.exists()
    assert _rows(eps.entry_points(ENTRY_POINT_GROUP, env)) == live  # hit
    assert {"config_yaml", "rpc"} <= {row[0] for row in live}


def test_hit_reads_the_file_not_the_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {caches.CACHE_ENV: str(tmp_path)}
    eps.entry_points(ENTRY_POINT_GROUP, env)
    target = eps.cache_file(ENTRY_POINT_GROUP, environ=env)
    assert target is not None
    data = json.loads(target.read_text())
    data["entry_points"].append(["marker", "json", "x", "1"])
    target.write_text(json.dumps(data))
    assert eps.entry_points(ENTRY_POINT_GROUP, env)[-1].name == "marker"
    monkeypatch.setattr(eps, "fingerprint", lambda path=None: ["changed"])
    assert "marker" not in {r.name for r in eps.entry_points(ENTRY_POINT_GROUP, env)}  # mismatch: live


@pytest.mark.parametrize("content", ["", "{", "[]", '{"format": 1}', "\x00\x01"])
def test_corrupt_cache_falls_back(tmp_path: Path, content: str) -> None:
    env = {caches.CACHE_ENV: str(tmp_path)}
    target = eps.cache_file(ENTRY_POINT_GROUP, environ=env)
    assert target is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    assert _rows(eps.entry_points(ENTRY_POINT_GROUP, env)) == _rows(eps.live_scan(ENTRY_POINT_GROUP))


def test_unwritable_or_off(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    live = _rows(eps.live_scan(ENTRY_POINT_GROUP))
    assert _rows(eps.entry_points(ENTRY_POINT_GROUP, {caches.CACHE_ENV: str(blocker / "sub")})) == live
    assert caches.cache_dir({caches.CACHE_ENV: "-"}) is None
    assert _rows(eps.entry_points(ENTRY_POINT_GROUP, {caches.CACHE_ENV: "-"})) == live
    assert caches.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "kaiju"


def test_load_resolves_attributes() -> None:
    assert eps.EntryPointRecord("x", "os.path", "d", "1").load().__name__ == "posixpath"
    assert eps.EntryPointRecord("x", "os:path.join", "d", "1").load() is __import__("os").path.join


def _scan(python: str, cache: Path, extra: dict[str, str] | None = None) -> tuple[list[list[str]], bool]:
    result = subprocess.run([python, "-c", SCAN], capture_output=True, text=True, check=True,
                            env=child_env({caches.CACHE_ENV: str(cache), **(extra or {})}))
    rows, imported = result.stdout.splitlines()
    return json.loads(rows), json.loads(imported)


def test_new_dist_on_path_invalidates(tmp_path: Path) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    env = {"PYTHONPATH": str(site)}
    first, imported = _scan(sys.executable, cache, env)
    assert imported  # a miss: live scan
    again, imported = _scan(sys.executable, cache, env)
    assert again == first and not imported  # a hit: importlib_metadata is not even imported
    fake_dist(site, "kaiju-extra", "1.0", {"extra": "extra_mod"}, {"extra_mod": ""})
    after, imported = _scan(sys.executable, cache, env)
    assert imported and ["extra", "extra_mod", "kaiju-extra", "1.0"] in after
    fake_dist(site, "kaiju-extra", "1.0", {"extra": "extra_mod", "more": "extra_mod"}, {})
    changed, _ = _scan(sys.executable, cache, env)
    assert ["more", "extra_mod", "kaiju-extra", "1.0"] in changed


def test_pip_install_invalidates(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    python = str(make_venv(tmp_path / "venv") / "python")
    before, _ = _scan(python, cache)
    assert _scan(python, cache) == (before, False)  # cached
    assert "sample" not in {row[0] for row in before}
    result = subprocess.run([python, "-m", "pip", "install", "--no-deps", "-q", str(SAMPLE)],
                            capture_output=True, text=True, env=child_env())
    assert result.returncode == 0, result.stdout + result.stderr
    after, imported = _scan(python, cache)
    assert imported and "sample" in {row[0] for row in after}
    assert _scan(python, cache) == (after, False)
    result = subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", "kaiju-sample-plugin"],
                            capture_output=True, text=True, env=child_env())
    if result.returncode == 0:
        assert "sample" not in {row[0] for row in _scan(python, cache)[0]}


def test_a_cache_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    assert caches.write_atomic(target, b"one") and target.read_bytes() == b"one"
    assert caches.write_atomic(target, b"two") and target.read_bytes() == b"two"
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    assert not caches.write_atomic(blocker / "file.bin", b"x")  # no error: no cache
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["file.bin"]  # no temporary left
