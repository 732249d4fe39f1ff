"""Training curves over steps: loss, accuracy, activations, gradient norms."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from nnplay.charts.style import (
    BASE_FONT,
    DASHES,
    L2_COLOUR,
    LINE_HEIGHT,
    PALETTE,
    PENALTY_COLOUR,
    SMOOTH_COLOUR,
    STEP_COLOUR,
    TEST_COLOUR,
    TRAIN_COLOUR,
    WAITING,
    WAITING_EVAL,
    _has_data,
    _label,
    _layout,
    _line,
    _message,
    _px,
    _rgba,
)
from nnplay.charts.values import Snapshot, _arr, _f32, _mat, _section, downsample, ema
from nnplay.figures import Figure, plotly_figure, trace


def _penalties(steps: Mapping, n: int) -> list[tuple[np.ndarray, str, str]]:
    """The penalty lines a loss chart draws: L1 and L2 apart where the run kept them (and only
    those not zero throughout), else their sum."""
    def drawn(key: str) -> np.ndarray | None:
        y = _arr(steps.get(key))
        return y if len(y) == n and np.nanmax(np.abs(y), initial=0.0) > 0 else None

    parts = [(y, name, colour) for key, name, colour in (
        ("l1", "L1 penalty", PENALTY_COLOUR), ("l2", "L2 penalty", L2_COLOUR))
        if (y := drawn(key)) is not None]  # fmt: skip
    if parts:
        return parts
    total = drawn("penalty")
    return [] if total is None else [(total, "L1/L2 penalty", PENALTY_COLOUR)]


@plotly_figure
def loss_chart(
    snap: Snapshot, scale: float = 1.0, log_y: bool = False, height: float | None = None
) -> Figure:
    """Training loss per step (raw + smoothed), eval train/test loss and the L1 and L2
    penalties, each its own line (a run stored before they were kept apart: their sum)."""
    steps, evals = _section(snap, "steps"), _section(snap, "evals")
    x, loss = _arr(steps.get("step")), _arr(steps.get("loss"))
    ex = _arr(evals.get("step"))
    fig = Figure()
    _origin(fig, snap, scale)
    if len(x):
        fig.add_trace(_line(x, loss, "per step", STEP_COLOUR, scale, width=1, opacity=0.6))
        fig.add_trace(_line(x, ema(loss), "smoothed", SMOOTH_COLOUR, scale))
        for y, name, colour in _penalties(steps, len(x)):
            fig.add_trace(_line(x, y, name, colour, scale, dash="dot"))
    for key, name, colour in (
        ("train_loss", "train (eval)", TRAIN_COLOUR),
        ("test_loss", "test (eval)", TEST_COLOUR),
    ):
        ey = _arr(evals.get(key))
        if len(ex) and len(ey):
            fig.add_trace(_line(ex, ey, name, colour, scale, markers=True))
    _baseline(fig, snap, scale)
    _layout(fig, "loss", scale, x_title="step", y_title="loss", height=height, log_y=log_y)
    _changes(fig, snap, scale)
    _cursor(fig, snap, scale)
    if not _has_data(x, ex):
        return _message(fig, WAITING, scale)
    if isinstance(snap, Mapping) and snap.get("status") == "diverged" and len(x):
        fig.add_vline(
            float(x[-1]), line=dict(color=TEST_COLOUR, width=_px(2, scale), dash="dash"),
            annotation=dict(text="diverged", font=dict(color=TEST_COLOUR)),
        )
    return fig


CHANGE_LABELS = {"optimizer.lr": "lr", "optimizer.momentum": "momentum",
                 "optimizer.weight_decay": "weight decay", "train.l1": "L1", "train.l2": "L2"}


def _changes(fig: Figure, snap: Snapshot, scale: float) -> None:
    """A labelled vertical mark at each setting changed while the run trained."""
    changes = snap.get("changes") if isinstance(snap, Mapping) else None
    for c in changes or ():
        label = f"{CHANGE_LABELS.get(c['setting'], c['setting'])} → {c['value']:g}"
        fig.add_vline(float(c["step"]), line=dict(color="#444", width=_px(1.5, scale),
                                                  dash="dot"),
                      annotation=dict(text=label, textangle=-90, yanchor="top",
                                      font=dict(size=_px(BASE_FONT - 3, scale), color="#444"),
                                      bgcolor="rgba(255,255,255,0.8)"))


PARENT_COLOUR = "#8a8a8a"
CURSOR_COLOUR = "#7b2cbf"


def _cursor(fig: Figure, snap: Snapshot, scale: float) -> None:
    """The step the page is showing the run at (scrubbing back through its keyframes)."""
    step = snap.get("cursor") if isinstance(snap, Mapping) else None
    if step is not None:  # late in the run the label goes left of the line: on its right it
        # would stretch the axis past the run's end to fit (the curves squeezed to the left)
        late = step > 0.6 * (_section(snap, "progress").get("step") or step)
        fig.add_vline(float(step), line=dict(color=CURSOR_COLOUR, width=_px(2, scale)),
                      annotation=dict(text=f"showing step {step:,}", yanchor="bottom", y=0,
                                      xanchor="right" if late else "left",
                                      font=dict(size=_px(BASE_FONT - 3, scale),
                                                color=CURSOR_COLOUR)))


def _origin(fig: Figure, snap: Snapshot, scale: float) -> None:
    """A branch's parent: its smoothed loss up to the step the branch starts from, and a mark
    there, so both futures can be compared."""
    origin = snap.get("origin") if isinstance(snap, Mapping) else None
    if not origin:
        return
    curve = origin.get("curve") or {}
    x, y = _arr(curve.get("step")), _arr(curve.get("loss"))
    if len(x):
        fig.add_trace(_line(x, ema(y), "parent (smoothed)", PARENT_COLOUR, scale, dash="dash"))
    fig.add_vline(float(origin["step"]), line=dict(color=PARENT_COLOUR, width=_px(1.5, scale)),
                  annotation=dict(text=f"branched at step {origin['step']:,}", yanchor="top",
                                  font=dict(size=_px(BASE_FONT - 3, scale),
                                            color=PARENT_COLOUR)))


def _baseline(fig: Figure, snap: Snapshot, scale: float) -> None:
    """A dashed line at the test loss of the dataset's naive baseline, when it has one, named in
    the legend: a label on the plot sat over the curves, which approach that very line."""
    baseline = _section(snap, "info").get("baseline")
    if baseline and baseline[1] is not None and math.isfinite(baseline[1]):
        line = dict(color="#555", dash="dash", width=_px(2, scale))
        fig.add_hline(baseline[1], line=line)
        fig.add_trace(trace("scatter", x=[None], y=[None], mode="lines", line=line,
                            name=f"baseline: {_label(baseline[0])} ({baseline[1]:.3g})"))


@plotly_figure
def accuracy_chart(
    snap: Snapshot, scale: float = 1.0, height: float | None = None
) -> Figure | None:
    """Train and test accuracy at eval steps (y as %); None for a regression run."""
    if not isinstance(snap, Mapping) or snap.get("task", "classification") != "classification":
        return None
    evals = _section(snap, "evals")
    ex = _arr(evals.get("step"))
    fig = Figure()
    for key, name, colour in (
        ("train_acc", "train", TRAIN_COLOUR),
        ("test_acc", "test", TEST_COLOUR),
    ):
        ey = _arr(evals.get(key))
        if len(ex) and len(ey):
            fig.add_trace(_line(ex, ey, name, colour, scale, markers=True))
    _layout(fig, "accuracy", scale, x_title="step", y_title="accuracy", height=height,
            percent_y=True)
    _cursor(fig, snap, scale)
    if not fig.data:
        _message(fig, WAITING_EVAL, scale)
    return fig


def _no_layers_text(snap: Snapshot, what: str) -> str:
    """'waiting…' early in a run, else a note that the model has none of ``what``."""
    step = _section(snap, "progress").get("step") or 0
    return f"no {what} in this model" if step else WAITING


@plotly_figure
def activation_chart(
    snap: Snapshot, scale: float = 1.0, height: float | None = None
) -> Figure:
    """Per activation layer: mean ± std over steps (left), dead / saturated fraction (right)."""
    acts = _section(snap, "activations")
    names = [str(n) for n in (acts.get("names") or [])]
    kinds = list(acts.get("kinds") or [])
    kinds += ["other"] * (len(names) - len(kinds))
    x = _arr(acts.get("step"))
    cols = max(len(names), 1)
    mean, std = _mat(acts.get("mean"), cols), _mat(acts.get("std"), cols)
    dead, sat = _mat(acts.get("dead"), cols), _mat(acts.get("saturated"), cols)
    fig = Figure.subplots(1, 2, horizontal_spacing=0.08)
    n = min(len(x), len(mean))
    for i, name in enumerate(names):
        if n == 0 or i >= mean.shape[1]:
            break
        colour = PALETTE[i % len(PALETTE)]
        mu = mean[:n, i]
        sd = std[:n, i] if i < std.shape[1] and len(std) >= n else np.zeros(n)
        bx, hi = downsample(x[:n], mu + sd)
        _, lo = downsample(x[:n], mu - sd)
        band = dict(mode="lines", line=dict(width=0, color=colour), legendgroup=name,
                    showlegend=False, hoverinfo="skip")
        bx, hi, lo = _f32(bx), _f32(hi), _f32(lo)
        fig.add_trace(trace("scatter", x=bx, y=hi, name=f"{name} +std", **band), row=1, col=1)
        fig.add_trace(trace("scatter", x=bx, y=lo, name=f"{name} -std", fill="tonexty",
                                 fillcolor=_rgba(colour, 0.2), **band), row=1, col=1)
        fig.add_trace(_line(x[:n], mu, name, colour, scale, legendgroup=name), row=1, col=1)
        frac, label = _unit_fraction(kinds[i], dead, sat, i, n)
        if frac is not None:
            fig.add_trace(_line(x[:n], frac, f"{name} {label}", colour, scale,
                                legendgroup=name, showlegend=False), row=1, col=2)
    _layout(fig, "activations", scale, x_title="step", height=height)
    fig.update_yaxes(title=dict(text="mean ± std"), row=1, col=1)
    fig.update_yaxes(title=dict(text="dead / saturated units"), tickformat=".0%",
                     range=[0, 1.02], hoverformat=".1%", side="right", row=1, col=2)  # its
    # title and ticks on the right edge: between the panels they ran into the left one
    if not names:
        _message(fig, _no_layers_text(snap, "activation layers"), scale)
    elif n == 0:
        _message(fig, WAITING, scale)
    return fig


def _unit_fraction(
    kind: str, dead: np.ndarray, sat: np.ndarray, i: int, n: int
) -> tuple[np.ndarray | None, str]:
    """The dead (ReLU family) or saturated (tanh/sigmoid) column for layer ``i``, if any."""
    options = {"relu": [(dead, "dead")], "saturating": [(sat, "saturated")]}
    for table, label in options.get(kind, [(dead, "dead"), (sat, "saturated")]):
        if i < table.shape[1] and len(table) >= n and np.isfinite(table[:n, i]).any():
            return table[:n, i], label
    return None, ""


@plotly_figure
def activation_histogram(
    snap: Snapshot, scale: float = 1.0, height: float | None = None
) -> Figure:
    """Latest histogram of activation values, one small panel per layer."""
    acts = _section(snap, "activations")
    names = [str(n) for n in (acts.get("names") or [])]
    hists = list(acts.get("hist") or [])
    panels = []
    for i, h in enumerate(hists):
        if h is None or len(h) != 2:
            continue
        counts, edges = _arr(h[0]), _arr(h[1])
        if len(counts) == 0 or len(edges) != len(counts) + 1:
            continue
        panels.append((names[i] if i < len(names) else f"layer {i}", i, counts, edges))
    if not panels:
        fig = _layout(Figure(), "activation values", scale, x_title="activation",
                      y_title="share", height=height, legend=False)
        return _message(fig, WAITING if names else _no_layers_text(snap, "activation layers"),
                        scale)
    ncols = min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    # A panel's title is its layer's name without the type ("relu2", not "relu2 (ReLU)"):
    # three full names side by side in half the page ran into each other.
    titles = tuple(name.split(" (")[0] for name, *_ in panels)
    fig = Figure.subplots(nrows, ncols, subplot_titles=titles, shared_yaxes=True,
                          horizontal_spacing=0.05, vertical_spacing=0.25 / nrows + 0.05)
    fig.update_annotations(font=dict(size=_px(BASE_FONT, scale)))
    for k, (name, i, counts, edges) in enumerate(panels):
        share = counts / max(float(np.nansum(counts)), 1.0)
        fig.add_trace(
            trace("bar", x=(edges[:-1] + edges[1:]) / 2, y=share, width=np.diff(edges), name=name,
                   marker=dict(color=PALETTE[i % len(PALETTE)], line=dict(width=0)),
                   showlegend=False, hovertemplate="%{x:.3g}: %{y:.1%}<extra>" + name
                   + "</extra>"),
            row=k // ncols + 1, col=k % ncols + 1,
        )
    steps = _arr(acts.get("step"))
    title = "activation values" + (f" at step {int(steps[-1]):,}" if len(steps) else "")
    default = LINE_HEIGHT + (nrows - 1) * 220
    _layout(fig, title, scale, height=height, default_height=default, legend=False,
            hovermode="closest")
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(nticks=3)
    fig.update_layout(bargap=0)
    return fig


@plotly_figure
def grad_norm_chart(
    snap: Snapshot, scale: float = 1.0, log_y: bool = True, height: float | None = None
) -> Figure:
    """Gradient norm per layer over steps (log y shows vanishing / exploding gradients)."""
    grads = _section(snap, "grads")
    names = [str(n) for n in (grads.get("names") or [])]
    x = _arr(grads.get("step"))
    norm = _mat(grads.get("norm"), max(len(names), 1))
    n = min(len(x), len(norm))
    fig = Figure()
    for i, name in enumerate(names[: norm.shape[1]] if n else []):
        fig.add_trace(_line(x[:n], norm[:n, i], name, PALETTE[i % len(PALETTE)], scale,
                            dash=DASHES[(i // len(PALETTE)) % len(DASHES)]))
    _layout(fig, "gradient norm per layer", scale, x_title="step", y_title="gradient norm",
            height=height, log_y=log_y)
    if not fig.data:
        _message(fig, WAITING, scale)
    return fig
