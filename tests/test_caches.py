"""``kaiju_tools.caches``: atomic writes and a bound on how many files a cache keeps."""

from __future__ import annotations

import os
from pathlib import Path

from kaiju_tools.caches import prune, write_atomic


def test_write_atomic_keeps_the_newest_files_of_its_family(tmp_path: Path) -> None:
    for i in range(6):
        assert write_atomic(tmp_path / f"scan-{i}.json", b"{}", keep=4, family="scan-*.json")
        os.utime(tmp_path / f"scan-{i}.json", (1000 + i, 1000 + i))  # distinct ages
    (tmp_path / "other.txt").write_text("not of the family")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "other.txt", "scan-2.json", "scan-3.json", "scan-4.json", "scan-5.json"]


def test_prune_deletes_only_beyond_the_limit_and_never_raises(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"a{i}.bin").write_bytes(b"x")
        os.utime(tmp_path / f"a{i}.bin", (2000 + i, 2000 + i))
    assert prune(tmp_path, "a*.bin", 5) == 0
    assert prune(tmp_path, "a*.bin", 1) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["a2.bin"]
    assert prune(tmp_path / "missing", "*", 0) == 0


def test_an_unwritable_target_is_no_cache_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    assert write_atomic(blocker / "x" / "cache.bin", b"data", keep=1) is False
