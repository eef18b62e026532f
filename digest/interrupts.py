"""SIGTERM handled like Ctrl-C: the work unwinds, cleans up, and stops.

A daily briefing runs under cron, systemd or a container runtime, which stop
it with SIGTERM.  Its default action kills the process on the spot: no
`finally`, no `atexit` (the offline engine's temporary voice folder stayed
behind), half-staged files.  `Terminated` is a KeyboardInterrupt, so every
path that already cleans up after Ctrl-C does the same after SIGTERM; the CLI
tells the two apart for the message and the exit code (143 = 128 + 15).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM)."""


def interruption_for(number: int) -> KeyboardInterrupt:
    """The exception that stands for signal `number`."""
    return Terminated() if number == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises `Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(number: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def ignore_further_interrupts() -> None:
    """After the first interrupt, a second Ctrl-C (or SIGTERM) must not break the cleanup."""
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, signal.SIG_IGN)
