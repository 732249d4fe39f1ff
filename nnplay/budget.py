"""A run's compute budget: its cost estimated before it starts (work per step times steps, in
seconds at this machine's measured speed) and refused above NNPLAY_MAX_RUN_SECONDS; a run whose
own training time passes the limit is stopped by the manager (see runs.Run.on_flush)."""

from __future__ import annotations

import functools
import math
import threading
import time
from dataclasses import dataclass

from nnplay import limits as limits_
from nnplay import sizes
from nnplay.limits import LimitExceeded, Limits, env_name
from nnplay.spec import DEFAULT_INPUTS, ExperimentSpec

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4, "LSTMCell": 4}  # weight blocks of one recurrent cell


@dataclass(frozen=True)
class Speed:
    """This machine's speed for one run: multiply-adds per second and a step's fixed cost."""

    flops_per_s: float
    step_s: float  # Python, optimiser and bookkeeping of one step of a tiny model


def _matmul_flops(spec: ExperimentSpec, in_features: int) -> tuple[float, float]:
    """(flops of one training sample's forward pass, of its recurrent part per time step)."""
    d, rnn = spec.data, spec.model.recurrent
    width, flops, per_step = in_features, 0.0, 0.0
    if d.inputs != DEFAULT_INPUTS:  # engineered inputs: the first layer reads one per feature
        width = len(d.inputs)
    if rnn is not None:
        width = rnn.embedding_dim if d.info.kind == "tokens" else max(in_features, 1)
        dirs = 2 if rnn.bidirectional else 1
        for _ in range(rnn.num_layers):
            per_step += 2 * GATES.get(rnn.cell, 4) * rnn.hidden_size * (width + rnn.hidden_size) \
                * dirs
            width = rnn.hidden_size * dirs
    for layer in spec.model.layers:
        if layer.type == "linear":
            flops += 2 * width * layer.units
            width = layer.units
    flops += 2 * width * max(d.n_classes if spec.task == "classification" else d.outputs, 1)
    return flops, per_step


def estimate_seconds(spec: ExperimentSpec, speed: Speed, n_train: int | None = None) -> float:
    """Seconds this run should take to train here: its steps (forward and backward, three
    forward passes' work each) plus its evaluations (forward passes over the evaluation sets)."""
    n = n_train if n_train is not None else sizes.estimated_train_size(spec)
    d = spec.data
    features = d.info.features or 2
    sample, recurrent = _matmul_flops(spec, features)
    length = d.length or 1
    per_sample = sample + recurrent * length
    steps = limits_.total_steps(spec, n)
    bs = spec.train.batch_size
    n_test = d.info.test_samples if not d.subset else max(1000, d.subset // 4)
    n_eval = min(n, 2000) + (n_test or round(n * (1 - d.train_fraction) / d.train_fraction))
    every = spec.train.eval_every or max(math.ceil(steps / 200), math.ceil(n_eval / (2 * bs)), 1)
    evals = steps // every + 1
    work = steps * 3 * per_sample * bs + evals * per_sample * n_eval
    return steps * speed.step_s + work / speed.flops_per_s


def check(spec: ExperimentSpec, limits: Limits, speed: Speed) -> float:
    """The run's estimated seconds; LimitExceeded (one sentence) above max_run_seconds."""
    seconds = estimate_seconds(spec, speed)
    if seconds > limits.max_run_seconds:
        raise LimitExceeded(
            f"This run would train for about {duration(seconds)} on this server (estimated from "
            f"its size and this machine's speed); each run may take at most "
            f"{duration(limits.max_run_seconds)}, so lower the epochs, the layers' width or "
            f"the data; {env_name('max_run_seconds')} sets this limit.")
    return seconds


def over_budget(trained_s: float, limits: Limits) -> str | None:
    """The stop note for a run that has trained longer than it may, else None."""
    if trained_s <= limits.max_run_seconds:
        return None
    return (f"Stopped: time budget. It trained for {duration(trained_s)}, the most one run may "
            f"on this server ({env_name('max_run_seconds')}).")


def duration(seconds: float) -> str:
    """'40 s', '12 min', '3 h 20 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" + (f" {s % 60} s" if s < 600 and s % 60 else "")
    return f"{s // 3600} h" + (f" {s % 3600 // 60} min" if s % 3600 // 60 else "")


@functools.cache
def measured(threads: int) -> Speed:
    """This machine's Speed with `threads` intra-op threads, measured once per process in a
    worker thread (the page's thread runs no torch)."""
    out: list[Speed] = []
    worker = threading.Thread(target=lambda: out.append(_measure(threads)), name="calibrate")
    worker.start()
    worker.join()
    return Speed(max(out[0].flops_per_s, FLOOR.flops_per_s), min(out[0].step_s, FLOOR.step_s))


# A modest 2-core laptop's speed. A measurement taken while the server is busy (a class pressing
# Train, a test suite) reads slow, and the server would then refuse runs it trains in seconds on
# a quiet minute: the refusal uses the faster of the two, and the wall-clock stop still holds.
FLOOR = Speed(flops_per_s=5e9, step_s=2e-3)


def _measure(threads: int) -> Speed:
    """Best of three: a 256-wide matmul's flop rate, and a tiny model's Adam step."""
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(256, 256)
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(10):
            a @ a
        rates.append(10 * 2 * 256**3 / max(time.perf_counter() - t0, 1e-9))
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(16, 2), torch.randint(0, 2, (16,))
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(5):  # the first steps import and allocate; they are not the step's cost
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    steps = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(20):
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        steps.append((time.perf_counter() - t0) / 20)
    return Speed(max(rates), min(steps))
