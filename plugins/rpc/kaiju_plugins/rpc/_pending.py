"""What :meth:`~._calls.CallEngine.answer` returns for an answer not known yet: a :class:`Pending`.

A single call not answered in its first step is a :class:`Call` (:class:`Running`,
:class:`Detached` or :class:`Queued`); a batch with such calls is a :class:`PendingBatch`.
``_requests`` completes each kind (a deadline timer, a slot of the concurrency bound, a task per
call of a batch). ``__slots__`` classes: one is made per suspended call.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Call", "Detached", "Pending", "PendingBatch", "Queued", "Running"]


class Pending:
    """An answer not known yet: the engine's :meth:`~._requests.RequestEngine.complete` gives it."""

    __slots__ = ()


class Call(Pending):
    """One call not answered in its first step (its request's ``id``, whether it is a notification)."""

    __slots__ = ("coro", "id", "method", "notify")

    def __init__(self, coro: Any, id_: Any, notify: bool, method: Any) -> None:
        self.coro, self.id, self.notify, self.method = coro, id_, notify, method


class Running(Call):
    """Started and suspended on ``yielded``, holding a slot of the concurrency bound; ``coro``
    (the method's coroutine, or an ``_eager.drive`` generator around it) returns the result."""

    __slots__ = ("yielded",)

    def __init__(self, coro: Any, yielded: Any, id_: Any, notify: bool, method: Any) -> None:
        self.coro, self.yielded, self.id, self.notify, self.method = coro, yielded, id_, notify, method


class Detached(Running):
    """A :meth:`CallEngine._run` generator detached on the call it suspended in (``yielded``),
    holding a slot; it returns that call's whole response (``None`` for a notification)."""

    __slots__ = ()


class Queued(Call):
    """The method's coroutine, not started: it waits for a slot (``started`` once it has one)."""

    __slots__ = ("started",)

    def __init__(self, coro: Any, id_: Any, notify: bool, method: Any) -> None:
        self.coro, self.id, self.notify, self.method, self.started = coro, id_, notify, method, False


class PendingBatch(Pending):
    """A batch with calls not answered yet: ``out`` holds per item its answer, ``None`` or a :class:`Call`."""

    __slots__ = ("out",)

    def __init__(self, out: list[Any]) -> None:
        self.out = out
