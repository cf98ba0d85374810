"""An unknown service class that an installed plugin provides: the error says which plugin and why
it is not active (not listed in ``packages:``, or disabled by ``KAIJU_DISABLE_PLUGINS``)."""

from __future__ import annotations

import importlib.util

import pytest
from kernel_support import AppDir
from suite_support import run


def fails(app: AppDir, config: str, env: dict[str, str] | None = None) -> str:
    app.write("settings/config.yml", config)
    app.write("settings/env.json", "{}")
    result = run(app, "config", env=env)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.skipif(importlib.util.find_spec("kaiju_plugins.redis") is None,
                    reason="kaiju-plugin-redis not installed")
def test_a_class_of_the_opt_in_redis_plugin_says_how_to_activate_it(app_dir: AppDir) -> None:
    err = fails(app_dir, "services:\n  - cls: RedisService\n")
    assert "services[0].cls (settings/config.yml:2): unknown service class 'RedisService'" in err
    assert ("hint: the first-party, opt-in plugin 'redis' (distribution kaiju-plugin-redis 0.1.0) "
            "provides it, "
            "and is installed but not active: add `redis` to `packages:`") in err
    assert "LoggingService" not in err  # no misleading did-you-mean


def test_a_class_of_a_disabled_plugin_says_what_disabled_it(app_dir: AppDir) -> None:
    err = fails(app_dir, "services:\n  - cls: Scheduler\n", env={"KAIJU_DISABLE_PLUGINS": "scheduler"})
    assert "unknown service class 'Scheduler'" in err
    assert ("hint: the first-party plugin 'scheduler' (distribution kaiju-plugin-scheduler 0.1.0) "
            "provides it, "
            "and is disabled by the environment variable KAIJU_DISABLE_PLUGINS=scheduler; remove 'scheduler' "
            "from it") in err
    assert "register the class" not in err


def test_a_class_no_plugin_provides_keeps_the_generic_hint(app_dir: AppDir) -> None:
    err = fails(app_dir, "services:\n  - cls: Nowhere\n")
    assert "unknown service class 'Nowhere'" in err
    assert "register the class with SERVICE_CLASS_REGISTRY.register()" in err


@pytest.mark.skipif(importlib.util.find_spec("kaiju_plugins.metrics") is None,
                    reason="kaiju-plugin-metrics not installed")
def test_the_plugins_command_lists_the_routes_a_plugin_adds(app_dir: AppDir) -> None:
    app_dir.write("settings/config.yml", "packages: [metrics]\netc:\n  metrics:\n    path: /scrape\n")
    app_dir.write("settings/env.json", "{}")
    result = run(app_dir, "plugins")
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("metrics  [active]")[1].split("\n\n")[0]
    assert "registered: route GET /scrape" in block.splitlines()[3]
    assert "Traceback" not in result.stderr


def test_the_plugins_command_still_lists_plugins_when_the_app_cannot_be_built(app_dir: AppDir) -> None:
    app_dir.write("settings/config.yml", "services:\n  - cls: Scheduler\n    settings:\n      nope: 1\n")
    app_dir.write("settings/env.json", "{}")
    result = run(app_dir, "plugins")
    assert "scheduler  [active]" in result.stdout
    assert "Traceback" not in result.stderr
