"""A TCP proxy in its own process, to cut the network between an app and redis-server.

Run as ``python tcp_proxy.py <target port>``: it listens on a free port of 127.0.0.1,
prints ``ready <port>`` and forwards every connection to ``127.0.0.1:<target port>``.

- pause: ``SIGSTOP`` of the proxy process (as an ops engineer would do it): nothing is
  forwarded, the connections stay open, new connections wait in the kernel's backlog;
  ``SIGCONT`` resumes.
- drop: ``SIGUSR1`` closes every connection and refuses (accepts and closes at once) new
  ones until ``SIGUSR2``.

:class:`Proxy` starts and drives one from a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

__all__ = ["Proxy"]

GUARD = 30.0


class Proxy:
    """One proxy process in front of ``127.0.0.1:<target>`` (stop it with :meth:`stop`)."""

    def __init__(self, target: int) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__)), str(target)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"tcp_proxy did not start: {line!r}")
        self.port = int(line[1])
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pause(self) -> None:
        """Stop forwarding, keep the connections (SIGSTOP)."""
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """Forward again (SIGCONT)."""
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def drop(self) -> None:
        """Close every connection and refuse new ones until :meth:`accept`."""
        self.proc.send_signal(signal.SIGUSR1)

    def accept(self) -> None:
        """Accept and forward new connections again after :meth:`drop`."""
        self.proc.send_signal(signal.SIGUSR2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.communicate(timeout=GUARD)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def _main(target: int) -> None:
    open_writers: set[asyncio.StreamWriter] = set()
    refusing = False

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if refusing:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            writer.close()
            return
        pair = {writer, up_writer}
        open_writers.update(pair)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            open_writers.difference_update(pair)
            for w in pair:
                w.close()

    def drop() -> None:
        nonlocal refusing
        refusing = True
        for w in list(open_writers):
            w.transport.abort()
        open_writers.clear()

    def accept() -> None:
        nonlocal refusing
        refusing = False

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, drop)
    loop.add_signal_handler(signal.SIGUSR2, accept)
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
