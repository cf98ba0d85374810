"""The per-app runtime (#19.4): layered class registries, ``get_runtime(app)``, and services
built by one ordinary ``cls(app=..., logger=..., **settings)`` call."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kaiju_tools import (
    COMMANDS,
    SERVICE_CLASS_REGISTRY,
    Command,
    ConfigError,
    KaijuError,
    Runtime,
    Service,
    ServiceStartError,
    get_runtime,
    get_services,
    get_settings,
    hookimpl,
    init_app,
)
from kaiju_tools._runtime import settings_from_mapping
from kaiju_tools.commands import CommandRegistry
from kaiju_tools.plugins import DISABLE_ENV, Plugins
from kaiju_tools.registry import close_matches
from kaiju_tools.services import ServiceClassRegistry
from kernel_support import child_env

NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


def classes(names: set[str], module: str) -> dict[str, type[Service]]:
    return {n: type(n, (Service,), {"__module__": module}) for n in names}


# ---- the layered registry ---------------------------------------------------------------------


@given(st.sets(NAMES, max_size=6), st.sets(NAMES, max_size=6), NAMES)
def test_a_layer_resolves_its_own_names_then_the_default(in_default: set[str], in_layer: set[str],
                                                          probe: str) -> None:
    default = ServiceClassRegistry()
    layer = ServiceClassRegistry(default=default)
    sibling = ServiceClassRegistry(default=default)
    layer_classes = classes(in_layer, "layer")
    default_classes = classes(in_default, "default")
    for cls in layer_classes.values():
        layer.register(cls)
    for cls in default_classes.values():  # after the layer's: the default does not know its layers
        default.register(cls)
    everything = in_default | in_layer
    for name in everything:
        expected = layer_classes.get(name) or default_classes[name]
        assert layer[name] is expected and layer.get(name) is expected and name in layer
    for name in in_default:
        assert default[name] is default_classes[name]  # a layer never writes to its default
        assert sibling[name] is default_classes[name]
    for name in in_layer - in_default:
        assert name not in default and name not in sibling  # nor to another layer
    assert sorted(layer.names()) == sorted(everything) == sorted(layer)
    assert len(layer) == len(everything)
    assert layer.own_names() == list(layer_classes)
    if probe not in everything:
        assert layer.get(probe) is None
        with pytest.raises(LookupError) as exc:
            layer[probe]
        hint = close_matches(probe, everything) or f"registered: {', '.join(sorted(everything)) or 'none'}"
        assert str(exc.value) == f"unknown service class {probe!r}; {hint}"


def test_a_name_the_default_holds_for_another_class_is_refused_in_a_layer() -> None:
    default = CommandRegistry()
    layer = CommandRegistry(default=default)
    first = type("Clash", (Command,), {"__module__": "app.commands", "name": "clash"})
    default.register(first)
    layer.register(first)  # the same class: a no-op
    other = type("Clash", (Command,), {"__module__": "plugin.commands", "name": "clash"})
    with pytest.raises(KaijuError, match=r"command name 'clash' is taken: app\.commands\.Clash is registered "
                                         r"already and plugin\.commands\.Clash has the same name"):
        layer.register(other)
    assert repr(layer) == "<CommandRegistry of commands: 1 over 1 default>"


# ---- per-app plugin sets ----------------------------------------------------------------------


class OnlyInA(Service):
    """Registered by app A's in-code plugin only."""


class OnlyInB(Service):
    """Registered by app B's in-code plugin only."""


class CommandOfA(Command):
    """A command of app A's plugin."""

    name = "only-a"


class PluginA:
    @hookimpl
    def kaiju_register_services(self) -> list[type]:
        return [OnlyInA]

    @hookimpl
    def kaiju_register_commands(self) -> list[type]:
        return [CommandOfA]


class PluginB:
    @hookimpl
    def kaiju_register_services(self) -> list[type]:
        return [OnlyInB]


def plugins_with(plugin: object) -> Plugins:
    plugins = Plugins(environ={DISABLE_ENV: "rpc,scheduler,logging"})
    plugins.load_first_party()
    plugins.register(plugin, name="own")
    return plugins


def test_two_apps_in_one_process_do_not_see_each_others_plugin_classes() -> None:
    app_a = init_app(settings_from_mapping({"main": {"name": "a"}, "services": ["OnlyInA"]},
                                           plugins_with(PluginA())))
    app_b = init_app(settings_from_mapping({"main": {"name": "b"}, "services": ["OnlyInB"]},
                                           plugins_with(PluginB())))
    assert isinstance(get_services(app_a).get("OnlyInA"), OnlyInA)
    assert isinstance(get_services(app_b).get("OnlyInB"), OnlyInB)
    runtime_a, runtime_b = get_runtime(app_a), get_runtime(app_b)
    assert runtime_a.service_classes.get("OnlyInB") is None
    assert runtime_b.service_classes.get("OnlyInA") is None
    assert "OnlyInA" not in SERVICE_CLASS_REGISTRY and "OnlyInB" not in SERVICE_CLASS_REGISTRY
    assert runtime_a.commands["only-a"] is CommandOfA
    assert "only-a" not in runtime_b.commands and "only-a" not in COMMANDS
    with pytest.raises(ConfigError, match=r"services\[0\].cls: unknown service class 'OnlyInA'"):
        settings_from_mapping({"services": ["OnlyInA"]}, plugins_with(PluginB()))


def test_the_guides_global_registrations_reach_every_app() -> None:
    class GuideRegistered(Service):
        pass

    class GuideCommand(Command):
        name = "guide-registered"

    SERVICE_CLASS_REGISTRY.register(GuideRegistered)
    COMMANDS.register(GuideCommand)
    for plugin in (PluginA(), PluginB()):
        app = init_app(settings_from_mapping({"services": ["GuideRegistered"]}, plugins_with(plugin)))
        assert isinstance(get_services(app).get("GuideRegistered"), GuideRegistered)
        assert get_runtime(app).commands["guide-registered"] is GuideCommand
        assert get_runtime(app).commands["run"].command_name() == "run"  # the built-ins, by default


def test_the_runtime_is_reachable_from_the_app() -> None:
    plugins = plugins_with(PluginA())
    app = init_app(settings_from_mapping({"main": {"name": "reach"}}, plugins))
    runtime = get_runtime(app)
    assert isinstance(runtime, Runtime)
    assert runtime.plugins is plugins and runtime.pm is plugins.pm
    assert runtime.settings is get_settings(app) and get_settings(app).runtime is runtime
    assert runtime.service_classes is plugins.service_classes
    assert runtime.service_classes.default is SERVICE_CLASS_REGISTRY
    assert runtime.commands.default is COMMANDS


PACKAGE_A = '''
from kaiju_tools import Service

class PackagedA(Service):
    service_name = "packaged_a"
'''

PACKAGE_B = '''
from kaiju_tools import Service

class PackagedB(Service):
    pass
'''

SCRIPT = '''
import json, sys
from kaiju_tools import ConfigError, SERVICE_CLASS_REGISTRY, get_runtime, get_services, init_app

out = {}
apps = {}
for name, packages, services in (("one", ["pkg_a", "kaiju-plugin-redis"], ["PackagedA", "RedisCache"]),
                                 ("two", ["pkg_b"], ["PackagedB"])):
    app = init_app({"main": {"name": name}, "packages": packages,
                    "services": [{"cls": c, "enabled": c != "RedisCache"} for c in services]})
    apps[name] = app
    out[name] = sorted(s.service_name for s in get_services(app))
for name, app in apps.items():
    classes = get_runtime(app).service_classes
    out[name + "_sees"] = [c for c in ("PackagedA", "PackagedB", "RedisCache") if c in classes]
out["global"] = [c for c in ("PackagedA", "PackagedB", "RedisCache") if c in SERVICE_CLASS_REGISTRY]
for cls in ("PackagedA", "RedisCache"):
    try:
        init_app({"packages": ["pkg_b"], "services": [cls]})
    except ConfigError as exc:
        out["error_" + cls] = str(exc)
print(json.dumps(out))
'''


def test_two_apps_with_different_packages_in_one_process(tmp_path: Path) -> None:
    """Real modules on disk and the real entry point of the opt-in redis plugin, in a child process."""
    (tmp_path / "pkg_a").mkdir()
    (tmp_path / "pkg_a" / "__init__.py").write_text(textwrap.dedent(PACKAGE_A))
    (tmp_path / "pkg_b").mkdir()
    (tmp_path / "pkg_b" / "__init__.py").write_text(textwrap.dedent(PACKAGE_B))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                            env=child_env({"PYTHONPATH": str(tmp_path)}), timeout=120)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    assert out["one"] == ["packaged_a"] and out["two"] == ["PackagedB"]
    assert out["one_sees"] == ["PackagedA", "RedisCache"]
    assert out["two_sees"] == ["PackagedB"]
    assert out["global"] == []
    assert "unknown service class 'PackagedA'" in out["error_PackagedA"]
    assert "unknown service class 'RedisCache'" in out["error_RedisCache"]
    assert "add `redis` to `packages:`" in out["error_RedisCache"]  # the inactive plugin is named


# ---- single-phase construction ----------------------------------------------------------------


class Counted(Service):
    """Counts its constructions and remembers its name as ``__init__`` saw it first."""

    made: ClassVar[list[str]] = []

    def __init__(self, app: Any = None, logger: Any = None, size: int = 1) -> None:
        self.seen = self.service_name
        self.made.append(self.service_name)
        super().__init__(app=app, logger=logger)
        self.size = size


class NoOwnInit(Service):
    pass


class OwnNew(Service):
    """A ``__new__`` of its own that does not call ``Service.__new__``."""

    def __new__(cls, *args: Any, **kwargs: Any) -> OwnNew:
        return object.__new__(cls)


class Broken(Service):
    def __init__(self, app: Any = None, logger: Any = None) -> None:
        super().__init__(app=app, logger=logger)
        raise RuntimeError("no connection")


def test_services_are_built_by_one_ordinary_call_named_before_init() -> None:
    for cls in (Counted, NoOwnInit, OwnNew, Broken):
        if cls.__name__ not in SERVICE_CLASS_REGISTRY:
            SERVICE_CLASS_REGISTRY.register(cls)
    Counted.made.clear()
    app = init_app({"services": [{"cls": "Counted", "name": "first", "settings": {"size": 3}},
                                 {"cls": "Counted"}, "NoOwnInit", {"cls": "OwnNew", "name": "own_new"}]})
    services = get_services(app)
    first, second = services.get("first"), services.get("Counted")
    assert isinstance(first, Counted) and isinstance(second, Counted)
    assert Counted.made == ["first", "Counted"]  # each __init__ ran once, its name already set
    assert (first.seen, first.size, first.state.value) == ("first", 3, "created")
    assert services.get("NoOwnInit").service_name == "NoOwnInit"  # type: ignore[union-attr]
    own_new = services.get("own_new")
    assert own_new is not None and (own_new.service_name, own_new.state.value) == ("own_new", "created")
    by_hand = Counted(size=2)  # outside an app: the class's name, the container is not asked
    assert (by_hand.seen, by_hand.app, by_hand.state.value) == ("Counted", None, "created")


def test_the_signature_of_a_service_class_is_its_init() -> None:
    assert list(inspect.signature(NoOwnInit).parameters) == ["app", "logger"]
    assert list(inspect.signature(Counted).parameters) == ["app", "logger", "size"]
    with pytest.raises(ConfigError, match="unknown setting 'bogus' for service class NoOwnInit"):
        init_app({"services": [{"cls": "NoOwnInit", "settings": {"bogus": 1}}]})


def test_a_constructor_that_raises_is_a_start_error_naming_the_service() -> None:
    with pytest.raises(ServiceStartError, match="broken_one") as exc:
        init_app({"services": [{"cls": "Broken", "name": "broken_one"}]})
    assert "no connection" in str(exc.value)
    app = init_app({"services": [{"cls": "Broken", "required": False}]})
    assert "Broken" in get_services(app).failed and get_services(app).get("Broken") is None
