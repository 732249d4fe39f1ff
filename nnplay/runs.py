"""Runs in background threads: a Run records a fit's events under a lock and hands out
snapshots; the RunManager owns every run of a server process, with a cap and a FIFO queue."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

import numpy as np
import torch

from nnplay import train
from nnplay.spec import ExperimentSpec

ACTIVE = ("queued", "running", "paused")
Setup = Callable[[ExperimentSpec, torch.device | None], tuple]  # as train.prepare


class Run(train.Callback):
    """One experiment's thread, status and history; the page reads it through snapshot()."""

    def __init__(self, spec: ExperimentSpec, owner: str = "", run_id: str | None = None,
                 setup: Setup | None = None):
        self.id = run_id or uuid.uuid4().hex
        self.spec = spec
        self.setup = setup or train.prepare  # builds (data, model, device); a race shares them
        self.owner = owner
        self.control = train.Control()
        self.status = "queued"
        self.message = ""
        self.created = time.time()
        self.info: dict = {}
        self.progress: dict = {"step": 0, "epoch": 0, "total_steps": 0, "samples_per_s": 0.0,
                               "eta_s": None, "elapsed_s": 0.0}  # fmt: skip
        self.steps: dict[str, list] = {"step": [], "loss": [], "penalty": []}
        self.evals: list[dict] = []
        self.act_steps: list[int] = []
        self.act_stats: list[np.ndarray] = []  # (layers, 4) per sample
        self.hist: list = []
        self.grad_steps: list[int] = []
        self.grad_norms: list[np.ndarray] = []
        self.view: dict | None = None
        self.points: dict = {}
        self.record: dict | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()

    # --- events from the training thread ---
    def on_start(self, info: dict) -> None:
        with self._lock:
            self.info = info
            self.progress["total_steps"] = info["total_steps"]
            self.status = "paused" if self.control.paused else "running"

    def on_flush(self, chunk: dict) -> None:
        with self._lock:
            for key in ("step", "loss", "penalty"):
                self.steps[key].extend(chunk[key])
            self.progress = chunk["progress"]
            step = chunk["progress"]["step"]
            if chunk["activations"] is not None:
                self.act_steps.append(step)
                self.act_stats.append(chunk["activations"]["stats"])
                self.hist = chunk["activations"]["hist"]
            if chunk["grads"] is not None:
                self.grad_steps.append(step)
                self.grad_norms.append(chunk["grads"])
            if chunk["view"] is not None:
                self.view = chunk["view"]
            if self.status in ("running", "paused"):
                self.status = "paused" if self.control.paused else "running"

    def on_eval(self, record: dict) -> None:
        with self._lock:
            view = record.pop("view", None)
            if view is not None:
                self.view = view
            self.evals.append(record)

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        with self._lock:
            self.status, self.message, self.record = status, message, record

    # --- the thread ---
    def execute(self, device: torch.device | None = None, threads: int | None = None) -> None:
        """Build and train; runs in the run's own thread. Never raises."""
        try:
            if threads:
                torch.set_num_threads(threads)
            ds, model, device = self.setup(self.spec, device)
            self.points = _points(ds)
            train.fit(model, ds, self.spec, device, [self], self.control)
        except Exception as e:  # noqa: BLE001 - data or model errors end this run only
            self.on_end("failed", train.failure_message(e), None)
        finally:
            self._done.set()

    def start(self, device: torch.device | None = None, threads: int | None = None,
              on_done: Callable[[Run], None] | None = None) -> None:
        def target() -> None:
            self.execute(device, threads)
            if on_done is not None:
                on_done(self)

        with self._lock:
            self.status = "paused" if self.control.paused else "running"
        self.thread = threading.Thread(target=target, name=f"run-{self.id[:8]}", daemon=True)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends; True when it has."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self.status not in ACTIVE

    # --- what the page reads ---
    def snapshot(self) -> dict:
        """A consistent copy of everything the charts need, as plain lists and numpy arrays."""
        with self._lock:
            info = self.info
            n_layers = len(info.get("activation_names", []))
            acts = np.array(self.act_stats).reshape(-1, n_layers, 4) if n_layers else \
                np.zeros((0, 0, 4))
            grads = np.array(self.grad_norms).reshape(len(self.grad_norms), -1) if \
                self.grad_norms else np.zeros((0, len(info.get("grad_names", []))))
            evals = {k: [r[k] for r in self.evals] for k in _eval_keys(self.spec)}
            view = None
            if self.view is not None:
                view = dict(self.view) | self.points
                if view["kind"] == "images":
                    view = _image_view(view, self.points)
            return {
                "id": self.id, "status": self.status, "message": self.message,
                "task": self.spec.task, "spec": self.spec.model_dump(), "info": info,
                "device": info.get("device", ""), "progress": dict(self.progress),
                "steps": {k: np.asarray(v) for k, v in self.steps.items()},
                "evals": evals,
                "activations": {
                    "names": list(info.get("activation_names", [])),
                    "kinds": list(info.get("activation_kinds", [])),
                    "step": list(self.act_steps),
                    "mean": acts[:, :, 0], "std": acts[:, :, 1],
                    "dead": acts[:, :, 2], "saturated": acts[:, :, 3],
                    "hist": list(self.hist),
                },
                "grads": {"names": list(info.get("grad_names", [])),
                          "step": list(self.grad_steps), "norm": grads},
                "view": view, "record": self.record, "created": self.created,
            }  # fmt: skip


def _eval_keys(spec: ExperimentSpec) -> tuple[str, ...]:
    base = ("step", "epoch", "train_loss", "test_loss")
    return base + (("train_acc", "test_acc") if spec.task == "classification" else ())


def _points(ds) -> dict:
    """The data points drawn under a view, on the host once per run."""
    if ds.kind == "image":
        return {"test_images": ds.x_test, "image_shape": ds.image_shape,
                "class_names": list(ds.class_names), "y_test": ds.y_test}  # fmt: skip
    squeeze = (lambda y: y[:, 0]) if ds.task == "regression" else (lambda y: y)
    x_tr, x_te = ds.x_train.cpu().numpy(), ds.x_test.cpu().numpy()
    if ds.kind == "1d":
        x_tr, x_te = x_tr[:, 0], x_te[:, 0]
    return {"train": (x_tr, squeeze(ds.y_train.cpu().numpy())),
            "test": (x_te, squeeze(ds.y_test.cpu().numpy()))}  # fmt: skip


def _image_view(view: dict, points: dict) -> dict:
    """The images view with the misclassified test images and labels filled in."""
    h, w = points["image_shape"]
    idx = torch.as_tensor(view["wrong"], dtype=torch.long, device=points["test_images"].device)
    images = points["test_images"][idx].cpu().numpy().reshape(-1, h, w)
    true = points["y_test"][idx].cpu().tolist()
    return {"kind": "images", "confusion": view["confusion"], "class_names": points["class_names"],
            "images": images, "true": true, "pred": view["pred"]}


def default_max_runs() -> int:
    """NNPLAY_MAX_RUNS, else 4 per GPU, else the number of CPU cores."""
    if os.environ.get("NNPLAY_MAX_RUNS"):
        return max(1, int(os.environ["NNPLAY_MAX_RUNS"]))
    if torch.cuda.is_available():
        return 4 * torch.cuda.device_count()
    return os.cpu_count() or 1


class RunManager:
    """Every run of one server process: starts up to max_runs at once, queues the rest FIFO."""

    def __init__(self, max_runs: int | None = None):
        self.max_runs = max_runs or default_max_runs()
        self._runs: dict[str, Run] = {}
        self._queue: deque[Run] = deque()
        self._lock = threading.Lock()

    def start(self, spec: ExperimentSpec, owner: str = "", paused: bool = False,
              setup: Setup | None = None) -> Run:
        """Create a run for spec; it starts now if under the cap, else waits in the queue."""
        run = Run(spec, owner, setup=setup)
        if paused:
            run.control.pause()
        with self._lock:
            self._runs[run.id] = run
            self._queue.append(run)
        self._dispatch()
        return run

    def get(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def runs(self, owner: str | None = None) -> list[Run]:
        """Runs, newest first; only owner's when given."""
        found = [r for r in self._runs.values() if owner is None or r.owner == owner]
        return sorted(found, key=lambda r: r.created, reverse=True)

    def queue_position(self, run: Run) -> int | None:
        """How many queued runs are ahead of run (None when it is not queued)."""
        with self._lock:
            return self._queue.index(run) if run in self._queue else None

    def running(self) -> int:
        return sum(1 for r in self._runs.values() if r.status in ("running", "paused"))

    def stop(self, run_id: str) -> None:
        """Stop a run; a queued run is removed from the queue and marked stopped."""
        run = self._runs.get(run_id)
        if run is None:
            return
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
                run.on_end("stopped", "Stopped before it started.", None)
                run._done.set()
                return
        run.control.stop()

    def _dispatch(self) -> None:
        with self._lock:
            while self._queue and self.running() < self.max_runs:
                run = self._queue.popleft()
                threads = max(1, (os.cpu_count() or 1) // max(1, self.max_runs))
                run.start(threads=threads, on_done=lambda _r: self._dispatch())
