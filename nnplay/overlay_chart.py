"""Stored runs overlaid on shared axes: loss and accuracy, one colour per run.

Each run draws a solid line (smoothed training loss per step; test accuracy) and a dotted one
(test loss at evaluations; train accuracy) in its colour, and has one legend entry that toggles
both. Run names are user text: they reach the figure HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from nnplay import charts, escape
from nnplay.charts import Snapshot, style, values
from nnplay.figures import Figure, plotly_figure


def _colour(i: int) -> str:
    """Run i's colour."""
    return charts.PALETTE[i % len(charts.PALETTE)]


def _pair(fig: Figure, i: int, name: str, solid: tuple, dotted: tuple, scale: float) -> None:
    """Run i's solid and dotted line (either may be empty), under one legend entry."""
    shown = False
    for (x, y, what), dash in ((solid, "solid"), (dotted, "dot")):
        if not len(x) or not len(y):
            continue
        fig.add_trace(style._line(x, y, escape.label(name), _colour(i), scale, dash=dash,
                            markers=dash == "dot", legendgroup=f"run{i}", showlegend=not shown,
                            hovertemplate=f"%{{fullData.name}} · {what}: %{{y:.4g}}"
                                          "<extra></extra>"))
        shown = True


@plotly_figure
def overlay_loss_chart(
    snaps: Sequence[Snapshot], names: Sequence[str], scale: float = 1.0, log_y: bool = False
) -> Figure:
    """Each run's smoothed training loss per step (solid) and test loss (dotted)."""
    fig = Figure()
    for i, (snap, name) in enumerate(zip(snaps, names, strict=True)):
        steps, evals = values._section(snap, "steps"), values._section(snap, "evals")
        x, loss = values._arr(steps.get("step")), values._arr(steps.get("loss"))
        smooth = charts.ema(loss) if len(loss) else loss
        test = values._arr(evals.get("step")), values._arr(evals.get("test_loss")), "test loss"
        _pair(fig, i, name, (x, smooth, "train loss (smoothed)"), test, scale)
    style._layout(fig, "loss: training, smoothed (solid) · test (dotted)", scale, x_title="step",
            y_title="loss", log_y=log_y)
    return fig if fig.data else style._message(fig, charts.WAITING, scale)


@plotly_figure
def overlay_accuracy_chart(
    snaps: Sequence[Snapshot], names: Sequence[str], scale: float = 1.0
) -> Figure | None:
    """Each classification run's test accuracy (solid) and train accuracy (dotted); None when
    no run is a classification run."""
    fig, any_classifier = Figure(), False
    for i, (snap, name) in enumerate(zip(snaps, names, strict=True)):
        if snap.get("task", "classification") != "classification":
            continue
        any_classifier = True
        evals = values._section(snap, "evals")
        ex = values._arr(evals.get("step"))
        _pair(fig, i, name, (ex, values._arr(evals.get("test_acc")), "test accuracy"),
              (ex, values._arr(evals.get("train_acc")), "train accuracy"), scale)
    if not any_classifier:
        return None
    style._layout(fig, "accuracy: test (solid) · train (dotted)", scale, x_title="step",
            y_title="accuracy", percent_y=True)
    return fig if fig.data else style._message(fig, charts.WAITING_EVAL, scale)
