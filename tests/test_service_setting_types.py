"""Service settings are checked against the constructor's annotations when the config is loaded.

The rules are the rpc plugin's params rules: exact settings types (``true`` is not an ``int``,
an ``int`` is a ``float``), ``X | None`` accepts null, anything the kernel does not understand
(a ``Service`` subclass given by name, ``timedelta``, an unresolvable annotation) is not checked.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from kaiju_tools import ConfigError, Service
from kaiju_tools.services import ServiceClassRegistry
from kaiju_tools.settings import validate_settings
from kernel_support import EXAMPLES, AppDir, child_env
from suite_support import CHILD_ENV, run

SERVICES = '''
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Optional

from kaiju_tools import ContextableService, Service

if TYPE_CHECKING:
    from somewhere_not_installed import Thing


class Store(Service):
    """A service other services get injected."""


class Poller(ContextableService):
    """Settings of every checked kind, and some that are not checked."""

    def __init__(self, app=None, logger=None, interval: float = 60, count: int = 1, name_: str = "p",
                 tags: list[str] | None = None, limits: dict[str, int] | None = None, debug: bool = False,
                 store: Store | None = None, period: datetime.timedelta | None = None, anything: Any = None,
                 thing: Thing | None = None, untyped=None, maybe: Optional[int] = None):
        super().__init__(app=app, logger=logger)
        self.store = store
        print("built", interval, count, name_, tags, limits, debug, type(store).__name__, period, anything,
              thing, untyped, maybe, flush=True)


class Extra(Service):
    def __init__(self, app=None, logger=None, **weights: float):
        super().__init__(app=app, logger=logger)
'''

GOOD = """
services:
  - cls: Store
    name: main_store
  - cls: Poller
    settings:
      interval: 5
      count: 3
      name_: poller
      tags: [a, b]
      limits: {x: 1}
      debug: true
      store: main_store
      period: 1m
      anything: [1, {a: 2}]
      thing: whatever
      untyped: 1.5
      maybe: null
  - cls: Extra
    settings:
      a: 1
      b: 2.5
"""


COMMANDS = '''
from kaiju_tools import Command


class Built(Command):
    """Build and start the services, then stop."""

    async def run(self, app, args):
        pass
'''


@pytest.fixture
def app(app_dir: AppDir) -> AppDir:
    app_dir.write("tapp/services.py", SERVICES)
    app_dir.write("tapp/commands.py", COMMANDS)
    app_dir.write("settings/env.json", '{"poll_interval": 5}')
    return app_dir


def test_the_issue_a_word_for_a_number_is_a_config_error_with_file_and_line(app: AppDir) -> None:
    app.write("settings/config.yml", "services:\n  - cls: Poller\n    settings:\n      interval: soon\n")
    result = run(app)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert ("services[0].settings.interval (settings/config.yml:4): setting 'interval' of Poller "
            "'Poller': expected float, got str: 'soon'") in result.stderr
    assert "built" not in result.stdout


def test_the_example_app_with_a_bad_interval_from_the_environment() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "config"], cwd=EXAMPLES, capture_output=True,
                            text=True,
                            env=child_env({**CHILD_ENV, "cache_interval": "soon"}), timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "services[4].settings.interval (settings/services.yml:" in result.stderr
    assert "[cache_interval] from environment variable cache_interval" in result.stderr
    assert "expected float, got str: 'soon'" in result.stderr


def test_every_wrong_type_is_reported_in_one_run(app: AppDir) -> None:
    app.write("settings/config.yml", """
        services:
          - cls: Poller
            settings:
              count: true
              tags: a
              limits: [1]
              debug: 'yes'
              maybe: 1.5
          - cls: Extra
            settings:
              a: heavy
    """)
    result = run(app, "config")
    assert result.returncode == 2, result.stderr
    for line, key, expected, got in [
        (4, "count", "int", "bool: True"), (5, "tags", "list | null", "str: 'a'"),
        (6, "limits", "dict | null", "list: [1]"), (7, "debug", "bool", "str: 'yes'"),
        (8, "maybe", "int | null", "float: 1.5"),
    ]:
        assert (f"services[0].settings.{key} (settings/config.yml:{line}): setting {key!r} of Poller "
                f"'Poller': expected {expected}, got {got}") in result.stderr
    assert "services[1].settings.a (settings/config.yml:11): setting 'a' of Extra" in result.stderr
    assert "expected float, got str: 'heavy'" in result.stderr


def test_right_types_injected_services_and_unchecked_annotations_still_work(app: AppDir) -> None:
    app.write("settings/config.yml", GOOD)
    result = run(app, "built")
    assert result.returncode == 0, result.stderr
    assert ("built 5 3 poller ['a', 'b'] {'x': 1} True Store 1m [1, {'a': 2}] whatever 1.5 None"
            in result.stdout)


def test_a_template_resolved_at_load_time_is_checked_with_its_value(app: AppDir) -> None:
    app.write("settings/config.yml",
              "services:\n  - cls: Poller\n    settings:\n      interval: '[poll_interval]'\n")
    assert run(app, "config").returncode == 0
    result = run(app, "config", "-e", "poll_interval='soon'")
    assert result.returncode == 2, result.stderr
    assert "[poll_interval] from -e poll_interval='soon'" in result.stderr


class Tick(Service):
    def __init__(self, app: object = None, logger: object = None, every: int = 1) -> None:
        super().__init__(app=app, logger=logger)


def test_a_template_left_for_later_is_not_checked() -> None:
    registry = ServiceClassRegistry()
    registry.register(Tick)
    raw = {"services": [{"cls": "Tick", "settings": {"every": "[tick_every:5]"}}]}
    assert validate_settings(raw, registry=registry).services[0].settings == {"every": "[tick_every:5]"}
    raw = {"services": [{"cls": "Tick", "settings": {"every": "five"}}]}
    with pytest.raises(ConfigError, match=r"services\[0\]\.settings\.every: setting 'every' of Tick"):
        validate_settings(raw, registry=registry)

