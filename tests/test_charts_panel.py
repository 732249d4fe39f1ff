"""The chart package's live panel (what the page and the bench draw) and its one-way imports."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import plotly.io
import pytest

from nnplay import bench, charts

SLOTS = ["view", "loss", "accuracy", "misclassified", "activations", "grads", "histogram"]
# each module of the package imports only modules of a lower layer
LAYERS = {"values": 0, "images": 0, "style": 1, "curves": 2, "model_views": 2, "sequences": 2,
          "explainers": 2, "progress": 2, "weights": 2, "drawing": 2, "compare": 3, "panel": 4,
          "__init__": 5}


def snap(task: str = "classification", view: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run snapshot 40 steps in, with evals, activations, gradients and ``view``."""
    rng = np.random.default_rng(0)
    step, ev = np.arange(40), [0, 20]
    evals: dict[str, list] = {"step": ev, "train_loss": [1.0, 0.5], "test_loss": [1.1, 0.6]}
    if task == "classification":
        evals |= {"train_acc": [0.5, 0.8], "test_acc": [0.5, 0.7]}
    return {
        "status": "running", "task": task, "view": view,
        "progress": {"step": 40, "total_steps": 100, "elapsed_s": 1.0},
        "steps": {"step": step, "loss": np.exp(-step / 10)}, "evals": evals,
        "activations": {"names": ["relu1"], "kinds": ["relu"], "step": [0, 10, 20],
                        "mean": rng.random((3, 1)), "std": rng.random((3, 1)),
                        "dead": rng.random((3, 1)), "saturated": np.full((3, 1), np.nan),
                        "hist": [np.histogram(rng.normal(size=50), bins=5)]},
        "grads": {"names": ["fc1"], "step": [0, 10, 20], "norm": rng.random((3, 1))},
    }


IMAGES = {"kind": "images", "confusion": [[3, 1], [0, 4]], "class_names": ["a", "b"],
          "images": np.random.default_rng(1).random((2, 28, 28)), "true": [0, 1], "pred": [1, 0]}
CURVE = {"kind": "curve", "x": [0.0, 1.0], "pred": [0.0, 1.0],
         "train": ([[0.0], [1.0]], [0.1, 0.9]), "test": None}


def js(fig: Any) -> str | None:
    """A figure as the JSON Streamlit sends (None stays None)."""
    return None if fig is None else plotly.io.to_json(fig.to_dict(), validate=False)


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_the_panel_is_each_chart_by_its_slot_in_the_pages_order(scale) -> None:
    s = snap(view=IMAGES)
    panel = charts.live_panel(s, scale=scale)
    assert list(panel) == SLOTS
    drawn = {"view": charts.view_chart, "loss": charts.loss_chart,
             "accuracy": charts.accuracy_chart, "misclassified": charts.misclassified_chart,
             "activations": charts.activation_chart, "grads": charts.grad_norm_chart,
             "histogram": charts.activation_histogram}
    assert all(panel[k] is not None for k in SLOTS)
    assert {k: js(f) for k, f in panel.items()} == {k: js(d(s, scale=scale))
                                                    for k, d in drawn.items()}


def test_slots_that_do_not_apply_are_none() -> None:
    regression = charts.live_panel(snap("regression", CURVE))
    assert regression["accuracy"] is None and regression["misclassified"] is None
    assert regression["view"] is not None and regression["loss"] is not None
    assert charts.live_panel(snap(view=None))["view"] is None  # no view yet
    assert list(charts.live_panel({})) == SLOTS  # an empty snapshot still fills every slot


@pytest.mark.parametrize("task, view", [("classification", IMAGES), ("regression", CURVE)])
def test_the_bench_draws_the_live_panel(task, view) -> None:
    s = snap(task, view)
    sent = bench.render(s)
    assert sent[0] == charts.progress_text(s)
    assert sent[1:] == [js(f) for f in charts.live_panel(s).values() if f is not None]


def test_the_chart_modules_import_one_way() -> None:
    files = sorted(Path(charts.__file__).parent.glob("*.py"))
    assert {f.stem for f in files} == set(LAYERS)  # a new module is given its place here
    for f in files:
        tree = ast.parse(f.read_text())
        used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        ours = [m.rsplit(".", 1)[1] for m in used if m and m.startswith("nnplay.charts.")]
        assert all(LAYERS[m] < LAYERS[f.stem] for m in ours), (f.name, ours)
