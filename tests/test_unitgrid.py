"""Tests for nnplay.unitgrid: the network view's unit pictures against a plain forward pass,
unit by unit; which units are drawn; dropout marks; the view reaching a run's snapshot."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnplay import instruments, models, runs, train, unitgrid
from nnplay.spec import ACTIVATIONS, ExperimentSpec

torch.set_num_threads(1)
CPU = torch.device("cpu")


def every_activation_spec(loss: str = "CrossEntropyLoss", name: str = "spiral",
                          classes: int = 0) -> ExperimentSpec:
    """A stack with every activation kind and a dropout layer, over a 2D data set."""
    layers: list[dict] = [{"type": "dropout", "p": 0.1}]
    for act in ACTIVATIONS:
        layers += [{"type": "linear", "units": 5}, {"type": "activation", "name": act}]
    layers.insert(4, {"type": "dropout", "p": 0.3})  # after the second linear, before its act
    return ExperimentSpec().with_changes({
        "data.name": name, "data.n_samples": 100, "data.classes": classes,
        "model.layers": layers, "loss.name": loss,
        "train.max_steps": 5,
    })  # fmt: skip


def grid_points(view: dict) -> torch.Tensor:
    """The grid the view was computed on, as (n*n, 2) inputs, rows following y."""
    gx, gy = np.meshgrid(view["x"], view["y"])
    return torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))


@pytest.mark.parametrize("loss,name,classes", [
    ("CrossEntropyLoss", "spiral", 3), ("BCEWithLogitsLoss", "circle", 0),
    ("NLLLoss", "gauss", 4), ("MSELoss", "plane", 0),
])  # fmt: skip
def test_pictures_equal_a_plain_forward_pass_unit_by_unit(loss, name, classes):
    spec = every_activation_spec(loss, name, classes)
    ds, model, _ = train.prepare(spec, CPU)
    info = train.loss_info(spec.loss.name, spec.task)
    ctx = instruments.ViewContext(torch.cat([ds.x_train, ds.x_test]), info.output, ds.n_classes)
    model.train()  # the view must switch dropout off itself, and switch training back on
    view = unitgrid.network_view(model, ctx, n=9)
    assert model.training
    pts = grid_points(view)
    # the plain pass: module by module, in eval mode, keeping each layer's output after its
    # activation
    model.eval()
    expected, h, seen_linear = [], pts, False
    with torch.no_grad():
        children = list(model.named_children())
        for i, (name_, module) in enumerate(children):
            h = module(h)
            seen_linear |= isinstance(module, nn.Linear)
            nxt = children[i + 1][1] if i + 1 < len(children) else None
            if seen_linear and name_ != "out" and isinstance(nxt, nn.Linear):
                expected.append(h)
        out = model(pts)
    if spec.task == "classification":
        probs = models.probabilities(out, info.output)
        expected.append(probs[:, 1:] if out.shape[1] == 1 else probs)
    else:
        expected.append(out)
    layers = view["layers"]
    assert len(layers) == len(ACTIVATIONS) + 1
    assert [g["act"] for g in layers[:-1]] == list(ACTIVATIONS)
    for layer, want in zip(layers, expected):
        assert layer["pictures"].shape == (want.shape[1], 9, 9)
        for unit in range(want.shape[1]):  # unit by unit
            np.testing.assert_allclose(layer["pictures"][unit].ravel(),
                                       want[:, unit].numpy(), rtol=1e-5, atol=1e-6)
        assert np.allclose(layer["lo"], want.min(0).values.numpy(), atol=1e-6)
        assert np.allclose(layer["hi"], want.max(0).values.numpy(), atol=1e-6)
    # weights and biases between drawn units are the model's
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for layer, lin in zip(layers, linears):
        w = lin.weight.detach().numpy()
        assert np.allclose(layer["weights"], w[layer["index"]][:, :layer["weights"].shape[1]])
        assert np.allclose(layer["bias"], lin.bias.detach().numpy()[layer["index"]])
    # dropout marks: on the links into the first layer, and into the third
    assert [g["dropout_in"] for g in layers[:4]] == pytest.approx([0.1, 0.0, 0.3, 0.0])


def test_wide_layers_draw_the_units_with_the_largest_outgoing_weights():
    spec = ExperimentSpec().with_changes({
        "data.n_samples": 100, "model.layers": [
            {"type": "linear", "units": 40}, {"type": "activation", "name": "Tanh"}]})
    ds, model, _ = train.prepare(spec, CPU)
    with torch.no_grad():
        model.out.weight.zero_()
        strong = [3, 7, 11, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 39]
        model.out.weight[:, strong] = 1.0
    ctx = instruments.ViewContext(ds.x_train, "logits", ds.n_classes)
    view = unitgrid.network_view(model, ctx, n=5)
    hidden = view["layers"][0]
    assert hidden["units"] == 40
    assert hidden["index"].tolist() == strong
    assert hidden["pictures"].shape == (16, 5, 5)
    # the output layer's links come from the drawn units only
    assert view["layers"][1]["weights"].shape == (2, 16)
    assert np.all(view["layers"][1]["weights"] == 1.0)


def test_only_stacks_over_a_2d_plane_get_a_network_view():
    spec = ExperimentSpec().with_changes({"data.n_samples": 100})
    ds, model, _ = train.prepare(spec, CPU)
    assert unitgrid.applies(model, ds.in_features, ds.kind)
    assert not unitgrid.applies(model, 1, "1d")
    assert not unitgrid.applies(model, 64, "image")


def test_a_run_carries_the_network_view_to_its_snapshot_and_the_store(tmp_path):
    from nnplay.store import Store

    spec = ExperimentSpec().with_changes({"data.n_samples": 100, "train.max_steps": 30})
    manager = runs.RunManager(max_runs=1, store=Store(tmp_path), threads=1)
    try:
        run = manager.start(spec, owner="me")
        assert run.wait(60)
        snap = run.snapshot()
        assert snap["status"] == "finished"
        net = snap["network"]
        assert net["kind"] == "network"
        assert [g["pictures"].shape[0] for g in net["layers"]] == [16, 16, 2]
        row = manager.store.run(run.id)
        restored = runs.Run.restore(row, manager.store.history(run.id)).snapshot()["network"]
        for a, b in zip(restored["layers"], net["layers"]):
            np.testing.assert_array_equal(a["pictures"], b["pictures"])
            np.testing.assert_array_equal(a["weights"], b["weights"])
    finally:
        manager.close()


def test_the_view_leaves_training_bit_for_bit_unchanged(monkeypatch):
    spec = ExperimentSpec().with_changes({"data.n_samples": 100, "train.max_steps": 40,
                                          "model.layers": [{"type": "linear", "units": 6},
                                                           {"type": "dropout", "p": 0.5},
                                                           {"type": "activation",
                                                            "name": "ReLU"}]})
    monkeypatch.setattr(train, "VIEW_SECONDS", 0.0)  # a view at every flush
    monkeypatch.setattr(train, "FLUSH_SECONDS", 0.0)
    with_view = train.run_spec(spec, device=CPU).history
    monkeypatch.setattr(unitgrid, "applies", lambda *a: False)
    without = train.run_spec(spec, device=CPU).history
    assert with_view == without
