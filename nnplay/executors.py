"""Where a run's training executes: a thread of the server (ThreadExecutor) or a worker process
of its own (ProcessExecutor), behind one small interface the RunManager calls.

A process run trains with the same code as a thread run (train.prepare and train.fit), so its
losses are the run's alone, bit for bit; only its events travel, as plain data over a pipe, to a
supervisor thread in the server that hands them to the Run (runs.Run.receive). Another executor
(a cluster's) would be one more class with launch() and close().
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing import context, forkserver, popen_forkserver, spawn, util
from multiprocessing.connection import Connection
from typing import Protocol

import torch

from nnplay import background

log = logging.getLogger("nnplay")

# What the worker's process has imported before it is forked, so that a run starts in tens of
# milliseconds instead of importing torch (and torch._dynamo, which the first optimiser imports)
PRELOAD = ["torch", "torch._dynamo", "nnplay.runs"]
JOIN_SECONDS = 10.0  # how long a worker that said its last word may take to exit
CLOSE_SECONDS = 5.0  # how long close() waits for a stopped worker before it kills it

Done = Callable[[object], None]


class Remote(Protocol):
    """What a run offers to be trained elsewhere (runs.Run)."""

    id: str

    def remote(self, threads: int | None, forward: Callable[[tuple], None]
               ) -> tuple[Callable, dict]: ...

    def receive(self, message: tuple) -> bool: ...

    def remote_ended(self, exitcode: int | None, on_done: Done | None,
                     note: str = "") -> None: ...


class Executor(Protocol):
    """Trains runs somewhere; the run's own methods record what happens."""

    def launch(self, run, device: torch.device | None, threads: int | None,
               on_done: Done | None) -> None:
        """Start training run; on_done(run) once it has ended and been stored."""

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until a launch starts training at once (no start-up left); True when so."""

    def close(self) -> None:
        """End whatever still trains (the runs were asked to stop first)."""


class ThreadExecutor:
    """A thread of this process per run (GPU runs, runs sharing data with others, the CLI)."""

    def launch(self, run, device: torch.device | None, threads: int | None,
               on_done: Done | None) -> None:
        run.start(device, threads, on_done)

    def ready(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        """Threads end when their runs stop; nothing to end here."""


class ProcessExecutor:
    """A worker process per run, forked from a server that preloaded torch and nnplay (the
    multi-threaded server itself is never forked), supervised by one thread per run here."""

    def __init__(self, preload: list[str] | None = None):
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD if preload is None else preload)
        self._workers: dict[str, multiprocessing.process.BaseProcess] = {}
        self._lock = threading.Lock()
        self._warm = threading.Thread(target=_start_forkserver, name="start-forkserver",
                                      daemon=True)
        self._warm.start()  # now, in the background, not at the first Train

    def launch(self, run: Remote, device: torch.device | None, threads: int | None,
               on_done: Done | None) -> None:
        events, events_out = self.context.Pipe(duplex=False)
        requests_in, requests = self.context.Pipe(duplex=False)
        try:
            target, job = run.remote(threads, requests.send)
            worker = Worker(target=target, args=(events_out, requests_in, job),
                            name=f"nnplay-run-{run.id[:8]}", daemon=True)
            worker.start()
        except Exception as e:  # noqa: BLE001 - no process: this run fails, the server stays
            log.warning("A run's worker process could not start: %s", e)
            for conn in (events, events_out, requests_in, requests):
                conn.close()
            run.remote_ended(None, on_done, f"Its worker process could not start ({e}).")
            return
        events_out.close()  # the worker holds these ends now: their closing says it has ended
        requests_in.close()
        with self._lock:
            self._workers[run.id] = worker
        supervisor = background.thread(self._supervise, run, worker, events, requests, on_done,
                                       name=f"run-{run.id[:8]}")  # its supervisor
        run.thread = supervisor
        supervisor.start()

    def _supervise(self, run: Remote, worker, events: Connection, requests: Connection,
                   on_done: Done | None) -> None:
        """Hand the worker's events to the run until its last one or the worker's death."""
        try:
            while True:
                try:
                    message = events.recv()
                except (EOFError, OSError):  # the worker died without its last word
                    break
                try:
                    if run.receive(message):
                        break
                except Exception:  # noqa: BLE001 - one bad event must not lose the run
                    log.exception("A run's event could not be recorded")
        finally:
            worker.join(JOIN_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()
            events.close()
            requests.close()
            with self._lock:
                self._workers.pop(run.id, None)
            run.remote_ended(worker.exitcode, on_done)

    def ready(self, timeout: float | None = None) -> bool:
        if self._warm.ident is None:
            return True
        self._warm.join(timeout)
        return not self._warm.is_alive()

    def workers(self) -> list:
        """The worker processes alive now."""
        with self._lock:
            return list(self._workers.values())

    def close(self) -> None:
        """Wait a moment for stopped workers to end, then kill those still there."""
        for worker in self.workers():
            worker.join(CLOSE_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()


class _Popen(popen_forkserver.Popen):
    """The fork server's Popen (Python 3.11's _launch), except that the worker does not run the
    server's main script again: under Streamlit, __main__ is a page script (app.py), which must
    not run in a worker, and a worker needs nothing from it."""

    def _launch(self, process_obj) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            context.reduction.dump(prep_data, buf)
            context.reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)  # the child's sentinel of this process, as the stdlib keeps it
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class Worker(context.ForkServerProcess):
    """A process forked by the fork server that does not run the server's main script."""

    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


def _start_forkserver() -> None:
    """Start the server that forks workers and fork one that does nothing: it returns once the
    server has imported PRELOAD (seconds on a small CPU), which a first run would wait for."""
    try:
        worker = Worker(target=_nothing, name="nnplay-warm-up", daemon=True)
        worker.start()
        worker.join()
    except Exception as e:  # noqa: BLE001 - the first launch tries again and says why
        log.warning("The worker processes' server could not start: %s", e)


def _nothing() -> None:
    """A worker that only proves the fork server is up."""


EXECUTORS: dict[str, Callable[[], Executor]] = {
    "thread": ThreadExecutor,
    "process": ProcessExecutor,
}
