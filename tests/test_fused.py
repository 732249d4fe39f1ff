"""The fused small-MLP step against the eager step it replaces: the same losses, gradients and
weights bit for bit, and the eager path wherever the fused one does not cover the training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nnplay import fused, presets, train
from nnplay.spec import ExperimentSpec

SPIRAL = presets.load("spiral").spec.with_changes({"train.device": "cpu", "train.max_steps": 150})
CASES = {
    "adam-relu": {},
    "adam-weight-decay": {"optimizer.weight_decay": 0.01},
    "sgd-momentum": {"optimizer.name": "SGD", "optimizer.lr": 0.1, "optimizer.momentum": 0.9},
    "sgd-nesterov-tanh": {
        "optimizer.name": "SGD", "optimizer.lr": 0.1, "optimizer.momentum": 0.9,
        "optimizer.nesterov": True,
        "model.layers": [{"type": "linear", "units": 8}, {"type": "activation", "name": "Tanh"}],
    },
    "plain-sgd-sigmoid-three-classes": {
        "optimizer.name": "SGD", "optimizer.lr": 0.5, "data.name": "gauss", "data.classes": 3,
        "model.layers": [{"type": "linear", "units": 8}, {"type": "activation", "name": "Sigmoid"},
                         {"type": "linear", "units": 8}],
    },
    "engineered-inputs": {"data.inputs": "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)"},
    "engineered-inputs-no-hidden-layer": {"data.inputs": "sin(x1),x1*x2", "model.layers": []},
}  # fmt: skip


class Losses(train.Callback):
    """Every step loss a fit flushes."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_flush(self, chunk: dict) -> None:
        self.losses += chunk["loss"]


def fit(spec: ExperimentSpec, use_fused: bool, monkeypatch) -> tuple[list[float], list, nn.Module]:
    """(step losses, evaluations, trained model) of spec, with or without the fused step."""
    with monkeypatch.context() as m:
        if not use_fused:
            m.setattr(fused, "fused_step", lambda *a: None)
        ds, model, device = train.prepare(spec)
        rec = Losses()
        result = train.fit(model, ds, spec, device, [rec])
    assert result.status == "finished", result.message
    return rec.losses, result.history, model


@pytest.mark.parametrize("case", list(CASES))
def test_fused_training_equals_eager_training_bit_for_bit(case, monkeypatch):
    spec = SPIRAL.with_changes(CASES[case])
    eager, eager_evals, eager_model = fit(spec, False, monkeypatch)
    ours, evals, model = fit(spec, True, monkeypatch)
    assert len(ours) == 150 and ours == eager  # exactly, not approximately
    assert evals == eager_evals
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert torch.equal(p, q)


def optimiser_for(spec: ExperimentSpec, model: nn.Module) -> torch.optim.Optimizer:
    return train.OPTIMIZER_BUILDERS[spec.optimizer.name](model.parameters(), spec.optimizer)


def test_a_fused_step_leaves_the_gradients_autograd_computes():
    ds, eager_model, _ = train.prepare(SPIRAL)
    _, model, _ = train.prepare(SPIRAL)
    x, y = ds.x_train[:16], ds.y_train[:16]
    nn.CrossEntropyLoss()(eager_model(x), y).backward()
    step = fused.fused_step(model, nn.CrossEntropyLoss(), optimiser_for(SPIRAL, model), x, y)
    assert step is not None
    step(x, y)
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert torch.equal(p.grad, q.grad)


@pytest.mark.parametrize("optimizer", ["Adam", "SGD"])
def test_released_state_lets_the_eager_optimiser_carry_on_exactly(optimizer):
    spec = SPIRAL.with_changes({"optimizer.name": optimizer, "optimizer.momentum": 0.9})
    ds, a, _ = train.prepare(spec)
    _, b, _ = train.prepare(spec)
    loss_fn = nn.CrossEntropyLoss()
    opt_a, opt_b = optimiser_for(spec, a), optimiser_for(spec, b)
    step = fused.fused_step(b, loss_fn, opt_b, ds.x_train, ds.y_train)
    for i in range(0, 160, 16):
        x, y = ds.x_train[i:i + 16], ds.y_train[i:i + 16]
        opt_a.zero_grad()
        loss_fn(a(x), y).backward()
        opt_a.step()
        if i < 80:
            step(x, y)
        else:
            if i == 80:
                step.release()
            opt_b.zero_grad()
            loss_fn(b(x), y).backward()
            opt_b.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


UNCOVERED = {
    "dropout": {"model.layers": [{"type": "linear", "units": 8}, {"type": "dropout", "p": 0.5}]},
    "mse": {"loss.name": "MSELoss"},
    "nll-log-softmax": {"loss.name": "NLLLoss"},
    "rmsprop": {"optimizer.name": "RMSprop"},
    "leaky-relu": {"model.layers": [{"type": "linear", "units": 8},
                                    {"type": "activation", "name": "LeakyReLU"}]},
}  # fmt: skip


@pytest.mark.parametrize("case", list(UNCOVERED))
def test_what_it_does_not_cover_trains_eagerly(case):
    spec = SPIRAL.with_changes(UNCOVERED[case])
    ds, model, _ = train.prepare(spec)
    loss_fn = train.LOSS_MODULES[spec.loss.name]()
    target = train.TARGETS[train.loss_info(spec.loss.name, spec.task).target](ds.y_train, 2)
    assert fused.fused_step(model, loss_fn, optimiser_for(spec, model), ds.x_train, target) is None


def test_a_penalty_hands_the_run_to_the_eager_step(monkeypatch):
    spec = SPIRAL.with_changes({"train.l2": 0.01, "train.max_steps": 40})
    eager, _, _ = fit(spec, False, monkeypatch)
    ours, _, _ = fit(spec, True, monkeypatch)
    assert ours == eager
