"""A service whose routes use every supported param / result type (for the typed tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from kaiju_plugins.rpc import Constraint, InvalidParams, PermissionKeys, PublicInterface, raises
from kaiju_tools import SERVICE_CLASS_REGISTRY, Service


@dataclasses.dataclass
class Point:
    """A point on the plane."""

    x: int
    y: int = 0


class Color(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Tag(TypedDict):
    """A label with an optional weight."""

    name: str
    weight: NotRequired[float]


class Partial(TypedDict, total=False):
    note: str
    when: dt.date


@dataclasses.dataclass
class Tree:
    """A tree of labels (recursive)."""

    label: str
    children: list[Tree] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Everything:
    points: list[Point]
    color: Color
    level: Level
    mode: Literal["fast", "slow"]
    when: dt.datetime
    day: dt.date
    ident: uuid.UUID
    amount: decimal.Decimal
    tags: dict[str, list[int]]
    tag: Tag
    partial: Partial
    maybe: Point | None = None
    pair: tuple[int, str] = (0, "")
    unique: frozenset[str] = frozenset()


class Typed(Service, PublicInterface):
    """Typed routes."""

    @property
    def routes(self) -> dict[str, Any]:
        return {"centroid": self.centroid, "everything": self.everything, "paint": self.paint,
                "shift": self.shift, "tree": self.tree, "bounded": self.bounded, "tags": self.tags,
                "secret": self.secret, "positional": self.positional, "named": self.named}

    @property
    def permissions(self) -> dict[str, int]:
        return {"*": PermissionKeys.GUEST, "secret": PermissionKeys.SYSTEM}

    async def centroid(self, points: list[Point]) -> Point:
        """The centroid of points (integer division).

        Returns the origin for no points.
        """
        assert all(isinstance(p, Point) for p in points)
        n = len(points) or 1
        return Point(sum(p.x for p in points) // n, sum(p.y for p in points) // n)

    def everything(self, value: Everything) -> Everything:
        """Echo a value of every supported type."""
        assert isinstance(value, Everything)
        return value

    def paint(self, color: Color, level: Level = Level.LOW,
              mode: Literal["fast", "slow"] = "fast") -> list[Any]:
        """Echo an enum, an int enum and a literal."""
        assert isinstance(color, Color) and isinstance(level, Level)
        return [color, level, mode]

    @raises(InvalidParams)
    def shift(self, when: dt.datetime, days: int, ident: uuid.UUID | None = None,
              amount: decimal.Decimal = decimal.Decimal(0)) -> dict[str, Any]:
        """Shift a time by days."""
        return {"when": when + dt.timedelta(days=days), "ident": ident, "amount": amount * 2}

    def tree(self, root: Tree) -> int:
        """Count the nodes of a tree."""
        return 1 + sum(self.tree(c) for c in root.children)

    def bounded(self, n: Annotated[int, Constraint(ge=0, le=10)],
                name: Annotated[str, Constraint(min_length=1, max_length=5, pattern="^[a-z]+$")] = "a",
                ) -> int:
        """Constrained values."""
        return n

    def tags(self, by_name: dict[str, list[int]], tag: Tag, extra: Partial | None = None) -> list[Tag]:
        """Nested generics and typed dicts."""
        return [tag, {"name": str(sum(sum(v) for v in by_name.values()))}]

    def secret(self, p: Point) -> Point:
        """Only for the system."""
        return p

    def positional(self, a: Point, /, b: int) -> int:
        """Positional-only first param."""
        return a.x + b

    def named(self, *, p: Point, k: Level = Level.HIGH) -> int:
        """Keyword-only params."""
        return p.x * k


SERVICE_CLASS_REGISTRY.register(Typed)
