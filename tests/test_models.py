"""Tests for nnplay.models: output sizes per loss, layer names, initialisation that matches
plain torch.nn after torch.manual_seed, the run-owned Dropout, and the layer listings."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nnplay import models, spec
from nnplay.spec import ExperimentSpec

torch.set_num_threads(1)

LAYERS = [
    {"type": "linear", "units": 6}, {"type": "activation", "name": "ReLU"},
    {"type": "dropout", "p": 0.3}, {"type": "linear", "units": 5},
    {"type": "activation", "name": "Tanh"},
]  # fmt: skip


def spec_with(**changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({"model.layers": LAYERS, **changes})


@pytest.mark.parametrize(
    ("changes", "n_classes", "out_units", "last"),
    [
        ({"loss.name": "CrossEntropyLoss", "data.classes": 3}, 3, 3, nn.Linear),
        ({"loss.name": "NLLLoss", "data.classes": 3}, 3, 3, nn.LogSoftmax),
        ({"loss.name": "KLDivLoss", "data.classes": 4}, 4, 4, nn.LogSoftmax),
        ({"loss.name": "MSELoss", "data.classes": 3}, 3, 3, nn.Linear),
        ({"loss.name": "L1Loss"}, 2, 2, nn.Linear),
        ({"loss.name": "BCEWithLogitsLoss"}, 2, 1, nn.Linear),
        ({"loss.name": "BCELoss"}, 2, 1, nn.Sigmoid),
        ({"data.name": "sine", "loss.name": "MSELoss"}, 0, 1, nn.Linear),
        ({"data.name": "plane", "loss.name": "HuberLoss"}, 0, 1, nn.Linear),
    ],
)
def test_output_size_and_transform_per_loss(
    changes: dict, n_classes: int, out_units: int, last: type
) -> None:
    s = spec_with(**changes)
    assert models.output_size(s, n_classes) == out_units
    in_features = 1 if s.data.name == "sine" else 2
    model = models.build(s, in_features, n_classes)
    assert model.out.out_features == out_units
    assert isinstance(model[-1], last)
    out = model.eval()(torch.randn(7, in_features))
    assert out.shape == (7, out_units)
    if last is nn.LogSoftmax:
        torch.testing.assert_close(out.exp().sum(1), torch.ones(7))
    if last is nn.Sigmoid:
        assert ((out > 0) & (out < 1)).all()


def test_layer_names_follow_the_reference() -> None:
    model = models.build(spec_with(**{"loss.name": "NLLLoss"}), 2, 2)
    names = [name for name, _ in model.named_children()]
    assert names == ["fc1", "relu2", "dropout3", "fc4", "tanh5", "out", "logsoftmax"]
    assert model.fc1.in_features == 2 and model.fc1.out_features == 6
    assert model.fc4.in_features == 6 and model.out.in_features == 5
    assert isinstance(model.dropout3, models.Dropout) and model.dropout3.p == 0.3
    sigmoid = models.build(spec_with(**{"loss.name": "BCELoss"}), 2, 2)
    assert [n for n, _ in sigmoid.named_children()][-2:] == ["out", "sigmoid"]


def test_every_activation_builds() -> None:
    for name in spec.ACTIVATIONS:
        s = ExperimentSpec().with_changes(
            {"model.layers": [{"type": "linear", "units": 3}, {"type": "activation", "name": name}]}
        )
        model = models.build(s, 2, 2)
        assert type(model[1]) is models.ACTIVATION_MODULES[name]
        assert [n for n, _ in model.named_children()] == ["fc1", f"{name.lower()}2", "out"]


def test_empty_stack_is_one_linear_layer() -> None:
    model = models.build(ExperimentSpec().with_changes({"model.layers": []}), 2, 2)
    assert [n for n, _ in model.named_children()] == ["out"]
    assert model.out.in_features == 2 and model.out.out_features == 2


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_init_matches_manual_seed_and_plain_layers(seed: int) -> None:
    s = spec_with(seed=seed)
    built = models.build(s, 2, 2)  # default generator: Generator().manual_seed(seed)
    from_gen = models.build(s, 2, 2, torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    plain = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 5), nn.Tanh(),
                          nn.Linear(5, 2))  # fmt: skip
    for model in (built, from_gen):
        theirs = list(model.state_dict().values())
        ours = list(plain.state_dict().values())
        assert len(theirs) == len(ours) == 6
        for a, b in zip(theirs, ours):
            assert torch.equal(a, b)


def test_init_ignores_the_global_rng() -> None:
    torch.manual_seed(3)
    a = models.build(spec_with(), 2, 2)
    torch.manual_seed(4)
    b = models.build(spec_with(), 2, 2)
    for x, y in zip(a.parameters(), b.parameters()):
        assert torch.equal(x, y)


def test_different_seeds_give_different_weights() -> None:
    a = models.build(spec_with(seed=1), 2, 2)
    b = models.build(spec_with(seed=2), 2, 2)
    assert not torch.equal(a.fc1.weight, b.fc1.weight)


def test_dropout_with_generator_matches_nn_dropout_after_manual_seed() -> None:
    x = torch.randn(32, 10)
    ours = models.Dropout(0.4)
    ours.generator = torch.Generator().manual_seed(5)
    theirs = nn.Dropout(0.4)
    torch.manual_seed(5)
    for _ in range(3):  # successive masks, too
        expected = theirs(x)
        got = ours(x)
        assert torch.equal(got, expected)
    assert (got == 0).any() and (got != 0).any()


def test_dropout_after_init_continues_the_generator_like_a_script() -> None:
    """Model init then dropout from one generator == manual_seed, plain layers, nn.Dropout."""
    s = spec_with(seed=11)
    gen = torch.Generator().manual_seed(11)
    model = models.build(s, 2, 2, gen)
    models.set_dropout_generator(model, gen)
    torch.manual_seed(11)
    plain = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 5), nn.Tanh(),
                          nn.Linear(5, 2))  # fmt: skip
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(99))
    model.train(), plain.train()
    for _ in range(3):
        assert torch.equal(model(x), plain(x))


def test_dropout_is_off_in_eval_and_with_p_zero() -> None:
    x = torch.randn(8, 4)
    d = models.Dropout(0.5)
    d.generator = torch.Generator().manual_seed(0)
    assert torch.equal(d.eval()(x), x)
    zero = models.Dropout(0.0)
    zero.generator = torch.Generator().manual_seed(0)
    assert torch.equal(zero.train()(x), x)
    models.set_dropout_generator(nn.Sequential(d), None)
    assert d.generator is None


def test_describe_has_the_parameter_count() -> None:
    model = models.build(spec_with(), 2, 2)
    count = (2 * 6 + 6) + (6 * 5 + 5) + (5 * 2 + 2)
    assert models.parameter_count(model) == count
    text = models.printout(model)
    assert str(model) in text
    assert text.endswith(f"Trainable parameters: {count:,}")
    big = models.build(ExperimentSpec().with_changes(
        {"model.layers": [{"type": "linear", "units": 1000}]}), 2, 2)
    assert "Trainable parameters: 5,002" in models.printout(big)


def test_activation_and_weight_layers() -> None:
    model = models.build(spec_with(**{"loss.name": "BCELoss"}), 2, 2)
    acts = models.activation_layers(model)
    assert [(name, kind) for name, _, kind in acts] == [("relu2", "relu"), ("tanh5", "saturating")]
    assert acts[0][1] is model.relu2
    # the output Sigmoid is not a hidden activation
    assert all(name != "sigmoid" for name, _, _ in acts)
    weights = models.weight_layers(model)
    assert [name for name, _ in weights] == ["fc1", "fc4", "out"]
    assert weights[2][1] is model.out
