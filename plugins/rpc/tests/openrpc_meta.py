"""The official OpenRPC meta-schema (npm package ``@open-rpc/meta-schema``), fetched once into a cache.

``npm pack`` downloads the package tarball (and the JSON Schema meta-schema it refers to,
``@json-schema-tools/meta-schema``, served at ``https://meta.json-schema.tools``); ``node``
prints the schema its ``index.js`` exports as JSON; the result is cached in
``$XDG_CACHE_HOME/kaiju-tests`` (``~/.cache``). When
npm, node or the registry is unavailable the tests that need it skip -- and fail under
``CI=true``, where a skipped validation would read as a pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest

PACKAGE = "@open-rpc/meta-schema"


PACKAGES = {"openrpc": ("@open-rpc/meta-schema", "openrpcDocument"),
            "jsonschema": ("@json-schema-tools/meta-schema", "jsonSchema")}  # the first refers to the second


def _cache(name: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kaiju-tests" / f"{name}-meta-schema.json"


def _unavailable(why: str) -> Any:
    message = (f"the OpenRPC meta-schema (npm packages {PACKAGE} and its JSON Schema one) "
               f"is unavailable: {why}")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI: install node/npm and allow the npm registry)", pytrace=False)
    pytest.skip(message)


def _fetch(name: str) -> dict[str, Any]:
    cached = _cache(name)
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    package, export = PACKAGES[name]
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return _unavailable("npm / node not found on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            packed = subprocess.run([npm, "pack", package, "--silent"], cwd=tmp, capture_output=True,
                                    text=True, timeout=180, check=False)
        except subprocess.TimeoutExpired:
            return _unavailable(f"npm pack {package} took more than 180 s")
        if packed.returncode != 0:
            return _unavailable(f"npm pack {package} failed: {packed.stderr.strip()[-500:]}")
        tarball = Path(tmp) / packed.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        index = Path(tmp) / "package" / "index.js"
        script = f"const m = require(process.argv[1]); process.stdout.write(JSON.stringify(m.{export}))"
        dumped = subprocess.run([node, "-e", script, str(index)], check=False,
                                capture_output=True, text=True, timeout=60)
        if dumped.returncode != 0:
            return _unavailable(f"node could not read {package}/index.js: {dumped.stderr.strip()[-500:]}")
        schema = json.loads(dumped.stdout)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(schema), encoding="utf-8")
    return schema


def meta_schema() -> dict[str, Any]:
    """The OpenRPC meta-schema as a dict (downloaded on first use)."""
    return _fetch("openrpc")


def _validator() -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    json_schema = Resource.from_contents(_fetch("jsonschema"), default_specification=DRAFT7)
    registry = Registry().with_resources([("https://meta.json-schema.tools", json_schema),
                                          ("https://meta.json-schema.tools/", json_schema)])
    return jsonschema.Draft7Validator(meta_schema(), registry=registry,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def validate(document: dict[str, Any]) -> None:
    """Validate an OpenRPC document against the meta-schema (draft 7), all errors reported."""
    import jsonschema

    validator = _validator()
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
                                 for e in errors[:10])
    for method in document["methods"]:  # and every schema in it is a valid draft 7 schema
        for item in [*method["params"], method["result"]]:
            jsonschema.Draft7Validator.check_schema(item["schema"])
