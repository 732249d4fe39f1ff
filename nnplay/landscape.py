"""A race's weight paths on a 2D slice of its loss landscape (Li et al., 2018, section 7).

The contenders of a race start from the same weights w0. Their snapshots along the way, minus
w0, are projected onto the plane through w0 spanned by the two main directions of those
differences (the first two right singular vectors of the stacked differences, taken about w0 so
that the plane passes through the shared start, which projects onto the origin). Random
directions would not do here: in thousands of dimensions two random directions are nearly
orthogonal to any path, so every path would project onto a dot at the origin; the main
directions keep as much of the paths' movement as any plane through w0 can, and the share they
keep is reported, since whatever lies off the plane is not in the picture.

The training loss is then evaluated at w0 + a·d1 + b·d2 over a grid of (a, b), row by row in a
worker thread, within the server's limits: a small network on 2D data only, at most
MAX_GRID_SIDE² points, and stopped (with what it has) when it would run longer than one run may.
A race's snapshots come from replaying its contenders: on the CPU the same spec gives the same
weights bit for bit, so the replay is the race, step for step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnplay import race, train
from nnplay.limits import LimitExceeded, Limits
from nnplay.spec import ExperimentSpec, loss_info

MAX_PARAMETERS = 5000  # a few thousand weights: a grid of forward passes stays quick
MAX_GRID_SIDE = 41
GRID_SIDE = 31
MARGIN = 0.25  # the grid reaches this share of the paths' extent beyond them on every side
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nnplay-landscape")


# --- the plane --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plane:
    """The plane through the shared start: two orthonormal directions and how much of the
    paths' squared distance from the start each one explains."""

    origin: np.ndarray  # (P,) the shared starting weights
    directions: np.ndarray  # (2, P) orthonormal rows
    explained: tuple[float, float]  # share of the paths' sum of squares along each direction

    @property
    def explained_total(self) -> float:
        return self.explained[0] + self.explained[1]

    def project(self, weights: np.ndarray) -> np.ndarray:
        """(n, P) weight vectors -> (n, 2) coordinates on the plane (the origin -> (0, 0))."""
        return (np.atleast_2d(weights) - self.origin) @ self.directions.T

    def point(self, a: float, b: float) -> np.ndarray:
        """The weights at plane coordinates (a, b)."""
        return self.origin + a * self.directions[0] + b * self.directions[1]


def plane(origin: np.ndarray, paths: list[np.ndarray]) -> Plane:
    """The plane through origin that holds the most of the paths' movement away from it.

    paths: one (n_i, P) array of weight snapshots per contender. The directions are the top
    two right singular vectors of every snapshot minus origin; explained[k] is sigma_k² over
    the differences' total sum of squares (their "variance" about the start).
    """
    origin = np.asarray(origin, dtype=np.float64)
    deltas = np.concatenate([np.atleast_2d(p) for p in paths if len(p)]) - origin  # (N, P)
    total = float((deltas**2).sum())
    if total == 0.0:
        raise ValueError("the contenders never left the start, so there is no plane to show")
    _, sigma, vt = np.linalg.svd(deltas, full_matrices=False)
    directions = np.zeros((2, len(origin)))
    k = min(2, len(sigma))
    directions[:k] = vt[:k]
    for i, row in enumerate(directions):  # a sign that makes the paths go right and up
        if i < k and (deltas @ row).sum() < 0:
            directions[i] = -row
    if k < 2:  # every path on one line: any direction orthogonal to it completes the plane
        free = np.eye(len(origin))[np.argmin(np.abs(directions[0]))]
        free -= (free @ directions[0]) * directions[0]
        directions[1] = free / np.linalg.norm(free)
    shares = [float(s**2 / total) for s in sigma[:2]] + [0.0] * (2 - k)
    return Plane(origin, directions, (shares[0], shares[1]))


def grid_axes(coords: list[np.ndarray], side: int = GRID_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The grid's a and b values: the paths' extent (and the origin) with a margin around."""
    side = max(3, min(int(side), MAX_GRID_SIDE))
    points = np.concatenate([np.zeros((1, 2)), *[c for c in coords if len(c)]])
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * max(float(np.abs(points).max()), 1e-6))
    lo, hi = lo - MARGIN * span, hi + MARGIN * span
    return np.linspace(lo[0], hi[0], side), np.linspace(lo[1], hi[1], side)


# --- the race's snapshots ---------------------------------------------------------------------


def flat(model: nn.Module) -> np.ndarray:
    """A model's parameters as one float64 vector (the order of model.parameters())."""
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().double().cpu().numpy()


class _Snapshots(train.Callback):
    """Keeps the model's weights at every evaluation (and at the end) of a training run."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.weights: list[np.ndarray] = [flat(model)]
        self.steps: list[int] = [0]

    def on_eval(self, record: dict) -> None:
        if record.get("step", 0) != self.steps[-1]:
            self.weights.append(flat(self.model))
            self.steps.append(int(record["step"]))

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        weights = flat(self.model)
        if not np.array_equal(weights, self.weights[-1]):
            self.weights.append(weights)
            self.steps.append(self.steps[-1] + 1 if record is None else int(record["step"]))


def check(spec: race.RaceSpec, parameters: int | None = None) -> None:
    """Raise LimitExceeded with one sentence when a race has no landscape view: data that is
    not 2D points, or a network with more than MAX_PARAMETERS weights."""
    info = spec.base.data.info
    if info.kind != "2d" or spec.base.model.recurrent is not None:
        raise LimitExceeded(f"The landscape view is for networks on 2D points; "
                            f"{info.label} is not.")  # fmt: skip
    if parameters is not None and parameters > MAX_PARAMETERS:
        raise LimitExceeded(f"This network has {parameters:,} weights; the landscape view "
                            f"draws networks of at most {MAX_PARAMETERS:,}.")  # fmt: skip


def replay(spec: race.RaceSpec, steps: list[int] | None = None,
           cancel: threading.Event | None = None) -> tuple[np.ndarray, list[np.ndarray],
                                                          list[list[int]], race.SharedStart]:
    """Train every contender again from the shared start (the same weights and batches, so on
    the CPU the same run bit for bit), up to steps[i] when given (a stopped race), keeping the
    weights at every evaluation: (start, one (n_i, P) array per contender, their steps, the
    shared data and start)."""
    check(spec)
    shared = race.SharedStart(spec.base)
    ds, state, device = shared.initial(torch.device("cpu"))
    paths, at = [], []
    for i, contender in enumerate(spec.specs()):
        if steps is not None and steps[i] > 0:
            contender = contender.model_copy(update={"train": contender.train.model_copy(
                update={"max_steps": int(steps[i])})})  # fmt: skip
        _, model, _ = shared(contender, device)
        check(spec, sum(p.numel() for p in model.parameters()))
        keep = _Snapshots(model)
        control = train.Control()
        if cancel is not None and cancel.is_set():
            control.stop()
        train.fit(model, ds, contender, device, [keep], control)
        paths.append(np.stack(keep.weights))
        at.append(keep.steps)
    _, model, _ = shared(spec.base, device)
    return flat(model), paths, at, shared


# --- the loss over the plane ------------------------------------------------------------------


def loss_at(model: nn.Module, ds, spec: ExperimentSpec) -> Callable[[np.ndarray], float]:
    """A function weights (P,) -> the training loss there (the data loss on up to
    train.EVAL_TRAIN_MAX training samples, in eval mode, without L1/L2 penalties)."""
    info = loss_info(spec.loss.name, spec.task)
    loss_fn = train.LOSS_MODULES[spec.loss.name]()
    k = min(len(ds.x_train), train.EVAL_TRAIN_MAX)
    x, y = ds.x_train[:k], ds.y_train[:k]
    t = train.TARGETS[info.target](y, ds.n_classes)
    params = list(model.parameters())
    model.eval()

    def at(weights: np.ndarray) -> float:
        with torch.no_grad():
            vector = torch.as_tensor(weights, dtype=params[0].dtype, device=params[0].device)
            torch.nn.utils.vector_to_parameters(vector, params)
            loss, _, _ = train.evaluate(model, x, t, y, loss_fn, info)
        return float(loss.item())

    return at


def grid_size(limits: Limits, side: int = GRID_SIDE) -> int:
    """The grid's side within the limits: at most MAX_GRID_SIDE, and no more points than the
    steps one run may take (each point is a forward pass over the training set)."""
    return int(max(3, min(side, MAX_GRID_SIDE, math.isqrt(max(limits.max_steps, 9)))))


class LandscapeJob:
    """A race's landscape computed in a worker thread: replay, plane, then the grid row by
    row; snapshot() says how far it is and holds what it has (plain numpy)."""

    def __init__(self, spec: race.RaceSpec, steps: list[int] | None = None,
                 limits: Limits | None = None, side: int = GRID_SIDE):
        self.spec, self.steps = spec, steps
        self.limits = limits or Limits.from_env()
        self.side = grid_size(self.limits, side)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._version = 0  # counts the changes of _state
        self._cancel = threading.Event()
        self._state: dict = {"stage": "waiting", "progress": 0.0, "done": False, "error": "",
                             "note": ""}  # fmt: skip
        _POOL.submit(self._run)

    def _set(self, **values) -> None:
        with self._lock:
            self._state.update(values)
            self._version += 1
            self._changed.notify_all()

    def _run(self) -> None:
        try:
            self._set(stage="replaying the race")
            start, paths, steps, shared = replay(self.spec, self.steps, self._cancel)
            the_plane = plane(start, paths)
            coords = [the_plane.project(p) for p in paths]
            a, b = grid_axes(coords, self.side)
            z = np.full((len(b), len(a)), np.nan)
            self._set(stage="evaluating the loss", plane=the_plane, coords=coords, steps=steps,
                      a=a, b=b, z=z.copy())  # fmt: skip
            ds, _, device = shared.initial()
            _, model, _ = shared(self.spec.base, device)
            at = loss_at(model, ds, self.spec.base)
            began = time.monotonic()
            for j, bj in enumerate(b):
                if self._cancel.is_set():
                    break
                if time.monotonic() - began > self.limits.max_run_seconds:
                    self._set(note=f"The grid stopped at row {j} of {len(b)}: it took longer "
                                   f"than one run may ({self.limits.max_run_seconds:g} s).")
                    break
                for i, ai in enumerate(a):
                    z[j, i] = at(the_plane.point(ai, bj))
                self._set(z=z.copy(), progress=(j + 1) / len(b))
            self._set(stage="done")
        except Exception as e:  # noqa: BLE001 - the page says it in one sentence
            self._set(error=str(e) if isinstance(e, (LimitExceeded, ValueError))
                      else f"{type(e).__name__}: {e}")  # fmt: skip
        finally:
            self._set(done=True)

    def cancel(self) -> None:
        self._cancel.set()

    def wait_change(self, timeout: float) -> None:
        """Wait until the job's state changes (or it is done), at most timeout seconds."""
        with self._lock:
            seen = self._version
            self._changed.wait_for(lambda: self._state["done"] or self._version != seen, timeout)

    def join(self, timeout: float) -> bool:
        """Wait until the job is done, at most timeout seconds; True when it is."""
        with self._lock:
            return self._changed.wait_for(lambda: self._state["done"], timeout)

    def snapshot(self) -> dict:
        """{"stage", "progress" (0..1 of the grid), "done", "error", "note", and once known
        "plane", "coords" (per contender (n, 2)), "steps", "a", "b", "z" (NaN: not yet)}."""
        with self._lock:
            return dict(self._state)
