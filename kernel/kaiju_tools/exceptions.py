"""Every error the kernel raises, in one hierarchy.

Each message is written for a person: it names the object, what was expected, what was
found, where (``file:line`` or a dotted config key) and the likely fix.

::

    KaijuError
    ├── ConfigError            settings could not be loaded or are invalid (holds every problem)
    ├── PluginError            a plugin could not be found, imported or registered
    ├── ServiceError
    │   ├── ServiceNotFound    ``discover_service`` found nothing that matches
    │   ├── DependencyCycle    services depend on each other in a circle
    │   └── ServiceStartError  a required service failed (or timed out) in ``init()``
    └── CommandError           a CLI command was used wrongly or failed
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .caches import dataclass

__all__ = [
    "CommandError",
    "ConfigError",
    "ConfigProblem",
    "DependencyCycle",
    "KaijuError",
    "PluginError",
    "ServiceError",
    "ServiceNotFound",
    "ServiceStartError",
]


class KaijuError(Exception):
    """Base class of every error raised by kaiju-kernel and its first-party plugins."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in the settings.

    :param where: dotted config key or ``file:line`` (or both) the problem is about
    :param message: what was expected and what was found
    :param hint: how to fix it (may be empty)
    """

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ConfigError(KaijuError):
    """The settings could not be loaded or are invalid.

    All problems found in one pass are collected in :attr:`problems` and reported together.
    """

    def __init__(self, problems: ConfigProblem | str | Iterable[ConfigProblem | str]) -> None:
        if isinstance(problems, (ConfigProblem, str)):
            problems = [problems]
        self.problems: list[ConfigProblem] = [
            p if isinstance(p, ConfigProblem) else ConfigProblem("", p) for p in problems
        ]
        count = len(self.problems)
        head = "invalid configuration" if count == 1 else f"invalid configuration ({count} problems)"
        body = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}:\n{body}")


class PluginError(KaijuError):
    """A plugin could not be found, imported or registered."""


class ServiceError(KaijuError):
    """Base class of service errors."""


class ServiceNotFound(ServiceError, LookupError):
    """``discover_service`` found no service that matches the request."""


class DependencyCycle(ServiceError):
    """Services depend on each other in a circle; :attr:`cycle` lists the names in order."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        path = " -> ".join(self.cycle)
        super().__init__(
            f"service dependency cycle: {path}. A service cannot start before the services it "
            "depends on; remove one of these dependencies (for example discover it in init() "
            "with required=False instead of annotating a constructor parameter)"
        )


class ServiceStartError(ServiceError):
    """A required service failed or timed out while starting."""

    def __init__(self, service: str, cause: BaseException | str) -> None:
        self.service = service
        self.cause = cause
        reason = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"service {service!r} failed to start: {reason}")


class CommandError(KaijuError):
    """A CLI command was used wrongly or failed."""
