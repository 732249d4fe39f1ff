"""Engineered inputs (x₁², sin x₁, ...) on an uploaded CSV with two input columns: the spec
takes them once the table is known to have two, a wider table refuses them in one sentence
(at the spec, or at the build for a link read before the file), they survive a link and a
stored run on a fresh server, and the exported script reproduces the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from nnplay import codegen, data, features, models, tabular, train, urls
from nnplay.spec import UPLOAD_FEATURES, ExperimentSpec, SpecError, parse
from tests.test_codegen_changes import assert_reproduces

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    return tmp_path


def fresh_server() -> None:
    """Forget what this process learnt of uploads' widths, as a restarted server has."""
    UPLOAD_FEATURES.clear()
    tabular.choose_target.cache_clear()


def ring(n: int = 240, extra: bool = False) -> bytes:
    """Two columns and a class: inside or outside a circle (a line cannot separate them)."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    frame = pd.DataFrame({"a": a, "b": b, "inside": np.where(a * a + b * b < 2, "in", "out")})
    if extra:
        frame.insert(2, "c", rng.normal(size=n))
    return frame.to_csv(index=False).encode()


def csv_spec(file: str, inputs: str = "x1^2,x2^2", **changes: object) -> ExperimentSpec:
    """A network with no hidden layer on the upload: only engineered inputs can make a circle."""
    base = ExperimentSpec().with_changes(tabular.spec_changes(file, "inside"))
    return base.model_copy(update={"model": base.model.model_copy(update={"layers": ()})}) \
        .with_changes({"data.inputs": inputs, "train.epochs": 40, "train.batch_size": 16,
                       "train.eval_every": 25, "optimizer.lr": 0.1, **changes})


def test_two_columns_take_engineered_inputs_and_they_separate_a_circle():
    up = tabular.save_upload(ring())
    assert tabular.two_inputs(up.file, "inside") == ("a", "b")
    spec = csv_spec(up.file)
    assert spec.data.inputs == ("x1^2", "x2^2") and spec.data.info.features == 2
    ds = data.build(spec.data, spec.seed)
    assert ds.kind == "2d" and ds.in_features == 2
    model = models.build(spec, ds.in_features, ds.out_features)
    assert isinstance(model[0], features.Features) and model[0].names == ("x1^2", "x2^2")
    result = train.run_spec(spec)
    assert result.status == "finished" and result.record["test_acc"] > 0.9
    plain = train.run_spec(spec.with_changes({"data.inputs": "x1,x2"}))
    assert plain.record["test_acc"] < 0.8  # a straight line through a ring: the inputs matter


def test_a_wider_table_refuses_them_in_one_sentence():
    up = tabular.save_upload(ring(extra=True))
    assert tabular.two_inputs(up.file, "inside") is None
    with pytest.raises(SpecError, match="need a dataset with two numeric inputs") as err:
        csv_spec(up.file)
    assert "\n" not in str(err.value)
    fresh_server()  # a link read before the file: the build says it instead
    spec = parse({"data": {"name": "csv", "file": up.file, "target": "inside",
                           "task": "classification", "classes": 2, "inputs": "x1,x1^2"}})
    with pytest.raises(data.DataUnavailable, match="need two input columns, and 'inside' from "
                                                   "your CSV has 3"):
        data.build(spec.data, spec.seed)


def test_a_link_and_a_stored_run_keep_them_on_a_fresh_server():
    up = tabular.save_upload(ring())
    spec = csv_spec(up.file, "x1,x2,x1*x2,sin(x1)")
    query = urls.to_params(spec)
    text = spec.to_json()
    fresh_server()
    back, warnings, _ = urls.parse(query)
    assert back == spec and not warnings
    assert ExperimentSpec.from_json(text) == spec
    assert data.build(spec.data, spec.seed).in_features == 2


def test_the_exported_script_computes_the_same_inputs_and_reproduces_the_run(tmp_path):
    up = tabular.save_upload(ring())
    spec = csv_spec(up.file, "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)",
                    **{"train.epochs": 10, "train.device": "cpu"})
    script = codegen.script(spec)
    assert "class Features" in script and "'x1*x2'" in script
    path = tmp_path / "csv_inputs.py"
    path.write_text(script)
    result = train.run_spec(spec)
    assert_reproduces(path, result.history)
