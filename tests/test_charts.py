"""Tests for nnplay.charts: snapshots built with numpy -> plotly figures."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from nnplay import charts, figures

NAMES = ["2: Tanh", "4: ReLU"]
KINDS = ["saturating", "relu"]
GRADS = ["fc1", "fc2", "out"]


def boundary_view(n_classes: int = 2, n: int = 60, rng: Any = None) -> dict[str, Any]:
    """A decision-boundary view on a 100x100 grid."""
    rng = rng or np.random.default_rng(0)
    g = np.linspace(-3, 3, 100)
    xx, yy = np.meshgrid(g, g)
    angle = np.arctan2(yy, xx)
    cls = ((angle + np.pi) / (2 * np.pi) * n_classes).astype(int) % n_classes
    conf = 1 / n_classes + (1 - 1 / n_classes) * np.tanh(np.hypot(xx, yy))
    prob = 1 / (1 + np.exp(-xx)) if n_classes == 2 else None
    X = rng.uniform(-3, 3, (n, 2))
    return {
        "kind": "boundary", "x": g, "y": g, "prob": prob, "cls": cls, "conf": conf,
        "train": (X, rng.integers(0, n_classes, n)),
        "test": (X[: n // 3] + 0.1, rng.integers(0, n_classes, n // 3)),
    }


def curve_view() -> dict[str, Any]:
    """A 1-D regression view."""
    x = np.linspace(-2, 2, 200)
    xs = np.linspace(-2, 2, 40)
    return {"kind": "curve", "x": x, "pred": np.sin(x), "train": (xs, np.sin(xs) + 0.1),
            "test": (xs[::3], np.sin(xs[::3]))}


def surface_view() -> dict[str, Any]:
    """A 2-D regression view."""
    g = np.linspace(-1, 1, 50)
    xx, yy = np.meshgrid(g, g)
    X = np.random.default_rng(1).uniform(-1, 1, (30, 2))
    y = X[:, 0] * X[:, 1]
    return {"kind": "surface", "x": g, "y": g, "z": xx * yy, "train": (X, y),
            "test": (X[:10], y[:10])}


def images_view(k: int = 20, classes: int = 10) -> dict[str, Any]:
    """A confusion matrix plus ``k`` misclassified images."""
    rng = np.random.default_rng(2)
    return {
        "kind": "images", "confusion": rng.integers(0, 50, (classes, classes)),
        "class_names": [f"c{i}" for i in range(classes)],
        "images": rng.uniform(0, 1, (k, 28, 28)),
        "true": list(rng.integers(0, classes, k)), "pred": list(rng.integers(0, classes, k)),
    }


def make_snap(
    n: int = 300,
    task: str = "classification",
    view: dict[str, Any] | None = None,
    penalty: bool = False,
    status: str = "running",
    every: int = 10,
) -> dict[str, Any]:
    """A fake run snapshot with ``n`` steps, evals and instrument samples every ``every`` steps."""
    rng = np.random.default_rng(3)
    step = np.arange(n)
    loss = 2.0 * np.exp(-step / max(n / 5, 1)) + 0.05 * rng.random(n)
    ev = list(range(0, n, every * 5))
    samples = list(range(0, n, every))
    m, L = len(samples), len(NAMES)
    evals: dict[str, list[Any]] = {
        "step": ev, "epoch": [s // 50 for s in ev],
        "train_loss": [float(loss[s]) for s in ev], "test_loss": [float(loss[s]) + 0.1 for s in ev],
    }
    if task == "classification":
        evals["train_acc"] = [min(1.0, 0.5 + s / max(n, 1)) for s in ev]
        evals["test_acc"] = [min(1.0, 0.45 + s / max(n, 1)) for s in ev]
    dead = np.full((m, L), np.nan)
    dead[:, 1] = np.linspace(0, 0.3, m)
    sat = np.full((m, L), np.nan)
    sat[:, 0] = np.linspace(0, 0.6, m)
    return {
        "id": "abc123", "status": status, "message": "", "task": task,
        "progress": {"step": n, "epoch": n // 50, "total_steps": 2 * n,
                     "samples_per_s": 8431.2, "eta_s": 3.2, "elapsed_s": 3.0},
        "steps": {"step": step, "loss": loss,
                  "penalty": 0.01 * np.ones(n) if penalty else np.zeros(n)},
        "evals": evals,
        "activations": {
            "names": NAMES, "kinds": KINDS, "step": samples,
            "mean": rng.normal(size=(m, L)), "std": rng.random((m, L)),
            "dead": dead, "saturated": sat,
            "hist": [np.histogram(rng.normal(size=500), bins=30) for _ in range(L)],
        },
        "grads": {"names": GRADS, "step": samples, "norm": rng.random((m, 3)) + 1e-3},
        "view": view,
    }


def empty_snap(task: str = "classification", view: dict[str, Any] | None = None) -> dict:
    """The snapshot of a run that has not taken a step yet."""
    return {
        "id": "e", "status": "queued", "message": "", "task": task,
        "progress": {"step": 0, "epoch": 0, "total_steps": 100, "samples_per_s": 0.0,
                     "eta_s": None, "elapsed_s": 0.0},
        "steps": {"step": np.zeros(0, int), "loss": np.zeros(0), "penalty": np.zeros(0)},
        "evals": {"step": [], "epoch": [], "train_loss": [], "test_loss": [], "train_acc": [],
                  "test_acc": []},
        "activations": {"names": NAMES, "kinds": KINDS, "step": [], "mean": np.zeros((0, 2)),
                        "std": np.zeros((0, 2)), "dead": np.zeros((0, 2)),
                        "saturated": np.zeros((0, 2)), "hist": []},
        "grads": {"names": GRADS, "step": [], "norm": np.zeros((0, 3))},
        "view": view,
    }


def names(fig: go.Figure) -> list[str]:
    """Trace names in order."""
    return [t.name for t in fig.data]


def annotations(fig: go.Figure) -> list[str]:
    """Texts of the layout annotations."""
    return [a.text for a in fig.layout.annotations]


# ---------------------------------------------------------------- downsample / ema


@pytest.mark.parametrize("n,max_points,keep_last",
                         [(100_000, 2000, 200), (5000, 500, 50), (2001, 2000, 200),
                          (10_000, 100, 500), (1000, 10, 0)])
def test_downsample_long(n: int, max_points: int, keep_last: int) -> None:
    x = np.arange(n) * 2 + 7
    y = np.sin(3 * np.pi * (x - x[0]) / (x[-1] - x[0]))  # one and a half periods
    dx, dy = charts.downsample(x, y, max_points=max_points, keep_last=keep_last)
    assert len(dx) == len(dy) <= max_points
    assert dx[0] == x[0] and dy[0] == y[0]
    assert np.all(np.diff(dx) > 0)
    k = max(1, min(keep_last, max_points // 2))
    np.testing.assert_array_equal(dx[-k:], x[-k:])
    np.testing.assert_array_equal(dy[-k:], y[-k:])
    if max_points >= 100:  # the shape survives: the reduced curve stays close to the original
        assert np.max(np.abs(np.interp(x, dx, dy) - y)) < 0.05


def test_downsample_short_is_identity() -> None:
    x, y = np.arange(50), np.linspace(0, 1, 50)
    dx, dy = charts.downsample(x, y)
    np.testing.assert_array_equal(dx, x)
    np.testing.assert_array_equal(dy, y)
    ex, ey = charts.downsample(np.zeros(0), np.zeros(0))
    assert len(ex) == len(ey) == 0


def test_downsample_nan_and_mismatched_lengths() -> None:
    x = np.arange(10_000)
    y = np.ones(10_000)
    y[100:5000:7] = np.nan
    dx, dy = charts.downsample(x, y[:-3])
    assert len(dx) == len(dy) <= 2000
    assert np.all(np.isfinite(dy))
    assert dx[-1] == 9996


def test_ema_matches_loop() -> None:
    v = np.random.default_rng(0).random(5000)
    for w in (0.0, 0.5, 0.9, 0.99):
        ref, prev = [], v[0]
        for value in v:
            prev = w * prev + (1 - w) * value
            ref.append(prev)
        np.testing.assert_allclose(charts.ema(v, w), ref, rtol=1e-9, atol=1e-12)
    assert charts.ema([]).size == 0


# ---------------------------------------------------------------- training curves


def test_loss_chart_traces() -> None:
    fig = charts.loss_chart(make_snap())
    assert isinstance(fig, go.Figure)
    assert names(fig) == ["per step", "smoothed", "train (eval)", "test (eval)"]
    assert fig.layout.xaxis.title.text == "step"
    assert fig.layout.template.layout.paper_bgcolor == "white"
    assert fig.data[1].line.width == 3
    assert fig.layout.legend.orientation == "h"


def test_values_beyond_float32_become_gaps_not_infinities() -> None:
    """Lines go to the browser as float32; a loss of 1e39 (finite in float64) must not turn
    into an infinity there."""
    snap = make_snap()
    snap["steps"]["loss"] = np.where(np.arange(len(snap["steps"]["loss"])) == 3, 1e39,
                                     snap["steps"]["loss"])
    y = charts.loss_chart(snap).data[0].y
    assert y.dtype == np.float32 and np.isnan(y[3]) and not np.isinf(y).any()


def test_loss_chart_penalty_only_when_nonzero() -> None:
    assert "L1/L2 penalty" not in names(charts.loss_chart(make_snap(penalty=False)))
    assert "L1/L2 penalty" in names(charts.loss_chart(make_snap(penalty=True)))


def test_loss_chart_draws_l1_and_l2_apart() -> None:
    snap = make_snap()
    n = len(snap["steps"]["step"])
    snap["steps"] |= {"penalty": 0.03 * np.ones(n), "l1": np.zeros(n), "l2": 0.03 * np.ones(n)}
    assert "L2 penalty" in names(charts.loss_chart(snap))
    assert not {"L1 penalty", "L1/L2 penalty"} & set(names(charts.loss_chart(snap)))
    snap["steps"]["l1"] = 0.01 * np.ones(n)
    assert {"L1 penalty", "L2 penalty"} <= set(names(charts.loss_chart(snap)))
    snap["steps"]["l1"] = snap["steps"]["l2"] = np.full(n, np.nan)  # stored before the split
    assert "L1/L2 penalty" in names(charts.loss_chart(snap))


def test_loss_chart_long_run_is_downsampled() -> None:
    fig = charts.loss_chart(make_snap(n=100_000, penalty=True, every=20))
    assert len(fig.data) == 5
    for trace in fig.data:
        assert len(trace.x) <= 2000 and len(trace.y) <= 2000


def test_loss_chart_log_scale_and_diverged() -> None:
    snap = make_snap(status="diverged")
    snap["steps"]["loss"][-1] = np.inf
    fig = charts.loss_chart(snap, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert "diverged" in annotations(fig)
    assert np.isnan(fig.data[0].y[-1])
    fig.to_json()


def test_log_axis_labels_say_their_values() -> None:
    snap = make_snap(n=50)
    snap["steps"]["loss"] = np.geomspace(2.0, 0.004, 50)
    snap["evals"] = {}
    fig = charts.loss_chart(snap, log_y=True)
    shown = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
    assert shown == {0.01: "0.01", 0.1: "0.1", 1.0: "1"}  # nine 1-2-5 ticks: decades only
    snap["steps"]["loss"] = np.geomspace(0.9, 0.15, 50)
    fig = charts.loss_chart(snap, log_y=True)
    assert list(fig.layout.yaxis.ticktext) == ["0.2", "0.5"]
    snap["steps"]["loss"] = np.linspace(0.3, 0.45, 50)  # too narrow for two: plotly's own
    assert charts.loss_chart(snap, log_y=True).layout.yaxis.tickvals is None


def test_scale_multiplies_style() -> None:
    small, big = charts.loss_chart(make_snap()), charts.loss_chart(make_snap(), scale=1.5)
    assert small.layout.font.size == 16 and big.layout.font.size == 24
    assert big.layout.title.font.size == 30
    assert big.data[1].line.width == pytest.approx(4.5)
    rows = len(small.data) - 2  # legend entries beyond two get a row of height each
    assert small.layout.height == 360 + 24 * rows and big.layout.height == 1.5 * (360 + 24 * rows)
    assert charts.loss_chart(make_snap(), height=250).layout.height == 250
    assert charts.accuracy_chart(make_snap()).layout.height == 360  # two entries: no extra


def test_accuracy_chart() -> None:
    fig = charts.accuracy_chart(make_snap())
    assert names(fig) == ["train", "test"]
    assert fig.layout.yaxis.tickformat == ".0%"
    assert charts.accuracy_chart(make_snap(task="regression")) is None
    assert charts.accuracy_chart(empty_snap(task="regression")) is None


def test_activation_chart() -> None:
    fig = charts.activation_chart(make_snap())
    legend = [t.name for t in fig.data if t.showlegend is not False]
    assert legend == NAMES
    assert len(fig.data) == 3 * len(NAMES) + len(NAMES)
    right = [t.name for t in fig.data if t.xaxis == "x2"]
    assert right == ["2: Tanh saturated", "4: ReLU dead"]
    assert fig.layout.yaxis2.tickformat == ".0%"


def test_activation_histogram() -> None:
    fig = charts.activation_histogram(make_snap())
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert names(fig) == NAMES
    assert abs(sum(fig.data[0].y) - 1) < 1e-9


def test_grad_norm_chart() -> None:
    fig = charts.grad_norm_chart(make_snap())
    assert names(fig) == GRADS
    assert fig.layout.yaxis.type == "log"
    assert charts.grad_norm_chart(make_snap(), log_y=False).layout.yaxis.type != "log"


def test_long_instrument_histories_are_downsampled() -> None:
    snap = make_snap(n=100_000, every=10)
    for fig in (charts.activation_chart(snap), charts.grad_norm_chart(snap)):
        assert all(len(t.x) <= 2000 for t in fig.data)


# ---------------------------------------------------------------- views


def test_view_registry_dispatch() -> None:
    assert set(charts.VIEWS) == {"boundary", "curve", "surface", "images", "sequence"}
    assert charts.view_chart(make_snap(view=None)) is None
    fig = charts.view_chart(make_snap(view={"kind": "nonsense"}))
    assert isinstance(fig, go.Figure)


def test_boundary_two_classes() -> None:
    fig = charts.view_chart(make_snap(view=boundary_view(2)))
    heat = fig.data[0]
    assert heat.type == "heatmap" and heat.zmin == 0 and heat.zmax == 1
    assert names(fig)[1:3] == ["class 0", "class 1"]
    assert names(fig)[-1] == "test points"
    train = fig.data[1]
    assert train.marker.line.color == "white" and train.marker.symbol == "circle"
    assert fig.layout.yaxis.scaleanchor == "x"


def test_boundary_names_classes_that_have_names() -> None:
    """An upload's classes keep their names; numbered classes stay 'class k'."""
    named = charts.view_chart(make_snap(view=boundary_view(2) | {
        "class_names": ["admitted", "rejected"]}))
    assert names(named)[:3] == ["P(rejected)", "admitted", "rejected"]
    assert "admitted (test)" in names(named)
    numbered = charts.view_chart(make_snap(view=boundary_view(2) | {"class_names": ["0", "1"]}))
    assert names(numbered)[1:3] == ["class 0", "class 1"]
    assert numbered.layout.xaxis.title.text == "x₁"
    columns = charts.view_chart(make_snap(view=boundary_view(2) | {
        "feature_names": ["exam1 (standardised)", "exam2 (standardised)"]}))
    assert columns.layout.xaxis.title.text == "exam1 (standardised)"
    assert columns.layout.yaxis.title.text == "exam2 (standardised)"


def test_boundary_three_classes() -> None:
    fig = charts.view_chart(make_snap(view=boundary_view(3)))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2  # class map + confidence overlay
    assert [n for n in names(fig) if n.startswith("class") and "test" not in n] == [
        "class 0", "class 1", "class 2"]
    fig.to_json()


def test_curve_and_surface() -> None:
    curve = charts.view_chart(make_snap(task="regression", view=curve_view()))
    assert names(curve) == ["train", "test", "model"]
    surface = charts.view_chart(make_snap(task="regression", view=surface_view()))
    assert [t.type for t in surface.data] == ["contour", "scatter", "scatter"]
    assert surface.layout.coloraxis.colorscale


def test_surface_points_stand_out_from_the_surface_they_match() -> None:
    """Points are coloured by target on the surface's own colour axis; on a fitted surface they
    are the colour beneath them, so the surface is drawn paler than the points (or they would
    look hollow)."""
    view = surface_view()
    fig = charts.view_chart(make_snap(task="regression", view=view))
    contour, train, test = fig.data
    assert contour.coloraxis == train.marker.coloraxis == test.marker.coloraxis == "coloraxis"
    np.testing.assert_allclose(train.marker.color, np.ravel(view["train"][1]))
    assert contour.opacity == charts.SURFACE_OPACITY < 1
    assert train.opacity is None and test.opacity is None  # the points at full strength


def test_images_confusion_and_misclassified() -> None:
    snap = make_snap(view=images_view(k=20))
    fig = charts.view_chart(snap)
    assert fig.data[0].type == "heatmap"
    assert fig.layout.xaxis.title.text == "predicted" and fig.layout.yaxis.title.text == "true"
    assert fig.data[0].texttemplate == "%{z}"
    grid = charts.misclassified_chart(snap)
    titles = annotations(grid)
    assert len(titles) == 16 and all(" → " in t for t in titles)
    v = snap["view"]
    assert titles[0] == f"c{v['true'][0]} → c{v['pred'][0]}"
    (sheet,) = grid.data  # one picture: 4 x 4 tiles of 28 x 28 with gaps between them
    z = np.asarray(sheet.z)
    assert z.shape == (4 * (28 + 13), 4 * 28 + 3 * 4)
    first, last = z[13:41, 0:28], z[-28:, -28:]  # the top-left and bottom-right tiles
    assert np.allclose(first, v["images"][0]) and np.allclose(last, v["images"][15])
    assert np.isnan(z[:13]).all() and np.isnan(z[:, 28:32]).all()  # title room, a column gap


def test_misclassified_colour_images_are_one_picture() -> None:
    view = images_view(k=3) | {"images": np.random.default_rng(0).uniform(0, 1, (3, 8, 8, 3))}
    grid = charts.misclassified_chart(make_snap(view=view))
    (sheet,) = grid.data
    assert sheet.type == "image" and np.asarray(sheet.z).shape == (8 + 4, 3 * 8 + 2 * 1, 3)
    assert len(annotations(grid)) == 3


def test_misclassified_empty_and_off_view() -> None:
    fig = charts.misclassified_chart(make_snap(view=images_view(k=0)))
    assert "no misclassified test images" in annotations(fig)
    assert charts.misclassified_chart(make_snap(view=boundary_view())) is None
    assert charts.misclassified_chart(make_snap()) is None


# ---------------------------------------------------------------- empty snapshots


EMPTY_VIEWS = [
    None,
    {"kind": "boundary", "x": np.zeros(0), "y": np.zeros(0), "prob": None, "cls": None,
     "conf": None, "train": (np.zeros((0, 2)), np.zeros(0)),
     "test": (np.zeros((0, 2)), np.zeros(0))},
    {"kind": "curve", "x": np.zeros(0), "pred": np.zeros(0), "train": (np.zeros(0), np.zeros(0)),
     "test": (np.zeros(0), np.zeros(0))},
    {"kind": "surface", "x": np.zeros(0), "y": np.zeros(0), "z": np.zeros((0, 0)),
     "train": (np.zeros((0, 2)), np.zeros(0)), "test": (np.zeros((0, 2)), np.zeros(0))},
    {"kind": "images", "confusion": np.zeros((0, 0)), "class_names": [],
     "images": np.zeros((0, 28, 28)), "true": [], "pred": []},
]


@pytest.mark.parametrize("view", EMPTY_VIEWS, ids=lambda v: v["kind"] if v else "none")
def test_empty_snapshot_every_function(view: dict[str, Any] | None) -> None:
    snap = empty_snap(view=view)
    figs = [
        charts.loss_chart(snap), charts.loss_chart(snap, log_y=True), charts.accuracy_chart(snap),
        charts.activation_chart(snap), charts.activation_histogram(snap),
        charts.grad_norm_chart(snap), charts.race_chart({"a": snap}),
        charts.race_chart({"a": snap}, metric="loss"), charts.sparkline([]),
    ]
    figs += [f for f in (charts.view_chart(snap), charts.misclassified_chart(snap)) if f]
    for fig in figs:
        assert isinstance(fig, go.Figure)
        fig.to_json()
    assert charts.WAITING in annotations(charts.loss_chart(snap))
    assert charts.progress_text(snap) == "step 0 / 100 · epoch 0"


def test_bare_snapshot_does_not_raise() -> None:
    for snap in ({}, {"steps": {}, "evals": {}, "activations": {}, "grads": {}, "view": None}):
        for fn in (charts.loss_chart, charts.activation_chart, charts.activation_histogram,
                   charts.grad_norm_chart, charts.accuracy_chart):
            fig = fn(snap)
            assert isinstance(fig, go.Figure)
        assert charts.view_chart(snap) is None
        assert charts.progress_text(snap) == "step 0"


def test_model_without_activation_layers() -> None:
    snap = make_snap()
    snap["activations"] = {"names": [], "kinds": [], "step": [], "mean": np.zeros((0, 0)),
                           "std": np.zeros((0, 0)), "dead": np.zeros((0, 0)),
                           "saturated": np.zeros((0, 0)), "hist": []}
    assert "no activation layers in this model" in annotations(charts.activation_chart(snap))


# ---------------------------------------------------------------- comparisons and text


def test_sparkline() -> None:
    fig = charts.sparkline(np.linspace(3, 0.1, 10_000), width=120, height=30)
    assert fig.layout.width == 120 and fig.layout.height == 30
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert len(fig.data[0].y) <= 240


def test_race_chart_one_trace_per_contender() -> None:
    snaps = {"SGD": make_snap(), "Adam": make_snap(), "RMSprop": make_snap(status="diverged"),
             "late": empty_snap()}
    fig = charts.race_chart(snaps)
    assert names(fig) == ["SGD", "Adam", "RMSprop (diverged)", "late"]
    loss = charts.race_chart({"SGD": make_snap(n=100_000, every=100), "Adam": make_snap()},
                             metric="loss")
    assert len(loss.data) == 2 and all(len(t.x) <= 2000 for t in loss.data)
    acc = charts.race_chart(snaps, metric="test_acc")
    assert acc.layout.yaxis.tickformat == ".0%"


def test_progress_text() -> None:
    snap = make_snap()
    snap["progress"] = {"step": 1200, "epoch": 12, "total_steps": 5000, "samples_per_s": 8431.4,
                        "eta_s": 3.2, "elapsed_s": 10.0}
    expected = "step 1,200 / 5,000 · epoch 12 · 8,431 samples/s · 3 s left"
    assert charts.progress_text(snap) == expected
    snap["progress"].update(eta_s=None, elapsed_s=185.0, samples_per_s=float("nan"))
    assert charts.progress_text(snap) == "step 1,200 / 5,000 · epoch 12 · 3 min 5 s elapsed"


CHART_FILES = sorted(Path(charts.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", [*CHART_FILES, Path(figures.__file__)], ids=lambda p: p.name)
def test_charts_import_no_torch_or_streamlit(path) -> None:
    """The charts and their figure builder import plotly and numpy, and of nnplay only the
    builder and the chart package's own modules: no torch, no streamlit."""
    tree = ast.parse(path.read_text())
    mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    mods |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    ours = {m for m in mods if m == "nnplay.figures" or m.startswith("nnplay.charts.")}
    roots = {m.split(".")[0] for m in mods - ours}
    assert not roots & {"torch", "streamlit", "nnplay"}, mods


def test_boundary_before_the_first_view_draws_the_data_on_square_axes():
    from nnplay import runs
    from nnplay.spec import ExperimentSpec

    snap = runs.data_preview(ExperimentSpec())
    fig = charts.view_chart(snap)
    assert fig.layout.title.text == "the data" and charts.WAITING not in annotations(fig)
    assert len(fig.data) >= 4  # train and test points of two classes (and the legend entry)
    assert fig.layout.yaxis.scaleanchor == "x"
    lo, hi = fig.layout.xaxis.range
    assert lo < snap["view"]["train"][0][:, 0].min() and hi > snap["view"]["train"][0][:, 0].max()


def test_data_preview_by_task():
    from nnplay import runs
    from nnplay.spec import ExperimentSpec

    spec = ExperimentSpec()
    assert runs.data_preview(spec.with_changes({"data.name": "sine", "loss.name": "MSELoss"}))[
        "view"]["kind"] == "curve"
    plane = runs.data_preview(spec.with_changes({"data.name": "plane", "loss.name": "MSELoss"}))
    assert plane["view"]["kind"] == "surface"
    assert charts.view_chart(plane).layout.annotations == ()  # points, no waiting message
    assert runs.data_preview(spec.with_changes({"data.name": "digits"})) is None
