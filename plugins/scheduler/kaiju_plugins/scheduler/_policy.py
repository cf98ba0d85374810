"""What happens to a run that falls due while the previous run of its task is still going."""

from __future__ import annotations

import enum

__all__ = ["ExecPolicy"]


class ExecPolicy(str, enum.Enum):
    """Policy of a task for a run that is due while its previous run is still going.

    Every such due run is counted as a misfire, whatever the policy.

    - ``WAIT`` (the default): the due run waits; it starts as soon as the running one
      ends. Several due runs missed meanwhile are coalesced into that one run.
    - ``CANCEL``: the running run is cancelled (counted in ``cancelled``) and a new run
      starts as soon as it has ended.
    - ``SKIP``: the due run is dropped; the next run is the next due time on the grid.

    The schedule itself never moves: due times stay ``start + k * interval``.
    """

    WAIT = "WAIT"
    CANCEL = "CANCEL"
    SKIP = "SKIP"

    def __str__(self) -> str:
        return self.value
