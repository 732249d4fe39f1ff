"""Tests for nnplay.train and nnplay.instruments: determinism, the engine against a plain
PyTorch loop (micrograd style), evaluation modes, divergence, failures, thread control, the
step buffer, and the sampled instruments."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnplay import data, instruments, models, train
from nnplay.spec import ExperimentSpec, loss_info

torch.set_num_threads(1)

CPU = torch.device("cpu")
SMALL = {"data.n_samples": 120, "train.batch_size": 16, "train.max_steps": 60}


def make_spec(**changes: object) -> ExperimentSpec:
    """A tiny spiral experiment (60 training points, 60 steps), with changes applied."""
    return ExperimentSpec().with_changes({**SMALL, **changes})


class Recorder(train.Callback):
    """Keeps every event a fit emits."""

    def __init__(self) -> None:
        self.start: dict = {}
        self.chunks: list[dict] = []
        self.evals: list[dict] = []
        self.epochs: list[tuple[int, torch.Tensor]] = []
        self.end: tuple | None = None
        self.steps_seen = 0
        self.changed = threading.Condition()

    def on_start(self, info: dict) -> None:
        self.start = info

    def on_epoch(self, epoch: int, order: torch.Tensor) -> None:
        self.epochs.append((epoch, order.clone()))

    def on_flush(self, chunk: dict) -> None:
        with self.changed:
            self.chunks.append(chunk)
            self.steps_seen = chunk["progress"]["step"]
            self.changed.notify_all()

    def on_eval(self, record: dict) -> None:
        self.evals.append(dict(record))

    def on_end(self, status: str, message: str, record: dict | None) -> None:
        self.end = (status, message, record)

    @property
    def losses(self) -> list[float]:
        return [v for c in self.chunks for v in c["loss"]]

    @property
    def steps(self) -> list[int]:
        return [s for c in self.chunks for s in c["step"]]

    def wait_for_step(self, step: int, timeout: float = 20.0) -> bool:
        """Block until a flush reports step (a paused loop flushes before it waits)."""
        with self.changed:
            return self.changed.wait_for(
                lambda: self.chunks and self.steps_seen >= step, timeout
            )


def run(spec: ExperimentSpec, control: train.Control | None = None
        ) -> tuple[train.Result, Recorder]:
    rec = Recorder()
    result = train.run_spec(spec, [rec], control, device=CPU)
    return result, rec


# --- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model.layers": [{"type": "linear", "units": 8}, {"type": "dropout", "p": 0.3},
                          {"type": "activation", "name": "ReLU"}],
         "train.l1": 0.001, "train.l2": 0.01, "optimizer.name": "SGD", "optimizer.lr": 0.1,
         "optimizer.momentum": 0.9},
    ],
    ids=["plain", "dropout-l1-l2"],
)
def test_same_spec_gives_identical_histories(changes: dict) -> None:
    spec = make_spec(**{"train.eval_every": 10, **changes})
    first, rec1 = run(spec)
    second, rec2 = run(spec)
    assert first.status == second.status == "finished"
    assert len(first.history) == 6
    assert first.history == second.history  # bit for bit
    assert rec1.losses == rec2.losses and len(rec1.losses) == 60
    if "train.l1" in changes:
        assert all(p > 0 for c in rec1.chunks for p in c["penalty"])
        for c in rec1.chunks:  # the loss chart draws the two parts apart
            assert all(a > 0 and b > 0 for a, b in zip(c["l1"], c["l2"], strict=True))
            assert np.allclose(np.add(c["l1"], c["l2"]), c["penalty"], rtol=1e-6)
    other, _ = run(spec.with_changes({"seed": spec.seed + 1}))
    assert other.history != first.history


# --- the reference test: nnplay against a hand-written PyTorch loop -----------------------------

PLAIN_ACTIVATIONS = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid}


def plain_model(spec: ExperimentSpec, in_features: int, out_features: int) -> nn.Sequential:
    """The spec's network from plain torch.nn layers, built in order (after manual_seed)."""
    layers: list[nn.Module] = []
    width = in_features
    for layer in spec.model.layers:
        if layer.type == "linear":
            layers.append(nn.Linear(width, layer.units))
            width = layer.units
        elif layer.type == "dropout":
            layers.append(nn.Dropout(layer.p))
        else:
            layers.append(PLAIN_ACTIVATIONS[layer.name]())
    layers.append(nn.Linear(width, out_features))
    if spec.loss.name in ("NLLLoss", "KLDivLoss"):
        layers.append(nn.LogSoftmax(dim=-1))
    elif spec.loss.name == "BCELoss":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def plain_loop(spec: ExperimentSpec, ds: data.Dataset) -> list[float]:
    """The reference's training loop, written out by hand: per-step data losses."""
    seed, bs, o, t = spec.seed, spec.train.batch_size, spec.optimizer, spec.train
    torch.manual_seed(seed)
    if spec.task == "regression":
        out_features, target = 1, ds.y_train
    elif spec.loss.name in ("BCEWithLogitsLoss", "BCELoss"):
        out_features, target = 1, ds.y_train.float().unsqueeze(1)
    elif spec.loss.name in ("KLDivLoss", "MSELoss", "L1Loss"):
        out_features, target = ds.n_classes, F.one_hot(ds.y_train, ds.n_classes).float()
    else:
        out_features, target = ds.n_classes, ds.y_train
    model = plain_model(spec, ds.in_features, out_features)
    criterion = {
        "CrossEntropyLoss": nn.CrossEntropyLoss(), "NLLLoss": nn.NLLLoss(),
        "BCEWithLogitsLoss": nn.BCEWithLogitsLoss(), "BCELoss": nn.BCELoss(),
        "KLDivLoss": nn.KLDivLoss(reduction="batchmean"), "MSELoss": nn.MSELoss(),
    }[spec.loss.name]  # fmt: skip
    if o.name == "SGD":
        optimizer = torch.optim.SGD(model.parameters(), lr=o.lr, momentum=o.momentum,
                                    nesterov=o.nesterov)  # fmt: skip
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=o.lr, betas=(o.beta1, o.beta2))
    g = torch.Generator().manual_seed(seed)
    x, n = ds.x_train, len(ds.x_train)
    losses: list[float] = []
    model.train()
    while len(losses) < t.max_steps:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = criterion(model(x[idx]), target[idx])
            losses.append(loss.item())
            if t.l1 or t.l2:
                flat = torch.cat([p.view(-1) for p in model.parameters()])
                loss = loss + t.l1 * torch.norm(flat, 1) + t.l2 * torch.norm(flat, 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if len(losses) == t.max_steps:
                break
    return losses


REFERENCE_CASES = {
    "cross-entropy-adam": {"data.classes": 3},
    "nll-sgd-momentum-dropout": {
        "loss.name": "NLLLoss", "data.classes": 3, "optimizer.name": "SGD",
        "optimizer.lr": 0.1, "optimizer.momentum": 0.9, "optimizer.nesterov": True,
        "model.layers": [{"type": "linear", "units": 12}, {"type": "dropout", "p": 0.25},
                         {"type": "activation", "name": "ReLU"},
                         {"type": "linear", "units": 12}, {"type": "dropout", "p": 0.5},
                         {"type": "activation", "name": "ReLU"}],
    },
    "bce-with-logits": {"data.name": "circle", "loss.name": "BCEWithLogitsLoss"},
    "bce-sigmoid": {"data.name": "xor", "loss.name": "BCELoss", "optimizer.lr": 0.01},
    "mse-regression-l1-l2": {
        "data.name": "sine", "loss.name": "MSELoss", "train.l1": 0.001, "train.l2": 0.01,
        "optimizer.name": "SGD", "optimizer.lr": 0.05,
    },
    "kl-div": {"data.name": "gauss", "data.classes": 4, "loss.name": "KLDivLoss"},
    "mse-one-hot-classification": {"data.name": "moons", "loss.name": "MSELoss"},
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_engine_matches_a_plain_pytorch_loop(case: str) -> None:
    spec = make_spec(**REFERENCE_CASES[case], seed=3)
    result, rec = run(spec)
    assert result.status == "finished", result.message
    ds = data.build(spec.data, spec.seed, CPU)
    expected = plain_loop(spec, ds)
    assert rec.steps == list(range(1, 61))
    assert len(rec.losses) == len(expected) == 60
    for step, (ours, theirs) in enumerate(zip(rec.losses, expected), start=1):
        assert math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-6), (step, ours, theirs)
    assert rec.losses[-1] != rec.losses[0]  # it trained


def test_epoch_orders_are_the_generator_permutations() -> None:
    spec = make_spec(**{"train.max_steps": 0, "train.epochs": 3})
    _, rec = run(spec)
    g = torch.Generator().manual_seed(spec.seed)
    assert [e for e, _ in rec.epochs] == [1, 2, 3]
    for _, order in rec.epochs:
        assert torch.equal(order, torch.randperm(60, generator=g))


# --- evaluation ---------------------------------------------------------------------------------


class ModeSpy(nn.Module):
    """Records the mode the model was in at each forward, grad mode included."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
        return x


def test_evaluation_uses_eval_mode_and_restores_train_mode() -> None:
    spec = make_spec(**{
        "model.layers": [{"type": "linear", "units": 16}, {"type": "dropout", "p": 0.5},
                         {"type": "activation", "name": "ReLU"}],
        "train.max_steps": 20, "train.eval_every": 5,
    })  # fmt: skip
    ds, model, device = train.prepare(spec, CPU)
    spy = ModeSpy()
    model = nn.Sequential(OrderedDict([("spy", spy), *model.named_children()]))
    result = train.fit(model, ds, spec, device)
    assert result.status == "finished" and len(result.history) == 4
    # training forwards run in train mode with autograd; every other forward (evaluations,
    # activation samples, the boundary) in eval mode under no_grad
    assert set(spy.calls) == {(True, True), (False, False)}
    assert model.training and model.dropout2.training  # train mode restored after each
    # the last record was evaluated with dropout off: evaluating the final model in eval mode
    # gives the same numbers, twice over
    info = loss_info(spec.loss.name, spec.task)
    t_test = train.TARGETS[info.target](ds.y_test, ds.n_classes)
    loss_fn = train.LOSS_MODULES[spec.loss.name]()
    model.eval()
    first = train.evaluate(model, ds.x_test, t_test, ds.y_test, loss_fn, info)
    second = train.evaluate(model, ds.x_test, t_test, ds.y_test, loss_fn, info)
    assert first[0].item() == second[0].item() == result.record["test_loss"]
    assert first[1].item() == result.record["test_acc"]
    model.train()
    with torch.no_grad():
        noisy = {nn.functional.cross_entropy(model(ds.x_test), ds.y_test).item() for _ in range(3)}
    assert len(noisy) > 1  # in train mode dropout would have made it vary


def test_eval_records_have_the_expected_keys() -> None:
    result, rec = run(make_spec(**{"train.eval_every": 20}))
    assert [r["step"] for r in result.history] == [20, 40, 60]
    for r in result.history:
        assert set(r) == {"step", "epoch", "train_loss", "test_loss", "train_acc", "test_acc"}
        assert 0.0 <= r["test_acc"] <= 1.0
    assert result.record == result.history[-1] and rec.end[2] == result.record
    assert [r["epoch"] for r in result.history] == [5, 10, 15]  # 4 steps per epoch
    regression, _ = run(make_spec(**{"data.name": "sine", "loss.name": "MSELoss"}))
    assert set(regression.record) == {"step", "epoch", "train_loss", "test_loss"}


def test_start_info() -> None:
    _, rec = run(make_spec(**{"data.classes": 3}))
    info = rec.start
    assert info["total_steps"] == 60 and info["steps_per_epoch"] == 4
    assert info["device"].startswith("CPU")
    assert info["activation_names"] == ["relu2 (ReLU)", "relu4 (ReLU)"]
    assert info["activation_kinds"] == ["relu", "relu"]
    assert info["grad_names"] == ["fc1", "fc3", "out"]
    assert info["parameters"] == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 3 + 3)
    assert f"{info['parameters']:,}" in info["model"]


# --- how runs end -------------------------------------------------------------------------------


def test_divergence_names_the_step_and_suggests_a_lower_rate() -> None:
    spec = make_spec(**{
        "data.name": "sine", "loss.name": "MSELoss", "optimizer.name": "SGD",
        "optimizer.lr": 10.0, "train.max_steps": 500,
        "model.layers": [{"type": "linear", "units": 32}, {"type": "activation", "name": "ReLU"}],
    })  # fmt: skip
    result, rec = run(spec)
    assert result.status == "diverged" and rec.end[0] == "diverged"
    assert "NaN or infinite at step " in result.message
    step = int(result.message.split("at step ")[1].split(":")[0].replace(",", ""))
    assert 1 <= step < 500
    bad = [s for s, v in zip(rec.steps, rec.losses) if not math.isfinite(v)]
    assert bad and bad[0] == step  # the first non-finite training loss
    assert "lower learning rate (now 10; e.g. 1)" in result.message


def test_an_exception_in_the_loop_ends_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(nn.Module):
        def forward(self, out, target):
            raise RuntimeError("the loss broke\nsecond line")

    monkeypatch.setitem(train.LOSS_MODULES, "CrossEntropyLoss", Broken)
    result, rec = run(make_spec())
    assert result.status == "failed"
    assert result.message == "RuntimeError: the loss broke"
    assert rec.end[:2] == ("failed", "RuntimeError: the loss broke")


def test_a_callback_failure_ends_failed_too() -> None:
    class Exploding(train.Callback):
        def on_eval(self, record: dict) -> None:
            raise ValueError("chart went wrong")

    result = train.run_spec(make_spec(), [Exploding()], device=CPU)
    assert (result.status, result.message) == ("failed", "ValueError: chart went wrong")


def test_failure_message() -> None:
    assert train.failure_message(KeyError("x")) == "KeyError: 'x'"
    assert train.failure_message(RuntimeError()) == "RuntimeError: RuntimeError"
    oom = train.failure_message(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert "out of GPU memory" in oom and "smaller batch size" in oom


# --- control from another thread ----------------------------------------------------------------


def start_fit(spec: ExperimentSpec, control: train.Control) -> tuple[threading.Thread, Recorder,
                                                                   list[train.Result]]:
    rec, out = Recorder(), []

    def target() -> None:
        torch.set_num_threads(1)  # a new thread does not inherit the setting
        out.append(train.run_spec(spec, [rec], control, device=CPU))

    thread = threading.Thread(target=target)
    thread.start()
    return thread, rec, out


def test_pause_step_resume() -> None:
    spec = make_spec(**{"train.max_steps": 40})
    control = train.Control()
    control.pause()
    thread, rec, out = start_fit(spec, control)
    try:
        assert rec.wait_for_step(0)
        time.sleep(0.2)
        assert rec.steps_seen == 0 and rec.losses == []  # paused before the first step
        control.step()
        assert rec.wait_for_step(1)
        control.step()
        assert rec.wait_for_step(2)
        time.sleep(0.3)
        assert rec.steps_seen == 2 and rec.steps == [1, 2]  # exactly one step per Step
        control.resume()
    finally:
        control.resume()
        thread.join(30)
    assert out[0].status == "finished" and rec.steps == list(range(1, 41))


def test_stop_while_paused_after_steps() -> None:
    control = train.Control()
    control.pause()
    thread, rec, out = start_fit(make_spec(**{"train.max_steps": 40}), control)
    try:
        for k in (1, 2, 3):
            control.step()
            assert rec.wait_for_step(k)
        control.stop()
    finally:
        control.stop()
        thread.join(30)
    result = out[0]
    assert (result.status, result.message) == ("stopped", "Stopped at step 3.")
    assert rec.steps == [1, 2, 3]
    assert result.record is not None and result.record["step"] == 3  # a last evaluation


def test_stop_while_running() -> None:
    control = train.Control()
    thread, rec, out = start_fit(make_spec(**{"train.max_steps": 1_000_000, "train.epochs": 1000}),
                                 control)
    try:
        assert rec.wait_for_step(1)
        control.stop()
    finally:
        control.stop()
        thread.join(30)
    assert not thread.is_alive()
    result = out[0]
    assert result.status == "stopped" and result.message.startswith("Stopped at step ")
    assert rec.end[0] == "stopped"
    assert rec.steps == list(range(1, len(rec.steps) + 1))


def test_stop_before_start_takes_no_step() -> None:
    control = train.Control()
    control.stop()
    result, rec = run(make_spec(), control)
    assert result.status == "stopped" and rec.losses == [] and result.record is None


def test_early_stopping_with_patience() -> None:
    spec = make_spec(**{"train.max_steps": 0, "train.epochs": 500, "train.eval_every": 1,
                        "train.patience": 3, "optimizer.lr": 1.0})  # fmt: skip
    result, _ = run(spec)
    assert result.status == "finished"
    assert result.message.startswith("Stopped early at step ")
    assert "has not improved for 3 evaluations" in result.message
    steps = [r["step"] for r in result.history]
    assert steps[-1] < 500 * 4
    losses = [r["test_loss"] for r in result.history]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert len(losses) - 1 - best == 3  # stopped on the third evaluation without improvement
    assert f"at step {steps[best]:,})" in result.message


# --- the plan and the step buffer ---------------------------------------------------------------


def test_plan_of() -> None:
    spec = ExperimentSpec().with_changes({"train.batch_size": 10, "train.epochs": 100})
    plan = train.Plan.of(spec, n_train=1000, n_eval=1500)
    assert (plan.steps_per_epoch, plan.total_steps) == (100, 10_000)
    assert plan.eval_every == 75  # half the training work: 1500 / (2 * 10)
    plan = train.Plan.of(spec, n_train=1000, n_eval=100)
    assert plan.eval_every == 50  # about 200 evaluations: 10000 / 200
    plan = train.Plan.of(spec.with_changes({"train.max_steps": 150}), 1000, 10)
    assert (plan.total_steps, plan.eval_every) == (150, 1)
    plan = train.Plan.of(spec.with_changes({"train.eval_every": 7}), 1001, 1500)
    assert (plan.steps_per_epoch, plan.eval_every) == (101, 7)
    plan = train.Plan.of(spec.with_changes({"train.max_steps": 1_000_000}), 1000, 10)
    assert plan.total_steps == 10_000  # epochs bound it first


def test_buffer_wrapping_keeps_every_loss_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = make_spec(**{"train.max_steps": 57, "train.eval_every": 100_000,
                        "train.l2": 0.01})  # fmt: skip
    _, normal = run(spec)
    monkeypatch.setattr(train, "FLUSH_SECONDS", 1e12)
    monkeypatch.setattr(train, "BUFFER", 8)
    _, wrapped = run(spec)
    sizes = [len(c["step"]) for c in wrapped.chunks]
    assert max(sizes) == 8 and sizes.count(8) == 57 // 8
    assert wrapped.steps == list(range(1, 58))
    assert wrapped.losses == normal.losses
    assert [p for c in wrapped.chunks for p in c["penalty"]] == \
        [p for c in normal.chunks for p in c["penalty"]]


def test_flushes_carry_progress_and_instruments() -> None:
    _, rec = run(make_spec())
    last = rec.chunks[-1]["progress"]
    assert last["step"] == 60 and last["total_steps"] == 60 and last["epoch"] == 15
    sampled = [c for c in rec.chunks if c["activations"] is not None]
    assert sampled
    stats = sampled[0]["activations"]["stats"]
    assert stats.shape == (2, 4)  # (layers, mean/std/dead/saturated)
    assert len(sampled[0]["activations"]["hist"]) == 2
    grads = [c["grads"] for c in rec.chunks if c["grads"] is not None]
    assert grads and all(g.shape == (3,) for g in grads)
    views = [c["view"] for c in rec.chunks if c["view"] is not None]
    assert views and views[-1]["kind"] == "boundary"


def test_activations_are_probed_at_each_evaluation_and_once_a_second(monkeypatch) -> None:
    """Losses flush four times a second; the activation probe (a forward pass of its own) runs
    at every evaluation, at the first and last flush, and at most once a PROBE_SECONDS."""
    spec = make_spec(**{"train.eval_every": 10})  # 60 steps, evaluations at 10, 20, ..., 50
    monkeypatch.setattr(train, "FLUSH_SECONDS", 0.0)  # a flush after every step
    _, rec = run(spec)
    probed = [c["progress"]["step"] for c in rec.chunks if c["activations"] is not None]
    assert len(rec.chunks) >= 60 and probed[0] == 1 and probed[-1] == 60
    assert {10, 20, 30, 40, 50} <= set(probed) and len(probed) < 15
    monkeypatch.setattr(train, "PROBE_SECONDS", 0.0)
    _, rec = run(spec)
    assert all(c["activations"] is not None for c in rec.chunks)


# --- instruments --------------------------------------------------------------------------------


def stack(*layers: dict, classes: int = 2) -> nn.Sequential:
    s = ExperimentSpec().with_changes({"model.layers": list(layers)})
    return models.build(s, 2, classes)


def test_dead_relu_units_are_counted() -> None:
    model = stack({"type": "linear", "units": 10}, {"type": "activation", "name": "ReLU"})
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    probe = instruments.Probe(model, x)
    stats, values = probe.activations()
    assert stats.shape == (1, 4) and values.shape[0] == 1
    assert 0.0 <= stats[0, 2].item() < 1.0 and math.isnan(stats[0, 3].item())
    with torch.no_grad():
        model.fc1.bias.fill_(-1e6)
        model.fc1.bias[:5] = 1e6  # half alive
    assert probe.activations()[0][0, 2].item() == 0.5
    with torch.no_grad():
        model.fc1.bias.fill_(-1e6)
    stats, _ = probe.activations()
    assert stats[0, 2].item() == 1.0 and stats[0, 0].item() == 0.0


def test_saturated_tanh_units_are_counted() -> None:
    model = stack({"type": "linear", "units": 6}, {"type": "activation", "name": "Tanh"},
                  {"type": "linear", "units": 4}, {"type": "activation", "name": "Sigmoid"})
    x = torch.rand(50, 2, generator=torch.Generator().manual_seed(0)) + 0.1  # positive inputs
    probe = instruments.Probe(model, x)
    stats, _ = probe.activations()
    assert stats.shape == (2, 4) and stats[0, 3].item() < 1.0
    assert math.isnan(stats[0, 2].item())  # dead units are a ReLU-family measure
    with torch.no_grad():
        model.fc1.weight.fill_(1e4)
        model.fc1.bias.zero_()
        model.fc3.weight.fill_(1e4)
    stats, _ = probe.activations()
    assert stats[0, 3].item() == 1.0 and stats[1, 3].item() == 1.0


def test_probe_keeps_the_model_mode_and_removes_hooks() -> None:
    model = stack({"type": "linear", "units": 4}, {"type": "dropout", "p": 0.5},
                  {"type": "activation", "name": "ReLU"})
    probe = instruments.Probe(model, torch.randn(8, 2))
    model.train()
    probe.activations()
    assert model.training and not model.relu3._forward_hooks
    assert instruments.Probe(stack(), torch.randn(4, 2)).activations() is None


def test_grad_norms() -> None:
    model = stack({"type": "linear", "units": 5}, {"type": "activation", "name": "ReLU"},
                  {"type": "linear", "units": 3}, {"type": "activation", "name": "ReLU"},
                  classes=4)
    probe = instruments.Probe(model, torch.randn(8, 2))
    assert probe.grad_names == ["fc1", "fc3", "out"]
    model(torch.randn(8, 2)).sum().backward()
    norms = probe.grad_norms()
    assert norms.shape == (3,)
    expected = torch.cat([model.out.weight.grad.flatten(), model.out.bias.grad]).norm()
    torch.testing.assert_close(norms[2], expected)


def view_ctx(x: torch.Tensor, output: str, classes: int) -> instruments.ViewContext:
    return instruments.ViewContext(x, output, classes)


@pytest.mark.parametrize(("classes", "output"), [(2, "logits"), (3, "logits"),
                                                 (3, "log_softmax"), (2, "sigmoid")])
def test_boundary_view(classes: int, output: str) -> None:
    out_units = 1 if output == "sigmoid" else classes
    model = nn.Sequential(nn.Linear(2, out_units), *([nn.Sigmoid()] if output == "sigmoid" else
                                                     [nn.LogSoftmax(1)] if output == "log_softmax"
                                                     else []))  # fmt: skip
    x = torch.randn(30, 2)
    view = instruments.boundary(model, view_ctx(x, output, classes), n=40)
    assert view["kind"] == "boundary"
    assert view["x"].shape == view["y"].shape == (40,)
    assert view["cls"].shape == view["conf"].shape == (40, 40)
    assert view["x"][0] < x[:, 0].min().item() and view["x"][-1] > x[:, 0].max().item()
    assert set(view["cls"].ravel().tolist()) <= set(range(classes))
    if classes == 2:
        assert view["prob"].shape == (40, 40)
        assert ((view["prob"] >= 0) & (view["prob"] <= 1)).all()
    else:
        assert view["prob"] is None
    assert ((view["conf"] >= 1 / classes - 1e-6) & (view["conf"] <= 1 + 1e-6)).all()


def test_curve_and_surface_views() -> None:
    curve = instruments.curve(nn.Linear(1, 1), view_ctx(torch.randn(20, 1), "linear", 0), n=50)
    assert curve["kind"] == "curve" and curve["x"].shape == curve["pred"].shape == (50,)
    surface = instruments.surface(nn.Linear(2, 1), view_ctx(torch.randn(20, 2), "linear", 0),
                                  n=30)  # fmt: skip
    assert surface["kind"] == "surface" and surface["z"].shape == (30, 30)
    assert surface["x"].shape == surface["y"].shape == (30,)
    assert {("2d", "classification"), ("1d", "regression"), ("2d", "regression")} <= set(
        instruments.GRID_VIEWS
    )


def test_confusion_matrix() -> None:
    y = torch.tensor([0, 1, 2, 2, 1, 0, 2])
    pred = torch.tensor([0, 2, 2, 1, 1, 0, 0])
    view = instruments.confusion(pred, y, 3, k=2)
    assert view["confusion"].sum() == len(y)
    assert view["confusion"][2].tolist() == [1, 1, 1]  # true 2 predicted as 0, 1 and 2
    assert view["confusion"].trace() == 4
    assert view["wrong"].tolist() == [1, 3] and view["pred"] == [2, 1]


def test_confusion_from_a_digits_run() -> None:
    spec = ExperimentSpec().with_changes({
        "data.name": "digits", "model.layers": [{"type": "linear", "units": 16},
                                                {"type": "activation", "name": "ReLU"}],
        "train.max_steps": 30, "train.batch_size": 32, "train.eval_every": 15,
    })  # fmt: skip
    ds = data.build(spec.data, spec.seed, CPU)
    _, rec = run(spec)
    views = [r["view"] for r in rec.evals]
    assert len(views) == 2
    for view in views:
        assert view["kind"] == "images" and view["confusion"].shape == (10, 10)
        assert view["confusion"].sum() == len(ds.y_test)
        assert len(view["wrong"]) == len(view["pred"]) <= 16
    assert all("view" not in r for r in train.run_spec(spec, device=CPU).history)
