"""Runs stepped together against the same runs trained alone: each run's losses within 1e-5 over
a short run (batched products round differently, so not bit for bit), and its module trained."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nnplay import batched, presets, train

SPIRAL = presets.load("spiral").spec.with_changes({"train.device": "cpu"})
RUNS, STEPS, BATCH = 4, 100, 16


def alone(spec) -> list[float]:
    """The run trained by itself, eagerly: plain autograd and torch.optim.Adam."""
    ds, model, _ = train.prepare(spec)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.optimizer.lr)
    losses = []
    for k in range(STEPS):
        i = (k * BATCH) % (len(ds.x_train) - BATCH)
        loss = nn.functional.cross_entropy(model(ds.x_train[i:i + BATCH]),
                                           ds.y_train[i:i + BATCH])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_runs_stepped_together_match_each_run_alone_to_1e_5():
    specs = [SPIRAL.with_changes({"seed": s}) for s in range(RUNS)]
    built = [train.prepare(s)[:2] for s in specs]
    step = batched.BatchedStep([m for _, m in built], lr=SPIRAL.optimizer.lr)
    together = []
    for k in range(STEPS):
        i = (k * BATCH) % (len(built[0][0].x_train) - BATCH)
        x = torch.stack([ds.x_train[i:i + BATCH] for ds, _ in built])  # (R, B, 2)
        y = torch.stack([ds.y_train[i:i + BATCH] for ds, _ in built])
        together.append(step(x, y).tolist())
    for r, spec in enumerate(specs):
        expected = alone(spec)
        ours = [row[r] for row in together]
        assert ours == pytest.approx(expected, abs=1e-5)
    for r, (_, model) in enumerate(built):  # each run's own module holds its trained weights
        weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        assert torch.equal(weights, step.flat[r])
    assert not torch.equal(built[0][1].out.weight, train.prepare(specs[0])[1].out.weight)

def test_models_of_different_shapes_are_refused():
    a = train.prepare(SPIRAL)[1]
    b = train.prepare(SPIRAL.with_changes(
        {"model.layers": [{"type": "linear", "units": 8}, {"type": "activation", "name": "Tanh"}]}
    ))[1]
    with pytest.raises(ValueError, match="one shape"):
        batched.BatchedStep([a, b], lr=0.01)
