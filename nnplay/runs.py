"""Runs in background threads or worker processes: a Run records a fit's events under a lock
and hands out snapshots; the RunManager owns every run of a server process, with a cap and a
FIFO queue, and trains each through an executor (executors.py)."""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import sqlite3
import threading
import time
import uuid
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection

import numpy as np
import torch

from nnplay import (
    background,
    branch,
    budget,
    doctor,
    executors,
    instruments,
    keyframes,
    settings,
    sizes,
    train,
)
from nnplay import data as datasets
from nnplay.limits import LimitExceeded, Limits, env_name, total_steps
from nnplay.spec import ExperimentSpec, SettingChange, SpecError, check_change
from nnplay.store import STEP_KEYS, Store, loads

ACTIVE = ("queued", "running", "paused")
Setup = Callable[[ExperimentSpec, torch.device | None], tuple]  # as train.prepare


class Run(train.Callback):
    """One experiment's thread, status and history; the page reads it through snapshot()."""

    def __init__(self, spec: ExperimentSpec, owner: str = "", run_id: str | None = None,
                 setup: Setup | None = None, resume: dict | None = None,
                 origin: dict | None = None):
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
        self.steps: dict[str, list] = {key: [] for key in STEP_KEYS}
        self._step_arrays: dict[str, np.ndarray] = {}  # self.steps as read-only arrays so far
        self.evals: list[dict] = []
        self.act_steps: list[int] = []
        self.act_stats: list[np.ndarray] = []  # (layers, 4) per sample
        self.hist: list = []
        self.grad_steps: list[int] = []
        self.grad_norms: list[np.ndarray] = []
        self.view: dict | None = None
        self.network: dict | None = None  # the network view's unit pictures and weights
        self.tiles: dict | None = None  # an image model's first-layer weights, per unit
        self.changes: list[SettingChange] = []  # settings changed while it trained, in order
        self.requested: dict[str, float] = {}  # the latest value asked for, per setting
        self.points: dict = {}
        self.record: dict | None = None
        self.thread: threading.Thread | None = None
        self.name = ""
        self.ahead: int | None = None  # queued runs ahead of this one (None: not queued)
        self.store: Store | None = None  # where events are recorded, when the manager has one
        self.stop_note = ""  # why the manager stopped it, added to the stop message
        self.unsaved = ""  # why the store does not keep it (a full disk), added to its message
        self.limits: Limits | None = None  # the manager's, whose max_run_seconds it keeps to
        self.keep_keyframes = True  # keyframes are taken (off only to measure what they cost)
        self.keyframe_store: Store | None = None  # where its keyframes are (else in memory)
        self.keyframe_note = ""  # why a keyframe could not be kept (a full disk)
        self.resume = resume  # the keyframe a branch goes on from (dropped once it has)
        self.origin = origin  # a branch's parent, step and the parent's curve (branch.origin)
        self.seen = time.monotonic()  # when a page last read its snapshot (it polls each second)
        self._view_done = False  # the view already holds its data points (stored or released)
        self._remote_end: tuple | None = None  # a worker process's last word (status, ...)
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._data = threading.Event()  # the first flush has arrived, or the run has ended

    # --- events from the training thread ---
    def on_start(self, info: dict) -> None:
        with self._lock:
            self.info = info
            self.progress["total_steps"] = info["total_steps"]
            self.status = "paused" if self.control.paused else "running"
        if self.store is not None:
            self.store.started(self.id, info)

    def on_flush(self, chunk: dict) -> None:
        if self.limits is not None and not self.control.stopping:  # its own training time
            note = budget.over_budget(chunk["progress"]["elapsed_s"] - self.control.waited,
                                      self.limits)
            if note is not None:
                self.stop_note = note
                self.control.stop()
        if self.store is not None:
            self._record_flush(self.store, chunk)
        with self._lock:
            for key in STEP_KEYS:
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
            if chunk.get("network") is not None:
                self.network = chunk["network"]
            if chunk.get("tiles") is not None:
                self.tiles = chunk["tiles"]
            if self.status in ("running", "paused"):
                self.status = "paused" if self.control.paused else "running"
        self._data.set()

    def on_eval(self, record: dict) -> None:
        view = record.pop("view", None)
        if view is not None and view["kind"] == "images" and "images" not in view:
            # the misclassified images are gathered here, in the training thread: a torch op in
            # the page's thread starts a second OpenMP team that slows training by up to 25 %
            view = _image_view(view, self.points)
        with self._lock:
            if view is not None:
                self.view = view
            self.evals.append(record)
        if self.store is not None:
            self.store.evaluation(self.id, record)

    def on_change(self, change: SettingChange) -> None:
        with self._lock:
            self.changes.append(change)

    def keyframe_steps(self, total_steps: int, size: int) -> list[int]:
        start = 0 if self.origin is None else self.origin["step"]  # a branch: from its step
        return keyframe_plan(total_steps, size, self.keep_keyframes, start)

    def on_keyframe(self, copied: dict) -> None:
        keyframes.WRITER.put(copied, self._keep_keyframe, self._keyframe_failed)

    def _keep_keyframe(self, step: int, data: bytes) -> None:
        """Store one serialised keyframe (in the writer's thread)."""
        if not self.keep_keyframes:  # deleted meanwhile
            return
        if self.keyframe_store is not None:
            self.keyframe_store.save_keyframe(self.id, step, data)
        else:
            keyframes.MEMORY.put(self.id, step, data)

    def _keyframe_failed(self, error: Exception) -> None:
        self.keyframe_note = f"A keyframe could not be kept: {train.failure_message(error)}"

    def frames(self) -> list[int]:
        """The steps this run has keyframes at, so far (its state can be read back at each)."""
        if self.keyframe_store is not None:
            return self.keyframe_store.keyframe_steps(self.id)
        return keyframes.MEMORY.steps(self.id)

    def frame(self, step: int) -> dict | None:
        """The keyframe at step (keyframes.deserialise), or None when it is not kept."""
        if self.keyframe_store is not None:
            data = self.keyframe_store.load_keyframe(self.id, step)
        else:
            data = keyframes.MEMORY.get(self.id, step)
        if data is None:
            return None
        frame = keyframes.deserialise(data)
        if self.origin is not None:  # a branch's keyframes kept before its own changes were
            # told apart also list those its parent made, up to the branch's step
            frame["changes"] = [c for c in frame["changes"] if c["step"] > self.origin["step"]]
        return frame

    def change(self, setting: str, value: object) -> str | None:
        """Change a setting (spec.CHANGEABLE) from the next step on; None when asked, else a
        sentence saying why not. Ownership is checked by RunManager.change."""
        if self.status not in ACTIVE:  # ended, or ending
            return "This run has ended; the change applies to the next run."
        try:
            number = check_change(self.spec, setting, value)
        except SpecError as e:
            return str(e)
        with self._lock:
            self.requested[setting] = number
        self.control.change(setting, number)
        return None

    def current_spec(self) -> ExperimentSpec:
        """The spec with the settings changed (or asked for) so far: what the run trains with
        now, for a page to tell which of its controls differ."""
        with self._lock:
            values = {c.setting: c.value for c in self.changes} | self.requested
        return self.spec.with_changes(values) if values else self.spec

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        if status == "stopped" and self.stop_note:
            message = f"{message} {self.stop_note}".strip()
        status, message = doctor.verdict(status, message, self.snapshot())  # a finished
        # run whose loss ends far above its start diverged, as the CLI says too
        if self.unsaved:
            message = f"{message} {self.unsaved}".strip()
        with self._lock:
            self.status, self.message, self.record = status, message, record
        self._data.set()

    def _record_flush(self, store: Store, chunk: dict) -> None:
        """Hand a flush's step losses and instrument samples to the store's batch."""
        store.steps(self.id, *(chunk[key] for key in STEP_KEYS))
        step = chunk["progress"]["step"]
        if chunk["activations"] is not None:
            store.sample(self.id, step, "activations", chunk["activations"]["stats"])
        if chunk["grads"] is not None:
            store.sample(self.id, step, "grads", chunk["grads"])

    # --- the thread ---
    def execute(self, device: torch.device | None = None, threads: int | None = None) -> None:
        """Build and train in this thread, then mark the run done (CLI, race, bench). Never
        raises."""
        try:
            self._train(device, threads)
        finally:
            self._done.set()

    def _train(self, device: torch.device | None, threads: int | None) -> None:
        """Build, train and store the run; its status is final, but it is not yet done."""
        model = ds = None
        try:
            if threads:
                torch.set_num_threads(threads)
            ds, model, device = self.setup(self.spec, device)
            self.points = _points(ds)
            resume, self.resume = self.resume, None
            train.fit(model, ds, self.spec, device, [self], self.control, resume=resume)
        except Exception as e:  # noqa: BLE001 - data or model errors end this run only
            self.on_end("failed", train.failure_message(e), None)
        finally:
            self._finish(None if model is None else model.state_dict())
            del model, ds  # the model and this run's hold on the data go now, not at exit
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # e.g. after an out-of-memory failure

    def _finish(self, state: Mapping[str, torch.Tensor] | None) -> None:
        """Store the end of the run (checkpoint of state, its weights; status, last views), then
        release its tensors."""
        self._release()
        store = self.store
        if store is None:
            return
        checkpoint = None
        try:
            if state is not None and self.status != "failed":
                checkpoint = store.save_checkpoint(self.id, dict(state), self.spec.to_json())
                if self.limits is not None:
                    store.prune(self.limits.max_home_mb * 2**20)
                    store.prune_keyframes(self.limits.max_keyframes_mb * 2**20)
        except Exception as e:  # noqa: BLE001 - a full disk must not take the app down
            with self._lock:
                self.message = (self.message + " " if self.message else "") + \
                    f"Its weights could not be saved: {train.failure_message(e)}"
        with self._lock:
            final = {"progress": dict(self.progress), "hist": list(self.hist),
                     "view": self.view, "network": self.network, "tiles": self.tiles,
                     "changes": [c.model_dump() for c in self.changes]}  # fmt: skip
        try:  # the end is recorded even without weights; on a full disk, once space returns
            store.finish(self.id, self.status, self.message, self.record, final, checkpoint)
        except Exception as e:  # noqa: BLE001
            with self._lock:
                self.message = (self.message + " " if self.message else "") + \
                    f"It could not be saved: {train.failure_message(e)}"

    def _release(self) -> None:
        """Freeze the view with its data points and drop the references to device tensors."""
        with self._lock:
            if self.view is not None and not self._view_done:
                self.view = self._full_view()
            self._view_done = True
            self.points = {}

    def _full_view(self) -> dict:
        """The latest view with the data points drawn under it (caller holds the lock); an
        images view already holds its images."""
        if self.view["kind"] == "images":
            return dict(self.view)
        return dict(self.view) | self.points

    def start(self, device: torch.device | None = None, threads: int | None = None,
              on_done: Callable[[Run], None] | None = None) -> None:
        def target() -> None:  # on_done (the manager's bookkeeping) runs before done is seen
            try:
                self._train(device, threads)
                if on_done is not None:
                    on_done(self)
            finally:
                self._done.set()

        with self._lock:
            self.status = "paused" if self.control.paused else "running"
        self.thread = background.thread(target, name=f"run-{self.id[:8]}")
        self.thread.start()

    # --- in a worker process (executors.ProcessExecutor) ---
    def remote(self, threads: int | None, forward: Callable[[tuple], None]
               ) -> tuple[Callable, dict]:
        """(work, job): what a worker process trains this run with; from now on its Control's
        requests go to forward (the worker's request pipe)."""
        resume, self.resume = self.resume, None
        job = {"spec": self.spec.to_json(), "threads": threads,
               "resume": None if resume is None else keyframes.serialise(resume),
               "keep_keyframes": self.keep_keyframes,
               "origin_step": 0 if self.origin is None else self.origin["step"],
               "env": {k: v for k, v in os.environ.items() if k.startswith("NNPLAY_")},
               "control": self.control.attach(forward)}  # fmt: skip
        with self._lock:
            self.status = "paused" if self.control.paused else "running"
        return work, job

    def receive(self, message: tuple) -> bool:
        """Record one event from the run's worker process (RECEIVE); True at its last."""
        kind, *args = message
        RECEIVE[kind](self, *args)
        return kind == "end"

    def remote_ended(self, exitcode: int | None, on_done: Callable[[Run], None] | None,
                     note: str = "") -> None:
        """After the worker's last event, or its death: end, store and release the run as a
        thread run does, then on_done (the manager's bookkeeping), then mark it done."""
        try:
            end, self._remote_end = self._remote_end, None
            if end is None:  # it died (killed, out of memory, a crash) before its last word
                self.on_end("failed", note or worker_death(exitcode), None)
                state = None
            else:
                status, message, record, state = end
                self.on_end(status, message, record)
            self._finish(None if state is None else {k: torch.from_numpy(v)
                                                     for k, v in state.items()})
            if on_done is not None:
                on_done(self)
        finally:
            self._done.set()

    def _received_flush(self, chunk: dict, waited: float) -> None:
        self.control.waited = waited  # the worker's time paused, for the budget
        self.on_flush(chunk)

    def _received_end(self, status: str, message: str, record: dict | None,
                      state: dict | None) -> None:
        self._remote_end = (status, message, record, state)

    def wait_for_data(self, timeout: float) -> bool:
        """Block until the first step losses have arrived (or the run has ended); True if so.
        A page that waits a moment for them draws its first chart a whole refresh sooner."""
        return self._data.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is done; True when it is."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """Whether the run has ended, been stored and left its manager's slot, all in one step:
        once True, the manager's running() and active() no longer count it."""
        return self._done.is_set()

    # --- what the page reads ---
    def _as_array(self, key: str) -> np.ndarray:
        """self.steps[key] as a read-only array, converting only the values new since last time
        (a 100,000-step run would otherwise cost ~10 ms of every refresh); under the lock."""
        values, done = self.steps[key], self._step_arrays.get(key)
        if done is None or len(done) > len(values) or not len(done):
            done = np.asarray(values)
        elif len(done) < len(values):
            done = np.concatenate([done, np.asarray(values[len(done):])])
        done.flags.writeable = False
        self._step_arrays[key] = done
        return done

    def snapshot(self) -> dict:
        """A consistent copy of everything the charts need, as plain lists and numpy arrays."""
        self.seen = time.monotonic()
        with self._lock:
            info = self.info
            n_layers = len(info.get("activation_names", []))
            acts = np.array(self.act_stats).reshape(-1, n_layers, 4) if n_layers else \
                np.zeros((0, 0, 4))
            grads = np.array(self.grad_norms).reshape(len(self.grad_norms), -1) if \
                self.grad_norms else np.zeros((0, len(info.get("grad_names", []))))
            keys = _eval_keys(self.spec) + tuple(info.get("eval_extra", ()))  # e.g. a subset's
            evals = {k: [r.get(k) for r in self.evals] for k in keys}
            view = None
            if self.view is not None:
                view = dict(self.view) if self._view_done else self._full_view()
            return {
                "id": self.id, "status": self._status(), "message": self.message,
                "task": self.spec.task, "spec": self.spec.model_dump(), "info": info,
                "device": info.get("device", ""), "progress": dict(self.progress),
                "steps": {k: self._as_array(k) for k in self.steps},
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
                "view": view, "network": self.network, "tiles": self.tiles,
                "record": self.record,
                "changes": [c.model_dump() for c in self.changes],
                "origin": self.origin,
                "created": self.created,
                "name": self.name, "ahead": self.ahead,
            }  # fmt: skip

    def _status(self) -> str:
        """The status, with a pause or resume shown at once (not at the loop's next flush)."""
        if self.status in ("running", "paused"):
            return "paused" if self.control.paused else "running"
        return self.status

    @classmethod
    def restore(cls, row: Mapping, history: dict) -> Run:
        """A finished (or interrupted) run rebuilt from the store, so snapshot() works again."""
        run = cls(ExperimentSpec.from_json(row["spec"]), row["owner"], row["id"])
        final = loads(row["final"]) or {}
        run.status, run.message, run.name = row["status"], row["message"], row["name"]
        run.created = row["created"]
        run.info = loads(row["info"]) or {}
        run.record = loads(row["record"])
        run.steps = {k: history[k] for k in STEP_KEYS}
        run.evals = history["evals"]
        samples = history["samples"]
        run.act_steps = [s for s, _ in samples.get("activations", [])]
        run.act_stats = [v for _, v in samples.get("activations", [])]
        run.grad_steps = [s for s, _ in samples.get("grads", [])]
        run.grad_norms = [v for _, v in samples.get("grads", [])]
        run.hist, run.view = final.get("hist", []), final.get("view")
        run.network = final.get("network")
        run.tiles = final.get("tiles")
        run.changes = [SettingChange.model_validate(c) for c in final.get("changes", [])]
        run.origin = loads(row["origin"]) if "origin" in row.keys() else None
        step = run.steps["step"][-1] if run.steps["step"] else 0
        run.progress = final.get("progress") or (
            run.progress | {"step": step, "total_steps": run.info.get("total_steps", step)})
        run._view_done = True
        run._done.set()
        return run


def _eval_keys(spec: ExperimentSpec) -> tuple[str, ...]:
    base = ("step", "epoch", "train_loss", "test_loss")
    return base + (("train_acc", "test_acc") if spec.task == "classification" else ())


def metrics_csv(snap: dict) -> str:
    """A snapshot's history as CSV: one row per step (its training loss), with the evaluation
    metrics filled in at the steps where the run evaluated."""
    steps = snap["steps"]
    evals = snap["evals"]
    keys = [k for k in evals if k != "step"]
    at = {s: i for i, s in enumerate(evals.get("step", []))}
    columns = [k for k in STEP_KEYS if k in steps]
    lines = [",".join([*columns, *keys])]
    values = [np.asarray(steps[k]).tolist() for k in columns]
    for j, step in enumerate(values[0]):
        i = at.get(step)
        row = [v[j] for v in values]
        row += [evals[k][i] if i is not None else "" for k in keys]
        lines.append(",".join("" if v is None else repr(v) if isinstance(v, float) else str(v)
                              for v in row))
    return "\n".join(lines) + "\n"


def _points(ds) -> dict:
    """The data points drawn under a view, on the host once per run."""
    if ds.kind in ("sequence", "tokens"):  # the sequence view carries its own examples
        return {}
    if ds.kind == "image":
        return {"test_images": ds.x_test, "image_shape": ds.image_shape,
                "class_names": list(ds.class_names), "y_test": ds.y_test}  # fmt: skip
    squeeze = (lambda y: y[:, 0]) if ds.task == "regression" else (lambda y: y)
    x_tr, x_te = ds.x_train.cpu().numpy(), ds.x_test.cpu().numpy()
    if ds.kind == "1d":
        x_tr, x_te = x_tr[:, 0], x_te[:, 0]
    y_te = squeeze(ds.y_test.cpu().numpy())
    if x_tr.shape == x_te.shape and np.array_equal(x_tr, x_te):  # drawn points: tested on the
        x_te, y_te = x_te[:0], y_te[:0]  # training points, so drawn once, as training points
    return {"train": (x_tr, squeeze(ds.y_train.cpu().numpy())),
            "test": (x_te, y_te),
            "class_names": list(ds.class_names),
            "feature_names": list(ds.feature_names)}  # fmt: skip


def data_preview(spec: ExperimentSpec) -> dict | None:
    """A snapshot holding only the data's points, for the page to draw before Train (as TF
    Playground shows its data); None for data drawn otherwise or that cannot be built now."""
    info, kinds = spec.data.info, instruments.DATA_VIEW_KINDS
    if (info.kind, info.task) not in kinds and info.kind != "table":  # a table: its width says
        return None
    try:
        ds = datasets.build(spec.data, spec.seed)  # cached: the run that follows reuses it
    except Exception:  # noqa: BLE001 - the run reports a data problem in its own sentence
        return None
    kind = kinds.get((ds.kind, info.task))
    return None if kind is None else {"view": {"kind": kind, **_points(ds)}}


def _image_view(view: dict, points: dict) -> dict:
    """The images view with the misclassified test images and labels filled in."""
    h, w = points["image_shape"]
    idx = torch.as_tensor(view["wrong"], dtype=torch.long, device=points["test_images"].device)
    images = points["test_images"][idx].cpu().numpy().reshape(-1, h, w)
    true = points["y_test"][idx].cpu().tolist()
    return {"kind": "images", "confusion": view["confusion"], "class_names": points["class_names"],
            "images": images, "true": true, "pred": view["pred"]}


def keyframe_plan(total_steps: int, size: int, keep: bool, start: int) -> list[int]:
    """The steps a run takes keyframes at (none when not kept); a branch's from its start."""
    if not keep:
        return []
    return [start + s for s in keyframes.schedule(total_steps - start, keyframes.budget(size))]


# How a Run records each event its worker process sends (Relay's messages).
RECEIVE: dict[str, Callable[..., None]] = {
    "points": lambda run, points: setattr(run, "points", points),
    "start": Run.on_start,
    "flush": Run._received_flush,
    "eval": Run.on_eval,
    "change": lambda run, change: run.on_change(SettingChange.model_validate(change)),
    "keyframe": Run._keep_keyframe,
    "keyframe_failed": lambda run, note: setattr(run, "keyframe_note", note),
    "end": Run._received_end,
}
# How a worker's Control takes each request the server forwards (train.Control.attach).
REQUESTS: dict[str, Callable[..., None]] = {
    "pause": train.Control.pause, "resume": train.Control.resume, "step": train.Control.step,
    "stop": train.Control.stop, "change": train.Control.change,
}  # fmt: skip


class Relay(train.Callback):
    """A run's events in its worker process, sent to the server as plain data (no tensors)."""

    def __init__(self, send: Callable[[tuple], None], control: train.Control, job: dict):
        self.send, self.control, self.job = send, control, job
        self.points: dict = {}

    def on_start(self, info: dict) -> None:
        self.send(("start", info))

    def on_flush(self, chunk: dict) -> None:
        self.send(("flush", chunk, self.control.waited))

    def on_eval(self, record: dict) -> None:
        view = record.get("view")
        if view is not None and view["kind"] == "images":  # gathered here, off the server
            record = record | {"view": _image_view(view, self.points)}
        self.send(("eval", record))

    def on_change(self, change: SettingChange) -> None:
        self.send(("change", change.model_dump()))

    def keyframe_steps(self, total_steps: int, size: int) -> list[int]:
        return keyframe_plan(total_steps, size, self.job["keep_keyframes"],
                             self.job["origin_step"])

    def on_keyframe(self, copied: dict) -> None:  # serialised in the worker's writer thread
        keyframes.WRITER.put(copied, lambda step, data: self.send(("keyframe", step, data)),
                             lambda e: self.send(("keyframe_failed", "A keyframe could not be "
                                                  f"kept: {train.failure_message(e)}")))


def work(events: Connection, requests: Connection, job: dict) -> None:
    """A run in its worker process: build and train it as a thread run does (train.prepare,
    train.fit), sending every event to events and taking Pause, Step, Stop and setting changes
    from requests; last, ('end', status, message, record, weights as numpy)."""
    lock = threading.Lock()
    control = train.Control()
    control.restore_state(job["control"])

    def send(message: tuple) -> None:
        try:
            with lock:
                events.send(message)
        except OSError:  # the server has gone: stop training
            control.stop()

    threading.Thread(target=_listen, args=(requests, control), name="requests",
                     daemon=True).start()
    for name in [k for k in os.environ if k.startswith("NNPLAY_")]:
        del os.environ[name]
    os.environ.update(job["env"])  # the server's settings now, not when the worker's parent began
    if job["threads"]:
        torch.set_num_threads(job["threads"])
    relay, state = Relay(send, control, job), None
    try:
        spec = ExperimentSpec.from_json(job["spec"])
        ds, model, device = train.prepare(spec, torch.device("cpu"))
        relay.points = _points(ds)
        send(("points", {} if ds.kind == "image" else relay.points))
        resume = None if job["resume"] is None else keyframes.deserialise(job["resume"])
        result = train.fit(model, ds, spec, device, [relay], control, resume=resume)
        end = (result.status, result.message, result.record)
        if result.status != "failed":
            state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    except Exception as e:  # noqa: BLE001 - data or model errors end this run only
        end = ("failed", train.failure_message(e), None)
    keyframes.WRITER.drain()  # every keyframe reaches the server before the end does
    send(("end", *end, state))


def _listen(requests: Connection, control: train.Control) -> None:
    """The worker's thread that applies the server's requests; the server gone means Stop."""
    while True:
        try:
            kind, *args = requests.recv()
        except (EOFError, OSError):
            control.stop()
            return
        REQUESTS[kind](control, *args)


def worker_death(exitcode: int | None) -> str:
    """The sentence for a run whose worker process died before the run ended."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        cause = " (the server may have run out of memory)" if name == "SIGKILL" else ""
        return (f"The run's worker process was killed by {name}{cause} before the run ended; "
                f"start it again, perhaps with a smaller model or batch.")
    return (f"The run's worker process ended unexpectedly (exit code {exitcode}) before the "
            f"run ended; start it again.")


def default_max_runs() -> int:
    """NNPLAY_MAX_RUNS, else 4 per GPU, else the number of CPU cores."""
    configured = settings.value("NNPLAY_MAX_RUNS")
    if configured:
        return int(configured)
    if torch.cuda.is_available():
        return 4 * torch.cuda.device_count()
    return os.cpu_count() or 1


def warm_up() -> None:
    """Import in the background what the first run would otherwise wait for: torch.optim
    imports torch._dynamo when the first optimiser is built, ~2 s on a small CPU."""
    background.start(importlib.import_module, "torch._dynamo", name="warm-up")


def _on_cpu(spec: ExperimentSpec) -> bool:
    """Whether spec trains on the CPU here (a device not available fails in a thread's run)."""
    try:
        return train.resolve_device(spec.train.device).type == "cpu"
    except train.DeviceUnavailable:
        return False


KEEP_FINISHED = 32  # finished runs kept in memory when the store holds them anyway
# What the owner of a run may do to it through RunManager.control(); the operator (who holds
# NNPLAY_ADMIN_TOKEN) may only stop another's run.
CONTROLS: dict[str, Callable[[RunManager, Run], None]] = {
    "pause": lambda m, run: run.control.pause(),
    "resume": lambda m, run: run.control.resume(),
    "step": lambda m, run: run.control.step(),
    "stop": lambda m, run: m.stop(run.id),
}
OPERATOR_CONTROLS = ("stop",)
RUN_ID = re.compile(r"[0-9a-f]{32}")


class RunManager:
    """Every run of one server process: starts up to max_runs at once, queues the rest FIFO.

    With a store, every run is recorded as it trains; finished runs leave memory (but for the
    most recent few) and come back from the store when asked for by id.
    """

    def __init__(self, max_runs: int | None = None, store: Store | None = None,
                 limits: Limits | None = None, keep_finished: int = KEEP_FINISHED,
                 threads: int | None = None, speed: budget.Speed | None = None,
                 keep_keyframes: bool = True, executor: str | None = None):
        self.max_runs = max_runs or default_max_runs()
        # torch intra-op threads per run: the cores shared out so that full slots never
        # oversubscribe them
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.max_runs)
        self.store = store
        self.limits = limits if limits is not None else Limits.from_env()
        self.keep_finished = keep_finished
        self.keep_keyframes = keep_keyframes  # off only to measure what keyframes cost
        self._speed = speed  # this machine's, measured at the first start unless given
        self._speed_lock = threading.Lock()
        self._runs: dict[str, Run] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()  # oldest first
        self._queue: deque[Run] = deque()
        self._slots = 0  # runs started and not yet ended
        self._paused_at: dict[str, float] = {}  # when a run was first seen paused with a queue
        self._lock = threading.RLock()
        # where CPU runs train (NNPLAY_EXECUTOR): their own worker processes, or threads here
        self.executor = executor or str(settings.value("NNPLAY_EXECUTOR"))
        self._executors: dict[str, executors.Executor] = {}
        if self.executor != "thread":  # its worker processes' server starts now
            self._executors[self.executor] = executors.EXECUTORS[self.executor]()
        if store is not None:
            store.interrupt_orphans()
        _MANAGERS.add(self)
        warm_up()
        if self._speed is None:  # calibrate now, not in the page's thread at the first Train
            background.start(self.speed, name="calibrate-budget")

    def start(self, spec: ExperimentSpec, owner: str = "", paused: bool = False,
              setup: Setup | None = None, resume: dict | None = None,
              origin: dict | None = None) -> Run:
        """Create a run for spec; it starts now if under the cap, else waits in the queue.

        Raises LimitExceeded (one sentence) when the spec or owner's other runs break a limit.
        """
        self.limits.check(spec, sizes.estimated_train_size(spec))
        budget.check(spec, self.limits, self.speed())
        self._reap_paused()
        run = Run(spec, owner, setup=setup, resume=resume, origin=origin)
        run.limits = self.limits
        run.keep_keyframes = self.keep_keyframes
        if paused:
            run.control.pause()
        with self._lock:
            if owner:
                self.limits.check_session(self.active(owner))
            if len(self._queue) >= self.limits.max_queue and self._slots >= self.max_runs:
                raise LimitExceeded(
                    f"The server's queue is full: {len(self._queue)} runs are waiting for a "
                    f"training slot, the most it keeps waiting, so try again in a minute; "
                    f"{env_name('max_queue')} sets this limit.")
            self._runs[run.id] = run
            self._queue.append(run)
            self._number_queue()
        if self.store is not None:
            try:
                self.store.create(run.id, spec.to_json(), owner, run.created)
                run.store = run.keyframe_store = self.store
            except sqlite3.Error as e:  # a full disk: the run trains, but is not kept
                run.unsaved = run.message = (f"This run is not being kept: the server could not "
                                             f"record it ({e}).")
        self._dispatch()
        return run

    def branch(self, parent_id: str, step: int, owner: str, spec: ExperimentSpec) -> Run:
        """Start spec as a branch of a run from its keyframe at step, owned by owner (anyone
        who can see the parent may branch it). Raises BranchError or LimitExceeded (a sentence).
        """
        parent = self.get(parent_id)
        if parent is None:
            raise branch.BranchError("That run is not on this server any more.")
        frame = parent.frame(step)
        if frame is None:
            raise branch.BranchError(f"The run keeps no state at step {step:,} (its keyframes "
                                     f"may have been pruned); pick another step.")
        branch.edits_between(branch.spec_at(parent.spec, frame["changes"]), spec)
        total = total_steps(spec, sizes.estimated_train_size(spec))
        if total <= step:
            raise branch.BranchError(
                f"This branch would train no further: its setup ends at step {total:,} and it "
                f"starts from step {step:,}, so raise the epochs or pick an earlier step.")
        with parent._lock:
            steps, losses = parent.steps["step"], parent.steps["loss"]
            k = int(np.searchsorted(np.asarray(steps), step, side="right"))
            curve = {"step": list(steps[:k]), "loss": list(losses[:k])}
        before = parent.origin["curve"] if parent.origin else {"step": [], "loss": []}
        curve = {key: list(before[key]) + curve[key] for key in curve}
        origin = branch.origin(parent.id, step, parent.spec, frame["changes"], curve)
        if parent.origin:
            origin["origin"] = {k: v for k, v in parent.origin.items() if k != "curve"}
        run = self.start(spec, owner, resume=frame, origin=origin)
        data = keyframes.serialise(frame | {"changes": []})  # the child keeps the state it
        # starts from; the changes made before it are in its spec
        if run.keyframe_store is not None:
            run.keyframe_store.set_origin(run.id, origin)
        run._keep_keyframe(step, data)
        return run

    def speed(self) -> budget.Speed:
        """This machine's speed for one run, which budgets are estimated with: measured once,
        by whichever caller comes first (the others wait for it rather than measure again)."""
        with self._speed_lock:
            if self._speed is None:
                self._speed = budget.measured(self.threads)
            return self._speed

    def get(self, run_id: str) -> Run | None:
        """The run with this id, from memory or else from the store; None when unknown."""
        self._reap_paused()
        run = self._runs.get(run_id)
        if run is not None or self.store is None or not RUN_ID.fullmatch(str(run_id)):
            return run
        row = self.store.run(run_id)
        if row is None:
            return None
        try:
            run = Run.restore(row, self.store.history(run_id))
        except ValueError:  # a spec stored by an nnplay whose settings have since changed
            return None
        run.keyframe_store = self.store
        with self._lock:
            run = self._runs.setdefault(run_id, run)
            self._retire(run)
        return run

    def open(self, run_id: str, owner: str) -> Run | None:
        """get(), and list the run among owner's runs when it is someone else's (a link)."""
        run = self.get(run_id)
        if run is not None and owner and run.owner != owner and self.store is not None:
            self.store.open_for(owner, run_id)
        return run

    def runs(self, owner: str | None = None) -> list[Run]:
        """Runs in memory, newest first; only owner's when given."""
        found = [r for r in list(self._runs.values()) if owner is None or r.owner == owner]
        return sorted(found, key=lambda r: r.created, reverse=True)

    def active(self, owner: str) -> int:
        """owner's runs that are queued, running or paused."""
        return sum(1 for r in list(self._runs.values()) if r.owner == owner and not r.done)

    def listing(self, owner: str, everyone: bool = False) -> list[dict]:
        """owner's runs and those opened by link (every run, for the operator), newest first:
        one summary dict each."""
        found: dict[str, dict] = {}
        if self.store is not None:
            for row in (self.store.recent() if everyone else self.store.runs(owner)):
                found[row["id"]] = {k: row[k] for k in ("id", "owner", "name", "status",
                                                         "message", "created", "spec")}
                found[row["id"]]["record"] = loads(row["record"])
            losses = self.store.test_losses([i for i in found if i not in self._runs])
            for run_id, values in losses.items():
                found[run_id]["test_loss"] = values
        for run in list(self._runs.values()):
            if run.owner == owner or run.id in found or everyone:
                with run._lock:
                    found[run.id] = {
                        "id": run.id, "owner": run.owner, "name": run.name,
                        "status": run.status, "message": run.message, "created": run.created,
                        "spec": run.spec.to_json(), "record": run.record,
                        "test_loss": [r.get("test_loss") for r in run.evals], "ahead": run.ahead,
                    }  # fmt: skip
        for entry in found.values():
            entry["mine"] = entry["owner"] == owner
            entry.setdefault("test_loss", [])
        return sorted(found.values(), key=lambda e: e["created"], reverse=True)

    def running(self) -> int:
        """Runs holding a training slot (running or paused)."""
        return self._slots

    def stop(self, run_id: str) -> None:
        """Stop a run; a queued run is removed from the queue and marked stopped."""
        run = self._runs.get(run_id)
        if run is None:
            return
        with self._lock:
            if run in self._queue:
                self._queue.remove(run)
                run.ahead = None
                self._number_queue()
                run.on_end("stopped", "Stopped before it started.", None)
                run._finish(None)
                self._retire(run)
                run._done.set()
                return
        run.control.stop()

    def can_control(self, run_id: str, owner: str, action: str = "pause",
                    operator: bool = False) -> bool:
        """Whether owner may do action to the run: only the browser that started it may, and
        the operator may stop any run; anyone else who opens its link only watches it."""
        if operator and action in OPERATOR_CONTROLS:
            return self._owner_of(run_id) is not None
        return bool(owner) and self._owner_of(run_id) == owner

    def control(self, run_id: str, owner: str, action: str, operator: bool = False) -> bool:
        """Pause, resume, step or stop a run for owner; False (nothing done) when it is not
        theirs to control or not in memory any more."""
        run = self._runs.get(run_id)
        if run is None or action not in CONTROLS or not self.can_control(run_id, owner, action,
                                                                          operator):
            return False
        CONTROLS[action](self, run)
        return True

    def change(self, run_id: str, owner: str, setting: str, value: object) -> str | None:
        """Change a setting of owner's live run from its next step on; None when done, else a
        sentence (not theirs, ended, or a value the setting cannot take)."""
        run = self._runs.get(run_id)
        if run is None or not self.can_control(run_id, owner, "change"):
            return "Only the browser that started this run can change it."
        return run.change(setting, value)

    def rename(self, run_id: str, name: str, owner: str) -> bool:
        """Give owner's run a name (one line, at most 80 characters); False if not theirs."""
        name = " ".join(str(name).split())[:80]
        if self._owner_of(run_id) != owner:
            return False
        run = self._runs.get(run_id)
        if run is not None:
            run.name = name
        if self.store is not None:
            self.store.rename(run_id, name)
        return True

    def delete(self, run_id: str, owner: str) -> None:
        """Delete owner's run (stopping it first); another's run only leaves owner's list."""
        if self._owner_of(run_id) != owner:
            if self.store is not None and RUN_ID.fullmatch(str(run_id)):
                self.store.unlist(owner, run_id)
            return
        run = self._runs.get(run_id)
        if run is not None:
            run.store = None  # its last events must not re-create rows after the delete
            run.keep_keyframes = False
            self.stop(run_id)
            with self._lock:
                self._runs.pop(run_id, None)
                self._finished.pop(run_id, None)
        keyframes.MEMORY.delete(run_id)
        if self.store is not None:
            self.store.delete(run_id)

    def close(self, timeout: float = 30.0) -> None:
        """Stop every run, wait for them, and close the store."""
        for run in list(self._runs.values()):
            if not run.done:
                self.stop(run.id)
        for run in list(self._runs.values()):
            run.wait(timeout)
        for executor in list(self._executors.values()):
            executor.close()
        keyframes.WRITER.drain()
        if self.store is not None:
            self.store.close()

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until a run started now trains at once: the worker processes' server, which
        starts with the manager, is up (seconds on a small CPU); True when so."""
        return all(e.ready(timeout) for e in list(self._executors.values()))

    def _executor_for(self, run: Run) -> executors.Executor:
        """The manager's executor; a GPU run, one with its own setup (a race's contenders share
        their data), and one started before the worker processes' server is up (seconds after
        a cold start, which a first Train must not wait for) train in a thread (caller holds the
        lock)."""
        name = self.executor
        if name != "thread" and (run.setup is not train.prepare or not _on_cpu(run.spec)
                                 or not self._executors[name].ready(0)):
            name = "thread"
        if name not in self._executors:
            self._executors[name] = executors.EXECUTORS[name]()
        return self._executors[name]

    def _reap_paused(self) -> None:
        """Stop a run that holds its slot paused for max_pause_minutes while others queue, or
        for max_unwatched_minutes with no page showing it (its tab was closed)."""
        now, limit = time.monotonic(), self.limits.max_pause_minutes * 60
        unwatched = self.limits.max_unwatched_minutes
        with self._lock:
            for run in list(self._runs.values()):
                holding = run.thread is not None and not run.done and run.control.paused
                if holding and now - run.seen >= unwatched * 60 and not run.control.stopping:
                    minutes = f"{unwatched:g} minute{'' if unwatched == 1 else 's'}"
                    run.stop_note = (f"It was left paused with no page showing it for "
                                     f"{minutes}, so its training slot was freed.")
                    run.control.stop()
                    self._paused_at.pop(run.id, None)
                elif not (holding and self._queue):
                    self._paused_at.pop(run.id, None)
                elif now - self._paused_at.setdefault(run.id, now) >= limit:
                    run.stop_note = (f"It was paused for {self.limits.max_pause_minutes:g} "
                                     f"minutes while others waited, so its slot went to them.")
                    run.control.stop()
                    self._paused_at.pop(run.id)

    def _owner_of(self, run_id: str) -> str | None:
        run = self._runs.get(run_id)
        if run is not None:
            return run.owner
        row = self.store.run(run_id) if self.store is not None else None
        return None if row is None else row["owner"]

    def _number_queue(self) -> None:
        """Tell each queued run how many are ahead of it (caller holds the lock)."""
        for i, run in enumerate(self._queue):
            run.ahead = i

    def _retire(self, run: Run) -> None:
        """Note a finished run; beyond keep_finished, the oldest leave memory (store only)."""
        if self.store is None:
            return
        self._finished[run.id] = None
        while len(self._finished) > self.keep_finished:
            old, _ = self._finished.popitem(last=False)
            self._runs.pop(old, None)

    def _ended(self, run: Run) -> None:
        """Free the run's slot and retire it, mark it done, then start the next in the queue."""
        with self._lock:
            self._slots -= 1
            self._retire(run)
        run._done.set()  # one step: whoever sees it done sees the slot free and it retired
        self._dispatch()

    def _dispatch(self) -> None:
        with self._lock:
            while self._queue and self._slots < self.max_runs:
                run = self._queue.popleft()
                run.ahead = None
                self._slots += 1
                self._executor_for(run).launch(run, None, self.threads, self._ended)
            self._number_queue()


_MANAGERS: weakref.WeakSet[RunManager] = weakref.WeakSet()


def _close_managers() -> None:
    """At exit: stop every run of every manager and store what they did."""
    for manager in list(_MANAGERS):
        try:
            manager.close(timeout=background.EXIT_SECONDS / 2)
        except Exception:  # noqa: BLE001 - the next manager still closes
            logging.getLogger("nnplay").exception("a run manager could not be closed at exit")


background.on_exit(_close_managers)
