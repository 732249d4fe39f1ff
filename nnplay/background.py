"""The daemon threads that may be inside torch when the process exits, and the wait for them.

Python 3.11 ends a daemon thread that still runs at exit with pthread_exit. One inside a torch
call then unwinds through C++ that must not be unwound, and the whole process aborts after its
work is done ("terminate called without an active exception", exit status 134): a test session
whose tests all passed fails, and a server that was stopped looks as if it crashed. So such
threads start here, and at exit the registered stoppers run first (a run manager stops its runs)
and then every thread still alive gets a bounded wait.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable

EXIT_SECONDS = 30.0  # the longest the process waits at exit for all of them together

_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_stoppers: list[Callable[[], None]] = []


def thread(target: Callable[..., object], *args: object, name: str) -> threading.Thread:
    """A daemon thread (not started) that the process waits for at exit."""
    made = threading.Thread(target=target, args=args, name=name, daemon=True)
    _threads.add(made)
    return made


def start(target: Callable[..., object], *args: object, name: str) -> threading.Thread:
    """thread(), started."""
    made = thread(target, *args, name=name)
    made.start()
    return made


def on_exit(stop: Callable[[], None]) -> None:
    """Call stop at exit, before the wait: it asks the threads it knows of to end."""
    _stoppers.append(stop)


@atexit.register
def finish(seconds: float = EXIT_SECONDS) -> None:
    """Ask the threads to end, then wait for each until seconds have passed in all."""
    for stop in list(_stoppers):
        try:
            stop()
        except Exception:  # noqa: BLE001 - one failing stopper must not keep the others from theirs
            logging.getLogger("nnplay").exception("a background thread could not be stopped")
    deadline = time.monotonic() + seconds
    for alive in [t for t in list(_threads) if t.is_alive()]:
        if alive is not threading.current_thread():
            alive.join(max(0.0, deadline - time.monotonic()))
