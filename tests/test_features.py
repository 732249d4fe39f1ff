"""Engineered inputs of 2D data (data.inputs): validation, links and --set, the values the
Features module computes, the model and network view built on them, the exported script that
reproduces such a run, and the circle-features preset."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnplay import (
    budget,
    codegen,
    features,
    fused,
    instruments,
    models,
    presets,
    train,
    unitgrid,
    urls,
)
from nnplay.__main__ import main
from nnplay.runs import RunManager
from nnplay.spec import DEFAULT_INPUTS, INPUTS, ExperimentSpec, SpecError, parse, parse_change
from nnplay.store import Store
from tests.test_codegen_changes import assert_reproduces

torch.set_num_threads(1)
CPU = torch.device("cpu")


def circle(inputs: str, **changes) -> ExperimentSpec:
    """The circle preset reading `inputs`, small and on the CPU."""
    return presets.load("circle").spec.with_changes(
        {"data.inputs": inputs, "data.n_samples": 200, "train.device": "cpu", **changes})


# --- the spec --------------------------------------------------------------------------------


def test_default_inputs_are_x1_x2_and_leave_the_model_as_it_was():
    spec = ExperimentSpec()
    assert spec.data.inputs == DEFAULT_INPUTS == ("x1", "x2")
    model = models.build(spec, 2, 3)
    assert not any(isinstance(m, features.Features) for m in model.modules())
    assert "inputs" not in urls.to_params(spec)


def test_inputs_are_kept_in_the_table_order_whatever_order_they_were_given_in():
    assert parse({"data": {"inputs": ["sin(x2)", "x1^2", "x1"]}}).data.inputs == \
        ("x1", "x1^2", "sin(x2)")  # fmt: skip
    assert parse({"data": {"inputs": " x2 , x1*x2 "}}).data.inputs == ("x2", "x1*x2")


@pytest.mark.parametrize(("value", "words"), [
    ("x3", "'x3' is not an input; choose from x1, x2, x1^2"),
    ("__import__('os')", "is not an input"),
    ("x1,x1", "each input can be chosen once"),
    ("", "choose at least one input"),
    ([], "choose at least one input"),
    (7, "data.inputs"),
])  # fmt: skip
def test_bad_inputs_are_one_sentence(value, words):
    with pytest.raises(SpecError) as err:
        parse({"data": {"name": "circle", "inputs": value}})
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["digits", "sine"])  # a CSV's: tests/test_csv_inputs.py
def test_inputs_other_than_x1_x2_need_two_numeric_inputs(name):
    with pytest.raises(SpecError, match="need a dataset with two numeric inputs"):
        parse({"data": {"name": name, "inputs": "x1,x2,x1^2", "file": "ab", "target": "y",
                        "task": "regression"}, "loss": {"name": "MSELoss"}})  # fmt: skip
    spec = parse({"data": {"name": "plane", "inputs": "x1*x2"}, "loss": {"name": "MSELoss"}})
    assert spec.data.inputs == ("x1*x2",)


def test_a_link_round_trips_the_inputs():
    spec = circle("x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)")
    query = urls.query(spec, "circle")
    assert "data.inputs=x1,x2,x1%5E2,x2%5E2,x1%2Ax2,sin%28x1%29,sin%28x2%29" in query
    back, warnings, extras = urls.parse(dict(parse_qsl(query)))
    assert back == spec and warnings == [] and extras["preset"] == "circle"


@pytest.mark.parametrize("value", ["__import__('os')", "x1;rm -rf /", "x1,,x2", "x1,x1"])
def test_a_hostile_link_value_is_a_sentence_and_the_base_is_kept(value):
    spec, warnings, _ = urls.parse({"preset": "circle-features", "data.inputs": value})
    assert spec.data.inputs == ("x1^2", "x2^2")
    assert len(warnings) == 1 and warnings[0].startswith("Link: data.inputs=")
    assert warnings[0].endswith("using x1^2,x2^2.")


def test_a_link_with_inputs_for_an_image_set_keeps_the_dataset_and_drops_the_inputs():
    spec, warnings, _ = urls.parse({"data.name": "digits", "data.inputs": "x1^2"})
    assert spec.data.name == "digits" and spec.data.inputs == DEFAULT_INPUTS
    assert "two numeric inputs" in warnings[0]


@given(st.lists(st.sampled_from(tuple(INPUTS)), min_size=1, max_size=7, unique=True))
def test_any_choice_of_inputs_round_trips_through_a_link(names):
    spec = ExperimentSpec().with_changes({"data.inputs": ",".join(names)})
    assert urls.parse(dict(parse_qsl(urls.query(spec))))[0] == spec


@given(st.text(max_size=60))
def test_any_link_text_for_inputs_never_raises(text):
    spec, warnings, _ = urls.parse({"data.inputs": text})
    assert set(spec.data.inputs) <= set(INPUTS)


def test_the_cli_set_takes_a_comma_separated_list(capsys):
    assert main(["train", "--preset", "circle", "--steps", "3", "--set", "data.n_samples=60",
                 "--set", "data.inputs=x1,x2,x1^2"]) == 0  # fmt: skip
    assert '"status": "finished"' in capsys.readouterr().out
    assert main(["code", "--preset", "circle", "--set", "data.inputs=x1^2,x2^2"]) == 0
    assert "self.features = Features(('x1^2', 'x2^2'))" in capsys.readouterr().out
    assert main(["train", "--preset", "circle", "--set", "data.inputs=os.system"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.inputs: 'os.system' is not an input")


# --- the values ------------------------------------------------------------------------------


def test_each_feature_is_its_function_of_x1_and_x2():
    x = torch.tensor([[0.5, -2.0], [1.5, 0.25], [-1.0, 3.0]])
    x1, x2 = x[:, 0], x[:, 1]
    expected = {"x1": x1, "x2": x2, "x1^2": x1 ** 2, "x2^2": x2 ** 2, "x1*x2": x1 * x2,
                "sin(x1)": torch.sin(x1), "sin(x2)": torch.sin(x2)}  # fmt: skip
    out = features.Features(tuple(INPUTS))(x)  # (3, 7)
    assert out.shape == (3, 7)
    for i, name in enumerate(INPUTS):
        assert torch.equal(out[:, i], expected[name]), name
    assert features.labels(("x1^2", "sin(x2)")) == ["x₁²", "sin x₂"]


def test_the_model_reads_the_features_and_its_first_linear_takes_that_many():
    spec = circle("x1^2,x2^2,x1*x2")
    model = models.build(spec, 2, 2)
    names = [n for n, _ in model.named_children()]
    assert names[0] == "features" and isinstance(model.features, features.Features)
    assert model.fc1.in_features == 3
    x = torch.randn(5, 2)
    plain = model[1:](features.Features(("x1^2", "x2^2", "x1*x2"))(x))
    assert torch.equal(model(x), plain)
    # no parameters: the weights are those of the same stack built on 3 plain inputs
    other = models.build(circle("x1,x2").with_changes({}), 3, 2)
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)


def test_a_model_with_features_takes_the_fused_step_and_trains_deterministically():
    spec = circle("x1,x2,x1^2", **{"optimizer.name": "Adam", "loss.name": "CrossEntropyLoss",
                                   "train.max_steps": 30, "train.eval_every": 10})
    ds, model, _ = train.prepare(spec, CPU)
    target = ds.y_train
    loss = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    step = fused.fused_step(model, loss, opt, ds.x_train, target)
    assert step is not None and step.pre is model.features  # test_fused: same bits as eager
    assert fused.fused_step(model, torch.nn.MSELoss(), opt, ds.x_train, target) is None
    first, second = train.run_spec(spec), train.run_spec(spec)
    assert first.status == "finished" and first.history == second.history
    assert first.history != train.run_spec(spec.with_changes({"data.inputs": "x1,x2"})).history


def test_the_network_view_draws_each_feature_over_the_plane():
    spec = circle("x1,x1^2,x1*x2,sin(x2)")
    ds, model, _ = train.prepare(spec, CPU)
    info = train.loss_info(spec.loss.name, spec.task)
    ctx = instruments.ViewContext(torch.cat([ds.x_train, ds.x_test]), info.output, ds.n_classes)
    view = unitgrid.network_view(model, ctx, n=7)
    assert view["input_names"] == ["x₁", "x₁²", "x₁x₂", "sin x₂"]
    assert view["plane_names"] == ["x₁", "x₂"]
    gx, gy = np.meshgrid(view["x"], view["y"])
    pics = view["inputs"]
    assert pics.shape == (4, 7, 7)
    np.testing.assert_allclose(pics[0], gx, rtol=1e-6)
    np.testing.assert_allclose(pics[1], gx * gx, rtol=1e-6)
    np.testing.assert_allclose(pics[2], gx * gy, rtol=1e-6)
    np.testing.assert_allclose(pics[3], np.sin(gy), rtol=1e-5, atol=1e-6)
    assert view["layers"][0]["weights"].shape == (8, 4)  # fc1's 8 units read the 4 inputs


# --- the exported script -------------------------------------------------------------------


CASES = {
    "circle-every-feature-two-lr-changes": (
        circle("x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)", **{
            "train.max_steps": 60, "train.eval_every": 10, "loss.name": "CrossEntropyLoss",
            "model.layers": [{"type": "linear", "units": 6},
                             {"type": "activation", "name": "Tanh"}]}),
        ["21:optimizer.lr=0.001", "41:optimizer.lr=0.05"]),
    "spiral-sin-sgd-no-hidden": (
        presets.load("spiral").spec.with_changes({
            "data.inputs": "sin(x1),sin(x2),x1*x2", "data.n_samples": 200,
            "model.layers": [], "optimizer.name": "SGD", "optimizer.lr": 0.1,
            "train.device": "cpu", "train.max_steps": 40, "train.eval_every": 10}),
        []),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_the_script_computes_the_same_features_and_reproduces_the_run(name, tmp_path):
    spec, texts = CASES[name]
    changes = [parse_change(t, spec) for t in texts]
    path = tmp_path / f"{name}.py"
    text = codegen.script(spec, changes=changes)
    assert "class Features(nn.Module):" in text and "nnplay" not in text.split('"""', 2)[2]
    path.write_text(text)
    result = train.run_spec(spec, changes=changes)
    assert result.status == "finished", result.message
    assert_reproduces(path, result.history)


def test_scripts_with_features_pass_ruff(tmp_path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff not installed")
    for name, (spec, texts) in CASES.items():
        changes = [parse_change(t, spec) for t in texts]
        (tmp_path / f"{name}.py").write_text(codegen.script(spec, changes=changes))
    done = subprocess.run([ruff, "check", "--isolated", "--line-length", "100", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# --- the preset --------------------------------------------------------------------------------


def test_circle_features_separates_the_circle_with_no_hidden_layer():
    preset = presets.load("circle-features")
    spec = preset.spec.with_changes({"train.device": "cpu", "train.max_steps": 120})
    assert spec.model.layers == () and spec.data.inputs == ("x1^2", "x2^2")
    assert "x₁²" in preset.goal
    result = train.run_spec(spec)
    assert result.status == "finished" and result.record["test_acc"] >= 0.95, result.record
    plain = train.run_spec(spec.with_changes({"data.inputs": "x1,x2"}))
    assert plain.record["test_acc"] < 0.8, plain.record  # a straight line cannot do it


# --- the stored run and the budget ---------------------------------------------------------


def test_a_feature_run_is_stored_and_reopened_with_its_inputs_and_network_view(tmp_path):
    spec = presets.load("circle-features").spec.with_changes(
        {"train.device": "cpu", "train.max_steps": 40})
    assert ExperimentSpec.from_json(spec.to_json()) == spec
    manager = RunManager(max_runs=1, store=Store(tmp_path), threads=1)
    run = manager.start(spec, owner="me")
    assert run.wait(60) and run.status == "finished", run.message
    live = run.snapshot()
    manager.close()
    manager = RunManager(max_runs=1, store=Store(tmp_path), threads=1)
    again = manager.get(run.id)
    assert again.spec.data.inputs == ("x1^2", "x2^2")
    snap = again.snapshot()
    assert snap["network"]["input_names"] == live["network"]["input_names"] == ["x₁²", "x₂²"]
    assert set(manager.store.load_state_dict(run.id)) == {"out.weight", "out.bias"}
    manager.close()


def test_the_budget_counts_the_first_layer_on_every_input():
    spec = circle("x1,x2", **{"model.layers": [{"type": "linear", "units": 100}]})
    wide = spec.with_changes({"data.inputs": "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)"})
    assert budget._matmul_flops(wide, 2)[0] - budget._matmul_flops(spec, 2)[0] == 2 * 5 * 100
