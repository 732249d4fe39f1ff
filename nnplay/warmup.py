"""A server's first use of torch done once in the background, so that the first Train does not
pay for it: the first optimiser's construction and the first steps (seconds on a cold server)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from nnplay import background

_lock = threading.Lock()
_done = threading.Event()
_thread: threading.Thread | None = None


def start(task: Callable[[], object]) -> None:
    """Run task in a daemon thread, once per process (later calls do nothing); returns at once."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = background.start(_warm, task, name="nnplay-warmup")


def ready() -> bool:
    """True once the warm-up has run."""
    return _done.is_set()


def wait(timeout: float) -> bool:
    """Wait for a warm-up under way (at most timeout seconds); True when none is under way."""
    with _lock:
        started = _thread is not None
    return _done.wait(timeout) if started else True


def _warm(task: Callable[[], object]) -> None:
    try:
        task()
    except Exception:  # noqa: BLE001 - the first run then does the same work and says what fails
        logging.getLogger("nnplay").exception("the warm-up failed")
    finally:
        _done.set()
