"""Optimisers' paths over a 2D loss surface, stepped by the real torch.optim classes.

Every contender steps its own torch.nn.Parameter of two values from the same start; all of them
advance together, one step at a time, and the points arrive in chunks so that a page can draw
the first part while the rest is computed. PathJob does that in a worker thread (the page's
thread runs no torch); walk() is the same loop for tests and the CLI, and script() writes it as
a standalone PyTorch script that prints the same paths.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from nnplay import surfaces, train
from nnplay.spec import OptimizerSpec
from nnplay.surfaces import SurfaceSpec

CHUNK = 20  # steps between the points a page can draw
DTYPE = torch.float64
# Paths are ~1 s of one core for six contenders; a few at a time keeps a class's sliders from
# queueing behind each other while leaving the cores to training runs.
WORKERS = max(1, min(4, (os.cpu_count() or 2) // 2))
_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="nnplay-paths")


def optimizer(params: list[torch.nn.Parameter], opt: OptimizerSpec) -> torch.optim.Optimizer:
    """The torch.optim optimiser the training loop would build for these settings."""
    return train.OPTIMIZER_BUILDERS[opt.name](params, opt)


def _merged(params: list[torch.nn.Parameter],
            specs: tuple[OptimizerSpec, ...]) -> list[torch.optim.Optimizer]:
    """One optimiser per torch.optim class, a param group per contender with its own settings:
    torch steps each group alone, so this is the contenders' own optimisers in fewer calls."""
    merged: dict[str, torch.optim.Optimizer] = {}
    for p, opt in zip(params, specs):
        own = optimizer([p], opt)
        if opt.name in merged:
            merged[opt.name].add_param_group({"params": [p], **own.defaults})
        else:
            merged[opt.name] = own
    return list(merged.values())


def _stops(rows: np.ndarray, first: int, last: int, box: tuple[float, ...]) -> tuple[int, str]:
    """Where a contender's chunk of rows (steps first..last) ends its path, and why: (the
    number of rows kept, its status)."""
    x_lo, x_hi, y_lo, y_hi = box
    bad = ~np.isfinite(rows).all(axis=1)
    out = ~((x_lo <= rows[:, 0]) & (rows[:, 0] <= x_hi) & (y_lo <= rows[:, 1])
            & (rows[:, 1] <= y_hi))  # fmt: skip
    for j in range(len(rows)):
        if bad[j]:
            return j + 1, f"diverged at step {first + j}"
        if out[j]:
            return j + 1, f"far off the plot at step {first + j}"
    return len(rows), "finished" if first + len(rows) - 1 == last else "running"


def walk(spec: SurfaceSpec, chunk: int = CHUNK,
         cancel: threading.Event | None = None) -> Iterator[tuple[list[np.ndarray], list[str]]]:
    """Step every contender from spec.start; yield (new points, statuses) every chunk steps.

    Points are rows (x, y, loss): the start, then one row after each step. A contender stops,
    with a status that says why, when its loss is no longer finite or it has left the plot far
    behind (surfaces.far_box); the others go on. All contenders are one vector of losses and one
    backward per step, recorded on the device and read back once a chunk: a contender that stops
    inside a chunk takes a few more steps nobody sees, which change nothing for the others (each
    loss depends on its own parameter only).
    """
    box = surfaces.far_box(spec.info)
    n = len(spec.contenders)
    params = [torch.nn.Parameter(torch.tensor(spec.start, dtype=DTYPE)) for _ in range(n)]
    groups = _merged(params, spec.contenders)
    status = ["running"] * n
    live = list(range(n))
    first = 0
    while live:
        last = min(first + chunk - 1, spec.steps)
        rows = []
        for step in range(first, last + 1):
            points = torch.stack([params[i] for i in live])  # (live, 2)
            loss = spec.value(points[:, 0], points[:, 1])  # (live,)
            rows.append(torch.cat([points.detach(), loss.detach()[:, None]], 1))
            if step == spec.steps:
                break
            for p in params:
                p.grad = None  # a stopped contender keeps none, so its optimiser skips it
            loss.sum().backward()
            for optim in groups:
                optim.step()
        new = [np.zeros((0, 3))] * n
        block = torch.stack(rows).numpy()  # (steps, live, 3): the chunk's one read-back
        for k, i in enumerate(live):
            kept, status[i] = _stops(block[:, k], first, spec.steps, box)
            new[i] = block[:kept, k]
        live = [i for i in live if status[i] == "running"]
        yield new, list(status)
        first = last + 1
        if cancel is not None and cancel.is_set():
            return


def paths(spec: SurfaceSpec) -> tuple[list[np.ndarray], list[str]]:
    """Every contender's whole path, (n, 3) rows of x, y, loss, and how each ended."""
    parts: list[list[np.ndarray]] = [[] for _ in spec.contenders]
    status: list[str] = []
    for new, latest in walk(spec):
        status = latest
        for part, rows in zip(parts, new):
            part.append(rows)
    return [np.concatenate(p) if p else np.zeros((0, 3)) for p in parts], status


class PathJob:
    """The paths of one setup, computed in a worker thread; snapshot() is plain numpy."""

    def __init__(self, spec: SurfaceSpec):
        self.spec = spec
        self._lock = threading.Lock()
        self._parts: list[list[np.ndarray]] = [[] for _ in spec.contenders]
        self._status = ["waiting"] * len(spec.contenders)
        self._cancel = threading.Event()
        self._arrived = threading.Condition(self._lock)
        self._done = False
        self._chunks = 0
        self.error = ""
        _POOL.submit(self._run)

    def _run(self) -> None:
        try:
            if not self._cancel.is_set():
                for new, status in walk(self.spec, cancel=self._cancel):
                    with self._lock:
                        for part, rows in zip(self._parts, new):
                            part.append(rows)
                        self._status = status
                        self._chunks += 1
                        self._arrived.notify_all()
        except Exception as e:  # a bug here must not kill the worker: the page says it
            self.error = f"{type(e).__name__}: {e}"
        finally:
            with self._lock:
                self._done = True
                self._arrived.notify_all()

    @property
    def done(self) -> bool:
        with self._lock:
            return self._done

    def cancel(self) -> None:
        """Stop at the next chunk (a page asks for another setup)."""
        self._cancel.set()

    def wait(self, timeout: float) -> None:
        """Wait until some points have arrived (or the job is done), at most timeout seconds."""
        with self._lock:
            self._arrived.wait_for(lambda: self._done or any(self._parts), timeout)

    def wait_past(self, seen: int, timeout: float) -> None:
        """Wait until more than `seen` chunks have arrived (or the job is done), at most
        timeout seconds."""
        with self._lock:
            self._arrived.wait_for(lambda: self._done or self._chunks > seen, timeout)

    @property
    def chunks(self) -> int:
        """How many chunks of points have arrived so far."""
        with self._lock:
            return self._chunks

    def join(self, timeout: float) -> bool:
        """Wait until the job is done, at most timeout seconds; True when it is."""
        with self._lock:
            return self._arrived.wait_for(lambda: self._done, timeout)

    def snapshot(self) -> dict:
        """{"paths": [(n, 3) arrays], "status": [...], "done": bool, "error": str}."""
        with self._lock:
            parts = [list(p) for p in self._parts]
            status, done = list(self._status), self._done
        paths = [np.concatenate(p) if p else np.zeros((0, 3)) for p in parts]
        return {"paths": paths, "status": status, "done": done, "error": self.error}


# --- the same paths as a standalone script -------------------------------------------------------


def optimizer_code(opt: OptimizerSpec, params: str = "[p]") -> str:
    """The torch.optim call optimizer() makes, with the settings that differ from torch's."""
    probe = [torch.zeros(1, requires_grad=True)]
    built = optimizer(probe, opt)
    cls = type(built)
    accepted = inspect.signature(cls).parameters
    defaults = {k: v for k, v in cls(probe).defaults.items() if k != "lr"}
    args = ", ".join(f"{k}={v!r}" for k, v in built.defaults.items()
                     if k in accepted and defaults.get(k, object()) != v)  # fmt: skip
    return f"torch.optim.{cls.__name__}({params}, {args})"


def script(spec: SurfaceSpec, title: str = "") -> str:
    """A short PyTorch script that steps the same optimisers on the same function from the same
    start and prints where each path ends (the app's paths, to the last digit on CPU)."""
    info = spec.info
    settings = ", ".join(f"{k}={v!r}" for k, v in spec.settings().items())
    call = f"{info.fn.__name__}(p[0], p[1]{', ' + settings if settings else ''})"
    x_lo, x_hi, y_lo, y_hi = surfaces.far_box(info)
    heading = (title or f"Optimisers on {info.label}").replace('"""', "'''")
    lines = ",\n".join(f"    {t!r}: lambda p: {optimizer_code(o)}"
                       for t, o in zip(spec.titles(), spec.contenders))  # fmt: skip
    return f'''"""{heading}

Each optimiser steps its own torch.nn.Parameter of two values from the same start. Generated by
nnplay; needs only torch.
"""

import math

import torch


{inspect.getsource(info.fn)}

START = {tuple(spec.start)!r}
STEPS = {spec.steps}
FAR = ({x_lo!r}, {x_hi!r}, {y_lo!r}, {y_hi!r})  # a path that leaves this box stops


def walk(make_optimizer):
    """(x, y, loss) at the start and after every step."""
    p = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    optimizer = make_optimizer(p)
    path = []
    for step in range(STEPS + 1):
        loss = {call}
        x, y = p.tolist()
        path.append((x, y, loss.item()))
        if not all(map(math.isfinite, path[-1])) or step == STEPS:
            break
        if not (FAR[0] <= x <= FAR[1] and FAR[2] <= y <= FAR[3]):
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return path


OPTIMIZERS = {{
{lines},
}}

for name, make in OPTIMIZERS.items():
    path = walk(make)
    x, y, loss = path[-1]
    print(f"{{name}}: {{len(path) - 1}} steps, ends at x={{x!r}} y={{y!r}} loss={{loss!r}}")
'''
