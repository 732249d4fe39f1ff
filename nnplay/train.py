"""fit(): the training loop. Synchronous; emits events to callbacks; obeys a Control.

The hot loop keeps everything on the device: batches are gathered by index from tensors that
already live there, per-step losses go into a device buffer, and the host reads that buffer only
when it flushes (about four times a second) or evaluates (every `eval_every` steps).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from nnplay import data as datasets
from nnplay import first_layer, fused, instruments, keyframes, models, network, unitgrid
from nnplay.spec import (
    OPTIMIZERS,
    ExperimentSpec,
    LossInfo,
    OptimizerSpec,
    SettingChange,
    loss_info,
)

FLUSH_SECONDS = 0.25  # how often step losses and gradient norms reach the host
PROBE_SECONDS = 1.0  # how often activation statistics are sampled (a forward pass of SAMPLE_MAX
# samples, ~1 % of training time at four a second for the FashionMNIST net), besides every
# evaluation: no more often than the page redraws them (ui.REFRESH_SECONDS)
VIEW_SECONDS = 1.0  # how often the grid view (decision boundary, fit) is recomputed: no more
# often than the page redraws it (ui.REFRESH_SECONDS)
EVAL_TRAIN_MAX = 2000  # training samples used to measure train loss/accuracy at evaluation
EVAL_CHUNK = 8192
BUFFER = 4096  # per-step values held on the device between flushes
SAMPLE_MAX = 256  # batch used to sample activation statistics


# --- registries --------------------------------------------------------------------------------

LOSS_MODULES: dict[str, Callable[[], nn.Module]] = {
    "CrossEntropyLoss": nn.CrossEntropyLoss,
    "NLLLoss": nn.NLLLoss,
    "BCEWithLogitsLoss": nn.BCEWithLogitsLoss,
    "BCELoss": nn.BCELoss,
    "KLDivLoss": lambda: nn.KLDivLoss(reduction="batchmean"),
    "MSELoss": nn.MSELoss,
    "L1Loss": nn.L1Loss,
    "SmoothL1Loss": nn.SmoothL1Loss,
    "HuberLoss": nn.HuberLoss,
}

TARGETS: dict[str, Callable[[torch.Tensor, int], torch.Tensor]] = {
    "index": lambda y, c: y,
    "onehot": lambda y, c: F.one_hot(y, c).float(),
    "binary": lambda y, c: y.float()[:, None],
    "value": lambda y, c: y,
}


def _sgd(params, o: OptimizerSpec):
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov,
                           weight_decay=o.weight_decay)  # fmt: skip


def _adam(cls):
    return lambda params, o: cls(params, lr=o.lr, betas=(o.beta1, o.beta2),
                                 weight_decay=o.weight_decay)  # fmt: skip


OptimizerBuilder = Callable[[Iterable[nn.Parameter], OptimizerSpec], torch.optim.Optimizer]
OPTIMIZER_BUILDERS: dict[str, OptimizerBuilder] = {
    "SGD": _sgd,
    "Adam": _adam(torch.optim.Adam),
    "AdamW": _adam(torch.optim.AdamW),
    "Adagrad": lambda p, o: torch.optim.Adagrad(p, lr=o.lr, weight_decay=o.weight_decay),
    "Adadelta": lambda p, o: torch.optim.Adadelta(p, lr=o.lr, weight_decay=o.weight_decay),
    "RMSprop": lambda p, o: torch.optim.RMSprop(p, lr=o.lr, momentum=o.momentum,
                                                weight_decay=o.weight_decay),
}  # fmt: skip
assert tuple(OPTIMIZER_BUILDERS) == OPTIMIZERS


def penalty_terms(params: Sequence[torch.Tensor], l1: float, l2: float) -> torch.Tensor:
    """[penalty, lambda_1 * ||w||_1, lambda_2 * ||w||_2]: the whole penalty, computed as in the
    reference (and the exported script), and its two parts, which the loss chart draws apart."""
    flat = torch.cat([p.view(-1) for p in params])
    one, two = l1 * torch.norm(flat, 1), l2 * torch.norm(flat, 2)
    return torch.stack([one + two, one, two])


# --- devices -----------------------------------------------------------------------------------


def resolve_device(name: str = "auto") -> torch.device:
    """auto: CUDA, then MPS, else CPU; an explicit name that is not available raises."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": bool(getattr(torch.backends, "mps", None)) and
                 torch.backends.mps.is_available()}  # fmt: skip
    if not available.get(name, False):
        raise DeviceUnavailable(f"Device '{name}' is not available here; use auto or cpu.")
    return torch.device(name)


def device_label(device: torch.device) -> str:
    """A device as a person reads it: 'CUDA · NVIDIA H100 80GB HBM3' or 'CPU · 2 cores'."""
    if device.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "MPS · Apple GPU"
    return f"CPU · {os.cpu_count()} cores"


class DeviceUnavailable(ValueError):
    """The spec asks for a device this machine does not have."""


def device_choice(name: str) -> str:
    """A device setting as the page offers it: 'auto · CPU · 2 cores', 'cuda (not available)'."""
    try:
        return f"{name} · {device_label(resolve_device(name))}"
    except DeviceUnavailable:
        return f"{name} (not available here)"


# --- control -----------------------------------------------------------------------------------


class Stopped(Exception):
    """Raised inside the loop when Stop is pressed."""


class Control:
    """Stop / pause / resume / single-step requests from another thread to the loop."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._paused = False
        self._stop = False
        self._budget = 0  # steps allowed while paused
        self.waited = 0.0  # seconds the loop has spent blocked here (paused), not training
        self.changes: list[tuple[str, float]] = []  # settings to change before the next step
        self.forward: Callable[[tuple], None] | None = None  # where requests go instead when
        # the loop runs in another process (executors.ProcessExecutor); this copy keeps the state

    def attach(self, forward: Callable[[tuple], None]) -> tuple:
        """Send every request from now on to forward as ('pause',), ('change', name, value)...;
        returns the state so far (paused, stopping, steps allowed, changes) for the far loop."""
        with self._cv:
            self.forward = forward
            state = (self._paused, self._stop, self._budget, list(self.changes))
            self.changes = []
            return state

    def restore_state(self, state: tuple) -> None:
        """Take attach()'s state (in the far loop's process)."""
        with self._cv:
            self._paused, self._stop, self._budget, self.changes = state[0], state[1], \
                state[2], list(state[3])
            self._cv.notify_all()

    def _tell(self, *request: object) -> None:
        """Forward a request (caller holds the lock); a far loop that has ended cannot hear it."""
        if self.forward is not None:
            try:
                self.forward(request)
            except OSError:
                pass

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopping(self) -> bool:
        return self._stop

    def pause(self) -> None:
        with self._cv:
            self._paused = True
            self._tell("pause")

    def resume(self) -> None:
        with self._cv:
            self._paused, self._budget = False, 0
            self._cv.notify_all()
            self._tell("resume")

    def step(self) -> None:
        """Run exactly one more batch, then stay paused."""
        with self._cv:
            self._paused = True
            if self.forward is None:  # else the far loop counts the steps it may take
                self._budget += 1
            self._cv.notify_all()
            self._tell("step")

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
            self._tell("stop")

    def change(self, setting: str, value: float) -> None:
        """Ask for a setting (spec.CHANGEABLE, value already checked) from the next step on."""
        with self._cv:
            if self.forward is not None:
                self._tell("change", setting, value)
            else:
                self.changes = [*self.changes, (setting, value)]

    def take_changes(self) -> list[tuple[str, float]]:
        """The changes asked for since the last call, oldest first."""
        with self._cv:
            taken, self.changes = self.changes, []
        return taken

    def must_wait(self) -> bool:
        """True when the loop is about to block (or stop): a cheap check without the lock."""
        return self._stop or (self._paused and self._budget == 0)

    def gate(self) -> None:
        """Block while paused; raise Stopped when stopping; consume one Step."""
        if not (self._paused or self._stop):
            return
        with self._cv:
            t0 = time.monotonic()
            while self._paused and self._budget == 0 and not self._stop:
                self._cv.wait(timeout=0.5)
            self.waited += time.monotonic() - t0
            if self._stop:
                raise Stopped
            if self._paused:
                self._budget -= 1


# --- events ------------------------------------------------------------------------------------


class Callback:
    """Receives the loop's events; every hook does nothing unless overridden."""

    def on_start(self, info: dict) -> None:
        """Once, before the first step: totals, device, model description, data points."""

    def on_epoch(self, epoch: int, order: torch.Tensor) -> None:
        """At the start of each epoch: the order (on the device) its batches take samples in."""

    def on_flush(self, chunk: dict) -> None:
        """Step losses since the last flush, plus sampled instruments and progress."""

    def on_eval(self, record: dict) -> None:
        """An evaluation: step, epoch, train/test loss and accuracy."""

    def on_change(self, change: SettingChange) -> None:
        """A setting changed: change.step is the first step taken with the new value."""

    def keyframe_steps(self, total_steps: int, size: int) -> Sequence[int]:
        """The steps after which this callback wants a keyframe (size: bytes of one)."""
        return ()

    def on_keyframe(self, copied: dict) -> None:
        """A keyframe's state, copied on the device (keyframes.finish makes it plain)."""

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        """Once, at the end: finished, stopped, diverged or failed, with the last evaluation."""


@dataclass
class Result:
    """How a fit ended."""

    status: str
    message: str
    record: dict | None
    history: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # e.g. a dataset's baseline metrics


class Diverged(Exception):
    """The loss became NaN or infinite."""


# --- the loop ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """Step counts derived from the spec and the data."""

    steps_per_epoch: int
    total_steps: int
    eval_every: int

    @classmethod
    def of(cls, spec: ExperimentSpec, n_train: int, n_eval: int) -> Plan:
        bs = spec.train.batch_size
        per_epoch = math.ceil(n_train / bs)
        total = per_epoch * spec.train.epochs
        if spec.train.max_steps:
            total = min(total, spec.train.max_steps)
        # auto: ~200 evaluations per run, but never more evaluation work than half the training
        auto = max(math.ceil(total / 200), math.ceil(n_eval / (2 * bs)), 1)
        return cls(per_epoch, total, spec.train.eval_every or auto)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor,
             loss_fn: nn.Module, info: LossInfo, lengths: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean loss and accuracy (NaN for regression) over a set, and the predicted classes; all
    on the device. The caller has put the model in eval mode."""
    total = torch.zeros((), device=x.device)
    preds = []
    for i in range(0, len(x), EVAL_CHUNK):
        out = model(*model_inputs(x, lengths, slice(i, i + EVAL_CHUNK)))
        total += loss_fn(out, t[i:i + EVAL_CHUNK]) * len(out)
        if info.task == "classification":
            preds.append(predicted_class(out, info))
    loss = total / max(len(x), 1)
    if not preds:
        return loss, torch.full((), float("nan"), device=x.device), torch.empty(0)
    pred = torch.cat(preds)
    return loss, (pred == y).float().mean(), pred


def model_inputs(x: torch.Tensor, lengths: torch.Tensor | None, idx, idx_cpu=None) -> tuple:
    """The model's arguments for samples idx: x[idx], and for padded sequences their lengths,
    which stay on the CPU (indexed by idx_cpu, the same samples) so no step waits on a copy."""
    if lengths is None:
        return (x[idx],)
    return x[idx], lengths[idx if idx_cpu is None else idx_cpu]


def predicted_class(out: torch.Tensor, info: LossInfo) -> torch.Tensor:
    """Class indices from the model's output: threshold a single output, else argmax."""
    if out.shape[1] == 1:
        return (out[:, 0] > (0.5 if info.output == "sigmoid" else 0.0)).long()
    return out.argmax(1)


def fit(model: nn.Module, ds: datasets.Dataset, spec: ExperimentSpec, device: torch.device,
        callbacks: Sequence[Callback] = (), control: Control | None = None,
        changes: Sequence[SettingChange] = (), resume: dict | None = None) -> Result:
    """Train model on ds as spec says, emitting events; returns how it ended. changes are
    settings changed at given steps (as a run recorded them, or the CLI's --change); resume is
    a keyframe (keyframes.deserialise) to go on from, with spec's settings."""
    loop = _Loop(model, ds, spec, device, list(callbacks), control or Control(), changes)
    if resume is not None:
        loop.restore(resume)
    return loop.run()


def _param_groups(key: str) -> Callable[[_Loop, float], None]:
    def apply(loop: _Loop, value: float) -> None:
        for group in loop.optimizer.param_groups:
            group[key] = value
    return apply


# How each changeable setting (spec.CHANGEABLE) takes its new value in a running loop.
APPLY_CHANGE: dict[str, Callable[[_Loop, float], None]] = {
    "optimizer.lr": _param_groups("lr"),
    "optimizer.momentum": _param_groups("momentum"),
    "optimizer.weight_decay": _param_groups("weight_decay"),
    "train.l1": lambda loop, v: setattr(loop, "l1", v),
    "train.l2": lambda loop, v: setattr(loop, "l2", v),
}


class _Loop:
    """The state of one fit; split into methods so the hot loop reads as the reference's."""

    def __init__(self, model, ds, spec, device, callbacks, control, changes=()):
        self.model, self.ds, self.spec, self.device = model, ds, spec, device
        self.schedule = sorted(changes, key=lambda c: c.step)  # changes still to make
        self.l1, self.l2 = spec.train.l1, spec.train.l2
        self.callbacks, self.control = callbacks, control
        self.info = loss_info(spec.loss.name, spec.task)
        self.loss_fn = LOSS_MODULES[spec.loss.name]()
        target = TARGETS[self.info.target]
        self.t_train = target(ds.y_train, ds.n_classes)
        self.t_test = target(ds.y_test, ds.n_classes)
        k = min(len(ds.x_train), EVAL_TRAIN_MAX)
        self.eval_train = (ds.x_train[:k], self.t_train[:k], ds.y_train[:k])
        self.eval_lengths = None if ds.lengths_train is None else ds.lengths_train[:k]
        self.extra = {}  # a naive baseline's test loss, when the dataset has one
        if ds.baseline is not None:
            with torch.no_grad():
                self.extra["baseline_test_loss"] = self.loss_fn(ds.baseline[1], self.t_test).item()
        self.plan = Plan.of(spec, len(ds.x_train), k + len(ds.x_test))
        self.optimizer = OPTIMIZER_BUILDERS[spec.optimizer.name](model.parameters(), spec.optimizer)
        self.params = list(model.parameters())
        self.perm_gen = torch.Generator().manual_seed(spec.seed)
        self.probe = instruments.Probe(model, ds.x_train[:SAMPLE_MAX])
        self.fused = None if ds.lengths_train is None else False  # built at the first step
        self.view_fn = instruments.GRID_VIEWS.get((ds.kind, ds.task))
        self.view_ctx = None if self.view_fn is None else instruments.ViewContext(
            torch.cat([ds.x_train, ds.x_test]), self.info.output, ds.n_classes, ds,
        )  # images have no grid view: no copy of the whole set (220 MB for FashionMNIST)
        self.network = self.view_ctx is not None and unitgrid.applies(model, ds.in_features,
                                                                       ds.kind)
        self.tiles = first_layer.applies(model, ds.kind, ds.image_shape)  # image sets' weights
        self.losses = torch.zeros(BUFFER, device=device)
        self.penalties = torch.zeros(3, BUFFER, device=device)  # penalty, its L1 and L2 parts
        self.grads: torch.Tensor | None = None
        self.pending = 0  # steps in the buffers not yet flushed
        self.step = 0
        self.history: list[dict] = []
        self.best = (math.inf, 0)  # (test loss, step) for early stopping
        self.since_best = 0  # evaluations since the best test loss
        self.last_flush = self.last_view = self.last_probe = 0.0
        self.started = time.monotonic()
        self.applied: list[SettingChange] = []  # changes made so far, for keyframes
        self.kf_steps: set[int] = set()
        for cb in callbacks:  # (a callback need not derive from Callback)
            wanted = getattr(cb, "keyframe_steps", None)
            if wanted is not None:
                self.kf_steps.update(wanted(self.plan.total_steps, keyframes.state_bytes(model)))
        self.kf_last = -1  # the step of the last keyframe taken
        self.offset = 0  # the next sample of the epoch's order to train on
        self.epoch_rng: torch.Tensor | None = None  # the shuffling generator before this epoch

    # events
    def emit(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def run(self) -> Result:
        self.emit("on_start", self.start_info())
        status, message = "finished", ""
        try:
            message = self.train()
        except Stopped:
            status, message = "stopped", f"Stopped at step {self.step:,}."
        except Diverged as e:
            status, message = "diverged", str(e)
        except Exception as e:  # noqa: BLE001 - any failure ends this run, not the app
            status, message = "failed", failure_message(e)
        record = self.finish(status)
        if self.kf_steps and status in ("finished", "stopped") and self.kf_last != self.step:
            self.keyframe()  # the final step's
        self.emit("on_end", status, message, record)
        return Result(status, message, record, self.history, dict(self.extra))

    def start_info(self) -> dict:
        return {
            "total_steps": self.plan.total_steps, "steps_per_epoch": self.plan.steps_per_epoch,
            "eval_every": self.plan.eval_every, "device": device_label(self.device),
            "model": models.printout(self.model), "parameters": models.parameter_count(self.model),
            "activation_names": self.probe.names, "activation_kinds": self.probe.kinds,
            "grad_names": self.probe.grad_names,
            "baseline": (self.ds.baseline[0], self.extra["baseline_test_loss"])
            if self.ds.baseline is not None else None,
            "eval_extra": [f"test_acc_{name}" for name in self.ds.subsets],
        }  # fmt: skip

    def train(self) -> str:
        """The loop: epochs of shuffled index batches, flushing and evaluating as planned."""
        x, t = self.ds.x_train, self.t_train
        bs, plan = self.spec.train.batch_size, self.plan
        l1, l2 = self.l1, self.l2
        self.model.train()
        start = self.offset
        if self.step == 0 and 0 in self.kf_steps:
            self.keyframe()
        while self.step < plan.total_steps:
            self.epoch_rng = self.perm_gen.get_state() if self.kf_steps else None
            perm_cpu = torch.randperm(len(x), generator=self.perm_gen)
            perm = perm_cpu.to(self.device)
            self.emit("on_epoch", self.step // plan.steps_per_epoch + 1, perm)
            for i in range(start, len(x), bs):
                if self.control.must_wait():
                    self.flush(force=True)
                self.control.gate()
                if self.control.changes or (self.schedule and
                                            self.schedule[0].step <= self.step + 1):
                    self.apply_changes()
                    l1, l2 = self.l1, self.l2
                # flush (and sample gradient norms) four times a second and at every evaluation
                evaluating = (self.step + 1) % plan.eval_every == 0
                sample = evaluating or time.monotonic() - self.last_flush >= FLUSH_SECONDS
                idx = perm[i:i + bs]
                fast = self.fast(l1, l2)
                if fast:  # a small MLP's step, fused: the same losses, bit for bit
                    data_loss = self.fused(x, t, perm, i, bs)
                else:
                    out = self.model(*model_inputs(x, self.ds.lengths_train, idx,
                                                   perm_cpu[i:i + bs]))
                    data_loss = self.loss_fn(out, t[idx])
                    loss = data_loss
                    if l1 or l2:
                        terms = penalty_terms(self.params, l1, l2)
                        loss = data_loss + terms[0]
                        self.penalties[:, self.pending] = terms.detach()
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                if sample:
                    self.grads = self.probe.grad_norms()
                if not fast:
                    self.optimizer.step()
                self.losses[self.pending] = data_loss.detach()
                self.pending += 1
                self.step += 1
                if sample or self.pending == BUFFER:
                    self.flush(probe=evaluating)
                if self.step % plan.eval_every == 0 and self.step < plan.total_steps:
                    if self.evaluate_now():
                        return self.early_stop_message()
                self.offset = i + bs
                if self.step in self.kf_steps:
                    self.keyframe()
                if self.step >= plan.total_steps:
                    break
            start = 0
        return ""

    def keyframe(self) -> None:
        """Copy (on the device, no host sync) everything needed to go on from this step."""
        if self.offset >= len(self.ds.x_train) or self.epoch_rng is None:  # the epoch is done
            rng, offset = self.perm_gen.get_state(), 0  # (or none began): the next shuffles
            # from the generator as it is now
        else:
            rng, offset = self.epoch_rng, self.offset
        dropout = models.dropout_generator(self.model)
        self.kf_last = self.step
        copied = {
            "step": self.step, "offset": offset, "perm_rng": rng,
            "dropout_rng": None if dropout is None else dropout.get_state(),
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer_name": type(self.optimizer).__name__,
            "optimizer": keyframes.copy_optimizer(self.optimizer, self.fused),
            "best": [float(self.best[0]), int(self.best[1])], "since_best": self.since_best,
            "changes": [c.model_dump() for c in self.applied],
        }  # fmt: skip
        for cb in self.callbacks:
            if hasattr(cb, "on_keyframe"):
                cb.on_keyframe(copied)

    def restore(self, frame: dict) -> None:
        """Go on from a keyframe: its weights, optimiser state (when the optimiser is the
        same kind), generators, place in the epoch and counters; the settings stay the spec's."""
        self.model.load_state_dict(frame["model"])
        keyframes.restore_optimizer(self.optimizer, frame)
        self.step = self.kf_last = int(frame["step"])
        self.perm_gen.set_state(frame["perm_rng"])
        self.offset = int(frame["offset"])
        dropout = models.dropout_generator(self.model)
        if dropout is not None and frame["dropout_rng"] is not None:
            dropout.set_state(frame["dropout_rng"])
        self.best, self.since_best = (frame["best"][0], frame["best"][1]), frame["since_best"]
        self.applied = []  # the changes made before the keyframe are in the spec it goes on
        # with (branch.spec_at): its own keyframes list only the changes made from here on
        self.schedule = [c for c in self.schedule if c.step > self.step]

    def fast(self, l1: float, l2: float) -> bool:
        """Whether this step takes the fused path (fused.py); when it no longer can (a penalty,
        a new optimiser or layer mid-run), its optimiser state goes back to the eager step."""
        if self.fused is None:
            self.fused = fused.fused_step(self.model, self.loss_fn, self.optimizer,
                                          self.ds.x_train, self.t_train) or False
        if not self.fused:
            return False
        if not (l1 or l2) and self.fused.current(self.model, self.optimizer):
            return True
        self.fused.release()
        self.fused = False
        return False

    def apply_changes(self) -> None:
        """Make the scheduled changes due at the next step and those asked for meanwhile."""
        due = []
        while self.schedule and self.schedule[0].step <= self.step + 1:
            due.append(self.schedule.pop(0))
        due += [SettingChange(step=self.step + 1, setting=k, value=v)
                for k, v in self.control.take_changes()]
        for change in due:
            APPLY_CHANGE[change.setting](self, change.value)
            self.applied.append(change)
            self.emit("on_change", change)

    def flush(self, force: bool = False, probe: bool = False) -> None:
        """Send the buffered step losses and the instrument samples to the callbacks; the
        activations are probed when asked, when forced, or once PROBE_SECONDS have passed."""
        if self.pending == 0 and not force:
            return
        n = self.pending
        now = time.monotonic()
        acts = None
        if probe or force or now - self.last_probe >= PROBE_SECONDS:
            acts = self.probe.activations()
            self.last_probe = now
        view = network = tiles = None
        due = now - self.last_view >= VIEW_SECONDS or force
        if self.view_fn is not None and due:
            view = self.view_fn(self.model, self.view_ctx)
            if self.network:
                network = unitgrid.network_view(self.model, self.view_ctx)
            self.last_view = now
        if self.tiles and due:  # an image model's first-layer weights, at the view's rate
            tiles = first_layer.weight_tiles(self.model, self.ds.image_shape)
            self.last_view = now
        host = torch.cat([self.losses[:n], self.penalties[:, :n].reshape(-1)]).tolist()  # one sync
        self.pending = 0
        self.penalties.zero_()
        first = self.step - n + 1
        losses = host[:n]
        bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
        chunk = {
            "step": list(range(first, self.step + 1)), "loss": losses, "penalty": host[n:2 * n],
            "l1": host[2 * n:3 * n], "l2": host[3 * n:],
            "progress": self.progress(time.monotonic()),  # after the sync: device time counted
            "view": view, "network": network, "tiles": tiles, "activations": None, "grads": None,
        }  # fmt: skip
        if acts is not None:
            stats, values = acts
            chunk["activations"] = {"stats": stats.cpu().numpy(),
                                    "hist": instruments.histograms(values.cpu().numpy())}
        if self.grads is not None:
            chunk["grads"] = self.grads.cpu().numpy()
            self.grads = None
        self.last_flush = now
        self.emit("on_flush", chunk)
        if bad is not None:
            raise Diverged(divergence_message(first + bad, self.spec))

    def progress(self, now: float) -> dict:
        elapsed = now - self.started
        rate = self.step * self.spec.train.batch_size / elapsed if elapsed > 0 else 0.0
        left = self.plan.total_steps - self.step
        steps_per_s = self.step / elapsed if elapsed > 0 else 0.0
        return {
            "step": self.step, "epoch": self.epoch(), "total_steps": self.plan.total_steps,
            "samples_per_s": rate, "elapsed_s": elapsed,
            "eta_s": left / steps_per_s if steps_per_s > 0 else None,
        }  # fmt: skip

    def epoch(self) -> int:
        return max(1, math.ceil(self.step / self.plan.steps_per_epoch))

    def evaluate_now(self) -> bool:
        """Evaluate on the train sample and the test set; True when early stopping triggers."""
        self.flush()
        self.model.eval()
        try:
            tr_loss, tr_acc, _ = evaluate(self.model, *self.eval_train, self.loss_fn, self.info,
                                          self.eval_lengths)
            te_loss, te_acc, pred = evaluate(self.model, self.ds.x_test, self.t_test,
                                             self.ds.y_test, self.loss_fn, self.info,
                                             self.ds.lengths_test)
            view = None
            if self.ds.kind == "image":
                view = instruments.confusion(pred, self.ds.y_test, self.ds.n_classes)
        finally:
            self.model.train()
        subsets = [(pred[i] == self.ds.y_test[i]).float().mean() for i in self.ds.subsets.values()
                   if len(pred)]  # fmt: skip
        values = torch.stack([tr_loss, te_loss, tr_acc, te_acc, *subsets]).tolist()
        record = {"step": self.step, "epoch": self.epoch(),
                  "train_loss": values[0], "test_loss": values[1]}  # fmt: skip
        if self.spec.task == "classification":
            record |= {"train_acc": values[2], "test_acc": values[3]}
            record |= {f"test_acc_{n}": v for n, v in zip(self.ds.subsets, values[4:])}
        if view is not None:
            record["view"] = view
        self.history.append({k: v for k, v in record.items() if k != "view"})
        self.emit("on_eval", record)
        if not math.isfinite(values[1]):
            raise Diverged(divergence_message(self.step, self.spec, where="test loss"))
        if values[1] < self.best[0]:
            self.best, self.since_best = (values[1], self.step), 0
        else:
            self.since_best += 1
        return 0 < self.spec.train.patience <= self.since_best

    def early_stop_message(self) -> str:
        return (f"Stopped early at step {self.step:,}: the test loss has not improved for "
                f"{self.spec.train.patience} evaluations (best {self.best[0]:.4g} at step "
                f"{self.best[1]:,}).")  # fmt: skip

    def finish(self, status: str) -> dict | None:
        """A last flush and evaluation so the final values are on record (not after a failure)."""
        if status == "failed":
            return self.history[-1] if self.history else None
        try:
            self.flush(force=True)
        except Diverged:
            pass
        if status != "diverged" and (not self.history or self.history[-1]["step"] != self.step):
            if self.step > 0:
                try:
                    self.evaluate_now()
                except Diverged:
                    pass
        return self.history[-1] if self.history else None


def divergence_message(step: int, spec: ExperimentSpec, where: str = "training loss") -> str:
    """A sentence naming the step where the loss blew up and what to change."""
    lr = spec.optimizer.lr
    return (f"The {where} became NaN or infinite at step {step:,}: training diverged. "
            f"Try a lower learning rate (now {lr:g}; e.g. {lr / 10:g}), a smaller L1/L2 "
            f"penalty, or a different optimiser such as Adam.")  # fmt: skip


def failure_message(error: BaseException) -> str:
    """An exception from the loop as a sentence for the page."""
    if isinstance(error, (datasets.DataUnavailable, DeviceUnavailable)):
        return str(error)  # already a sentence for the page
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower():
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return "failed: out of GPU memory. Try a smaller batch size or a smaller model."
    return f"{type(error).__name__}: {text}"


# --- one call from spec to result --------------------------------------------------------------


def prepare(spec: ExperimentSpec, device: torch.device | None = None,
            ds: datasets.Dataset | None = None, state: dict | None = None):
    """(dataset, model, device) for a spec: data on the device, weights initialised.

    A race passes the dataset and initial state_dict it built once, so contenders share both.
    """
    device = device or resolve_device(spec.train.device)
    ds = ds if ds is not None else datasets.build(spec.data, spec.seed, device)
    generator = torch.Generator().manual_seed(spec.seed)
    with models.GLOBAL_RNG:  # constructing modules draws from torch's global RNG
        model = network.build(spec, ds.in_features, ds.n_classes, generator)
    model = model.to(device)
    if state is not None:
        model.load_state_dict(state)
    # On CPU dropout continues the init generator, exactly as a script after manual_seed does.
    dropout_gen = generator if device.type == "cpu" else \
        torch.Generator(device=device).manual_seed(spec.seed)
    models.set_dropout_generator(model, dropout_gen)
    return ds, model, device


def run_spec(spec: ExperimentSpec, callbacks: Sequence[Callback] = (),
             control: Control | None = None, device: torch.device | None = None,
             changes: Sequence[SettingChange] = ()) -> Result:
    """Build the data and model for spec and fit; the whole experiment in one call."""
    ds, model, device = prepare(spec, device)
    return fit(model, ds, spec, device, callbacks, control, changes)
