"""What splitting code into many small modules costs at start-up, apart from the code itself.

``python bench/module_split.py [--modules 122] [--reps 21]``

Writes a package of ``--modules`` small modules (each a docstring, ``__all__``, two imports of
modules already loaded, a function and a slotted class: the shape of ours) and one module that
holds the same definitions, compiles both to ``.pyc`` (as ``pip install`` does), then times
fresh processes, alternating, that import ``aiohttp.web`` (the base, as both start-up sides
do), then the base plus every small module, then the base plus the one module. The difference
between the last two is the price of the split alone: finding, opening, unmarshalling and
executing one module more, times the count. 122 is how many modules our example app imports
that the raw aiohttp app does not (``python -X importtime``, issue 18).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BODY = '''

_log = logging.getLogger(__name__)


def thing{i}(value: Any) -> Any:
    """Return ``value``."""
    return value


class Thing{i}:
    """A small class."""

    __slots__ = ("a", "b")

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b

    def total(self) -> Any:
        """The sum."""
        return self.a + self.b
'''
HEAD = '"""{doc}\n\nMore text, as a module of ours carries.\n"""\n\nfrom __future__ import annotations\n\n' \
       "import logging\nfrom typing import Any\n"


def write(root: Path, count: int) -> None:
    """The package ``split`` of ``count`` modules, ``split_all`` importing them, and ``whole``."""
    package = root / "split"
    package.mkdir()
    (package / "__init__.py").write_text('"""The split package."""\n')
    for i in range(count):
        text = HEAD.format(doc=f"Module {i}.") + f'\n__all__ = ["Thing{i}", "thing{i}"]\n' + BODY.format(i=i)
        (package / f"m{i:03d}.py").write_text(text)
    (root / "split_all.py").write_text("".join(f"import split.m{i:03d}\n" for i in range(count)))
    (root / "whole.py").write_text(HEAD.format(doc="Every definition in one module.")
                                   + "".join(BODY.format(i=i) for i in range(count)))
    compileall.compile_dir(str(root), quiet=1)


def timed(code: str, root: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", type=int, default=122)
    parser.add_argument("--reps", type=int, default=21)
    args = parser.parse_args()
    base = "import aiohttp.web"
    variants = {"base (aiohttp.web)": base, f"+ {args.modules} small modules": f"{base}; import split_all",
                "+ the same code in one module": f"{base}; import whole"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root, args.modules)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for code in variants.values():  # one uncounted run each: the page cache
            timed(code, root)
        for _ in range(args.reps):
            for name, code in variants.items():
                times[name].append(timed(code, root))
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    print(f"python {sys.version.split()[0]}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{args.reps} reps alternating, medians")
    for name, ms in medians.items():
        print(f"  {name:<34} {ms:7.1f} ms")
    split, whole, base_ms = (medians[f"+ {args.modules} small modules"],
                             medians["+ the same code in one module"], medians["base (aiohttp.web)"])
    per_module = (split - whole) / args.modules * 1000
    print(f"  the split alone: {split - whole:.1f} ms ({per_module:.0f} µs per module); "
          f"the code itself: {whole - base_ms:.1f} ms")


if __name__ == "__main__":
    main()
