"""Charts of the Compare and Activations pages: boundary row, LR sweep, activation curves."""

from __future__ import annotations

import numpy as np

from nnplay import activations, charts


def boundary_snap(status: str = "running") -> dict:
    xs = ys = np.linspace(-1, 1, 20, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    prob = 1 / (1 + np.exp(-(gx + gy) * 3))
    pts = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    labels = (pts.sum(1) > 0).astype(int)
    return {"status": status, "view": {
        "kind": "boundary", "x": xs, "y": ys, "prob": prob, "cls": (prob > 0.5).astype(int),
        "conf": np.maximum(prob, 1 - prob), "train": (pts, labels), "test": (pts[:5], labels[:5])}}


def test_boundary_row_has_one_panel_per_contender():
    snaps = {"SGD": boundary_snap(), "Adam": boundary_snap("diverged"), "RMSprop": {}}
    fig = charts.boundary_row(snaps)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2  # the third contender has no view yet
    assert {t.xaxis for t in heatmaps} == {"x", "x2"}
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["SGD", "Adam (diverged)", "RMSprop"] and titles[3] == "waiting…"
    assert fig.layout.annotations[3].x == fig.layout.annotations[2].x  # centred on panel 3
    legend = [t.name for t in fig.data if t.showlegend]
    assert len(legend) == len(set(legend))  # class legend shown once, not per panel
    assert fig.layout.yaxis2.scaleanchor == "x2"
    assert charts.boundary_row({}).layout.annotations[0].text == charts.WAITING


def test_lr_sweep_chart_marks_the_best_and_the_diverged():
    fig = charts.lr_sweep_chart([1e-3, 1e-2, 1e-1, 1.0], [0.9, 0.3, 0.5, float("nan")],
                                ["finished", "finished", "finished", "diverged"])
    assert fig.layout.xaxis.type == "log"
    names = [t.name for t in fig.data]
    assert "best: lr=0.01" in names and "diverged" in names
    best = fig.data[names.index("best: lr=0.01")]
    assert list(best.x) == [0.01] and list(best.y) == [0.3]
    crosses = fig.data[names.index("diverged")]
    assert list(crosses.x) == [1.0] and crosses.y[0] > 0.9
    waiting = charts.lr_sweep_chart([1e-3, 1e-2], [0.5, float("nan")], ["finished", "queued"])
    assert [t.name for t in waiting.data] == ["final test loss", "best: lr=0.001"]
    empty = charts.lr_sweep_chart([], [])
    assert empty.layout.annotations[0].text == charts.WAITING_EVAL


def test_activation_curve_chart_shades_flat_regions():
    x = np.linspace(-6, 6, 601)
    f, d = activations.curve("Sigmoid", x)
    regions = activations.flat_regions(x, d)
    fig = charts.activation_curve_chart("Sigmoid", x, f, d, regions, scale=1.5)
    assert len(fig.layout.shapes) == 2
    assert [t.name for t in fig.data] == ["f′ ≈ 0", "f(x)", "f′(x) by autograd"]
    assert list(fig.data[2].y) == list(d)
    assert fig.layout.font.size == charts.BASE_FONT * 1.5
    assert len(charts.activation_curve_chart("Identity", x, x, np.ones_like(x)).layout.shapes) == 0


def test_softmax_chart():
    p = activations.softmax([2.0, 1.0, 0.1], 0.5)
    fig = charts.softmax_chart([2.0, 1.0, 0.1], p, 0.5)
    bar = fig.data[0]
    assert list(bar.x) == ["z1 = 2", "z2 = 1", "z3 = 0.1"]
    assert np.isclose(sum(bar.y), 1.0) and bar.text[0] == f"{p[0]:.1%}"
    assert "T = 0.5" in fig.layout.title.text
