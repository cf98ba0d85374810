"""``python -m kaiju_tools`` / ``kaiju``: the kernel's own commands, without an app.

``kaiju`` alone prints its help: ``new-app``, ``new-plugin``, ``version``, ``plugins``
(installed plugins) and ``config`` (``kaiju config -c settings/config.yml`` shows a merged
configuration). An app's commands run with ``python -m <app>``.
"""

from __future__ import annotations

import sys

from aiohttp import web

from ._server import main as _main

__all__ = ["main"]


def _no_app(settings: object) -> web.Application:
    raise SystemExit("kaiju: this command needs an application; run it as `python -m <your app>`")


def main() -> None:
    """Entry point of the ``kaiju`` script."""
    sys.exit(_main(_no_app, standalone=True))


if __name__ == "__main__":
    main()
