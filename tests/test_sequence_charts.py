"""The sequence charts in nnplay.charts: each draws what the sequence view holds, and an empty or
half-filled snapshot gives a readable figure rather than an error."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nnplay import charts

RNG = np.random.default_rng(0)


def view(cell: str = "LSTM", units: int = 6, task: str = "classification") -> dict:
    """A sequence view as instruments.sequence_view makes it: two examples of 3 and 5 steps."""
    gates = {"LSTM": ("input", "forget", "output"), "GRU": ("reset", "update")}.get(cell, ())
    lengths = [3, 5]
    tokens = task == "classification"
    return {
        "kind": "sequence", "cell": cell, "lengths": lengths,
        "inputs": [["not", "good", "today"], ["it", "was", "good", "but", "dull"]] if tokens
        else [RNG.normal(size=(n, 1)) for n in lengths],
        "hidden": [RNG.uniform(-1, 1, (units, n)) for n in lengths],
        "gates": [{g: RNG.uniform(0, 1, (units, n)) for g in gates} for n in lengths],
        "saliency": [RNG.uniform(0, 1, n) for n in lengths],
        "truth": np.array([0, 1, 1]) if tokens else RNG.normal(size=(3, 1)),
        "pred": np.array([[0.8, 0.2], [0.3, 0.7], [0.9, 0.1]]) if tokens
        else RNG.normal(size=(3, 1)),
        "rollout": None if tokens else RNG.normal(size=(2, 4)),
        "future": None if tokens else RNG.normal(size=(2, 4)),
        "class_names": ["negative", "positive"] if tokens else [],
    }  # fmt: skip


def snap(v: dict | None, bidirectional: bool = False, task: str = "classification") -> dict:
    spec = {"model": {"recurrent": {"bidirectional": bidirectional}}}
    return {"view": v, "task": task, "spec": spec, "info": {}}


def test_hidden_state_heatmap_has_units_by_words() -> None:
    fig = charts.hidden_state_chart(snap(view(), bidirectional=True), example=1)
    (heat,) = fig.data
    assert isinstance(heat, go.Heatmap) and np.asarray(heat.z).shape == (6, 5)
    assert list(fig.layout.xaxis.ticktext) == ["it", "was", "good", "but", "dull"]
    assert len(fig.layout.shapes) == 1  # the line between forward and backward units
    assert "example 2" in fig.layout.title.text


@pytest.mark.parametrize("cell, panels", [("LSTM", 3), ("GRU", 2)])
def test_gate_chart_has_one_panel_per_gate(cell: str, panels: int) -> None:
    fig = charts.gate_chart(snap(view(cell)), example=0)
    assert len(fig.data) == panels
    assert all(t.zmin == 0 and t.zmax == 1 and np.asarray(t.z).shape == (6, 3) for t in fig.data)


@pytest.mark.parametrize("cell, words", [("RNN", "plain RNN has no gates"),
                                         ("BagOfWords", "bag of words has no gates")])
def test_cells_without_gates_say_so(cell: str, words: str) -> None:
    fig = charts.gate_chart(snap(view(cell)), 0)
    assert not fig.data and words in fig.layout.annotations[0].text


def test_bag_of_words_has_no_hidden_state() -> None:
    fig = charts.hidden_state_chart(snap(view("BagOfWords")), 0)
    assert not fig.data and "no hidden state" in fig.layout.annotations[0].text


def test_forecast_chart_draws_inputs_truth_rollout_and_next_value() -> None:
    fig = charts.forecast_chart(snap(view(task="regression"), task="regression"), example=1)
    names = [t.name for t in fig.data]
    assert names == ["inputs (noisy)", "truth", "rollout (own forecasts fed back)",
                     "next-step forecast"]
    assert list(fig.data[1].x) == [5, 6, 7, 8]  # the truth follows the 5-step window


def test_prediction_chart_classification_and_regression() -> None:
    fig = charts.prediction_chart(snap(view()))
    right, wrong = fig.data
    assert list(right.x) == [0, 1] and list(wrong.x) == [2]
    assert np.allclose(list(right.y), [0.8, 0.7]) and np.allclose(list(wrong.y), [0.1])
    reg = charts.prediction_chart(snap(view(task="regression"), task="regression"))
    assert [t.name for t in reg.data] == ["perfect", "test values"]


def test_saliency_bars_follow_the_steps() -> None:
    fig = charts.saliency_chart(snap(view()), example=0)
    assert len(fig.data[0].y) == 3 and list(fig.layout.xaxis.ticktext) == ["not", "good", "today"]


def test_loss_chart_draws_the_baseline_only_when_there_is_one() -> None:
    with_line = charts.loss_chart({"info": {"baseline": ["repeat", 0.04]}})
    assert len(with_line.layout.shapes) == 1 and with_line.layout.shapes[0].y0 == 0.04
    # named in the legend, not by a label on the plot, where it covered the curves
    assert [t.name for t in with_line.data] == ["baseline: repeat (0.04)"]
    live = {"info": {"baseline": ["repeat", 0.04]}, "steps": {"step": [1, 2], "loss": [1.0, 0.5]}}
    fig = charts.loss_chart(live)
    assert not fig.layout.annotations and "baseline: repeat (0.04)" in [t.name for t in fig.data]
    assert fig.layout.showlegend
    assert not charts.loss_chart({"info": {"baseline": None}}).layout.shapes


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_half_width_titles_fit_their_column(task: str) -> None:
    """The charts the Sequences page sets side by side keep titles a half-width column shows whole
    ("influence of each step (example 1" and "forecast of example 1 against the" were cut)."""
    s = snap(view(task=task), task=task)
    figs = [charts.loss_chart(s), charts.accuracy_chart(s), charts.prediction_chart(s),
            charts.hidden_state_chart(s, example=9), charts.saliency_chart(s, example=9),
            charts.forecast_chart(s, example=9), charts.grad_norm_chart(s)]
    titles = [f.layout.title.text for f in figs if f is not None]
    assert len(titles) == (7 if task == "classification" else 6)
    assert all(len(t) <= charts.HALF_TITLE for t in titles), titles


def test_comparison_charts() -> None:
    bars = charts.model_bars([{"name": "BoW", "test_acc": 0.6, "test_acc_negation": None},
                              {"name": "LSTM", "test_acc": 1.0, "test_acc_negation": 0.98}],
                             {"test_acc": "all", "test_acc_negation": "negation"}, "by model")
    assert [t.name for t in bars.data] == ["all", "negation"]
    assert list(bars.data[1].text) == ["…", "98%"]
    rows = [{"cell": c, "seq_len": n, "test_acc": a} for c, n, a in
            (("RNN", 20, 0.5), ("RNN", 10, 1.0), ("GRU", 10, 1.0), ("GRU", 20, None))]
    lines = charts.length_chart(rows, "test_acc", "test accuracy")
    assert [t.name for t in lines.data] == ["RNN", "GRU"]
    assert list(lines.data[0].x) == [10, 20] and list(lines.data[1].x) == [10]


@pytest.mark.parametrize("fn", [charts.hidden_state_chart, charts.gate_chart,
                                charts.saliency_chart, charts.forecast_chart])
@pytest.mark.parametrize("s", [{}, snap(None), snap({"kind": "sequence"})])
def test_empty_snapshots_give_a_message(fn, s) -> None:
    fig = fn(s, 0)
    assert not fig.data and fig.layout.annotations


def test_empty_prediction_and_comparisons() -> None:
    assert charts.prediction_chart({}).layout.annotations
    assert charts.model_bars([], {"test_acc": "all"}, "x").layout.annotations
    assert charts.length_chart([], "test_acc", "acc").layout.annotations
