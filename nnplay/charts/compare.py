"""Several runs side by side: race lines, boundary rows, a rate sweep, sparklines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnplay.charts.model_views import _boundary
from nnplay.charts.style import (
    BASE_FONT,
    DASHES,
    LINE_WIDTH,
    MARKER_SIZE,
    PALETTE,
    SMOOTH_COLOUR,
    TEMPLATE,
    TEST_COLOUR,
    WAITING,
    WAITING_EVAL,
    _label,
    _layout,
    _line,
    _message,
    _px,
)
from nnplay.charts.values import Snapshot, _arr, _section, downsample, ema
from nnplay.figures import Figure, plotly_figure, trace


@plotly_figure
def sparkline(values: Any, width: int = 160, height: int = 40) -> Figure:
    """A tiny axis-less line of ``values`` (e.g. a run's loss) with a dot on the newest point."""
    y = _arr(values)
    x, y = downsample(np.arange(len(y)), y, max_points=max(2 * width, 10), keep_last=20)
    fig = Figure()
    fig.add_trace(trace("scatter", x=x, y=y, mode="lines", hoverinfo="skip",
                             line=dict(color=SMOOTH_COLOUR, width=1.5)))
    if len(y):
        fig.add_trace(trace("scatter", x=x[-1:], y=y[-1:], mode="markers", hoverinfo="skip",
                                 marker=dict(color=TEST_COLOUR, size=4)))
    fig.update_layout(
        template=TEMPLATE, width=width, height=height, showlegend=False,
        margin=dict(l=2, r=4, t=2, b=2), paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", xaxis=dict(visible=False), yaxis=dict(visible=False),
    )
    return fig


RACE_METRICS = {
    "loss": "smoothed train loss",
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
}


@plotly_figure
def race_chart(
    snaps: Mapping[str, Snapshot],
    metric: str = "test_loss",
    scale: float = 1.0,
    log_y: bool = False,
    height: float | None = None,
) -> Figure:
    """One line per contender (name -> snapshot) of an eval metric, or 'loss' per step."""
    label = RACE_METRICS.get(metric, metric.replace("_", " "))
    fig = Figure()
    any_data = False
    for i, (name, snap) in enumerate(snaps.items()):
        if metric == "loss":
            steps = _section(snap, "steps")
            x, y, markers = _arr(steps.get("step")), ema(_arr(steps.get("loss"))), False
        else:
            evals = _section(snap, "evals")
            x, y, markers = _arr(evals.get("step")), _arr(evals.get(metric)), True
        any_data = any_data or bool(min(len(x), len(y)))
        status = snap.get("status") if isinstance(snap, Mapping) else None
        name = _label(name)  # a contender's label, which a link can set
        shown = f"{name} ({status})" if status in ("diverged", "failed") else str(name)
        fig.add_trace(_line(
            x, y, shown, PALETTE[i % len(PALETTE)], scale, markers=markers,
            dash=DASHES[i % len(DASHES)],
        ))
    _layout(fig, f"race: {label}", scale, x_title="step", y_title=label, height=height,
            log_y=log_y, percent_y=metric.endswith("_acc"))
    if not any_data:
        _message(fig, WAITING if metric == "loss" else WAITING_EVAL, scale)
    return fig


@plotly_figure
def boundary_row(
    snaps: Mapping[str, Snapshot], scale: float = 1.0, height: float | None = None
) -> Figure:
    """One small decision boundary per contender (name -> snapshot), side by side."""
    names = [str(n) for n in snaps]
    if not names:
        fig = _layout(Figure(), "decision boundaries", scale, height=height, legend=False)
        return _message(fig, WAITING, scale)
    titles = []
    for name, snap in snaps.items():
        status = snap.get("status") if isinstance(snap, Mapping) else None
        name = _label(name)  # a contender's label, which a link can set
        titles.append(f"{name} ({status})" if status in ("diverged", "failed") else str(name))
    fig = Figure.subplots(1, len(names), subplot_titles=tuple(titles),
                        horizontal_spacing=0.1 / max(len(names) - 1, 1) + 0.02)
    fig.update_annotations(font=dict(size=_px(BASE_FONT - 1, scale)))
    for col, snap in enumerate(snaps.values(), start=1):
        view = _section(snap, "view")
        gx, gy = _arr(view.get("x")), _arr(view.get("y"))
        for item in _boundary(snap, scale=scale * 0.6).data:
            # one legend for all panels: the first panel's points (a colour map has no entry)
            shown = col == 1 and item["type"] == "scatter" and item.get("showlegend") is not False
            fig.add_trace({**item, "showlegend": shown}, row=1, col=col)
        axis = "" if col == 1 else str(col)
        if len(gx) and len(gy):
            fig.update_xaxes(range=[float(gx.min()), float(gx.max())], constrain="domain",
                             showgrid=False, showticklabels=False, row=1, col=col)
            fig.update_yaxes(range=[float(gy.min()), float(gy.max())], constrain="domain",
                             scaleanchor=f"x{axis}", scaleratio=1, showgrid=False,
                             showticklabels=False, row=1, col=col)
        else:
            x0, x1 = fig.layout[f"xaxis{axis}"]["domain"]
            fig.add_annotation(text="waiting…", x=(x0 + x1) / 2, y=0.5, showarrow=False,
                               xref="paper", yref="paper",
                               font=dict(size=_px(BASE_FONT, scale), color="#777"))
            fig.update_xaxes(visible=False, row=1, col=col)
            fig.update_yaxes(visible=False, row=1, col=col)
    per = 380 if len(names) <= 3 else 320
    _layout(fig, "decision boundaries", scale, height=height, default_height=per,
            hovermode="closest")
    # the class legend goes below the panels, clear of their titles
    fig.update_layout(legend=dict(xref="paper", x=0, yref="paper", y=-0.04, yanchor="top"),
                      margin=dict(t=_px(70, scale), b=_px(60, scale)))
    fig.update_xaxes(ticks="", showline=False)
    fig.update_yaxes(ticks="", showline=False)
    return fig


@plotly_figure
def lr_sweep_chart(
    lrs: Sequence[float],
    losses: Sequence[float],
    statuses: Sequence[str] = (),
    scale: float = 1.0,
    height: float | None = None,
    y_title: str = "final test loss",
) -> Figure:
    """Final loss against learning rate on a log x axis, the best rate starred; diverged runs
    drawn as crosses along the top."""
    lr, loss = _arr(lrs), _arr(losses)
    n = min(len(lr), len(loss))
    lr, loss = lr[:n], loss[:n]
    status = list(statuses)[:n] + [""] * (n - len(list(statuses)[:n]))
    bad = np.array([s in ("diverged", "failed") for s in status], dtype=bool) | ~np.isfinite(loss)
    ok = ~bad & (lr > 0)
    fig = Figure()
    s = scale
    if ok.any():
        fig.add_trace(trace(
            "scatter", x=lr[ok], y=loss[ok], mode="lines+markers", name=y_title,
            line=dict(color=SMOOTH_COLOUR, width=_px(LINE_WIDTH, s)),
            marker=dict(size=_px(MARKER_SIZE + 2, s), color=SMOOTH_COLOUR),
            hovertemplate="lr %{x:.3g}<br>" + y_title + " %{y:.4g}<extra></extra>",
        ))
        i = int(np.flatnonzero(ok)[np.argmin(loss[ok])])
        fig.add_trace(trace(
            "scatter", x=[lr[i]], y=[loss[i]], mode="markers+text", name=f"best: lr={lr[i]:.3g}",
            text=[f"best lr={lr[i]:.3g}"], textposition="top center",
            textfont=dict(size=_px(BASE_FONT, s), color=TEST_COLOUR),
            marker=dict(symbol="star", size=_px(MARKER_SIZE * 2.5, s), color=TEST_COLOUR,
                        line=dict(color="#222", width=_px(1, s))),
            hovertemplate="best: lr %{x:.3g}<br>" + y_title + " %{y:.4g}<extra></extra>",
        ))
    # runs still queued or running have no final loss yet: they are left out, not crossed
    failed = (lr > 0) & np.array([st in ("diverged", "failed") for st in status], dtype=bool)
    if failed.any():
        top = float(np.nanmax(loss[ok])) * 1.15 if ok.any() else 1.0
        fig.add_trace(trace(
            "scatter", x=lr[failed], y=np.full(int(failed.sum()), top), mode="markers+text",
            name="diverged", text=["diverged"] * int(failed.sum()), textposition="bottom center",
            marker=dict(symbol="x", size=_px(MARKER_SIZE + 4, s), color="#B00020"),
            hovertemplate="lr %{x:.3g}: diverged<extra></extra>",
        ))
    _layout(fig, f"learning-rate sweep: {y_title}", s, x_title="learning rate (log scale)",
            y_title=y_title, height=height, hovermode="closest")
    fig.update_xaxes(type="log")
    if not fig.data:
        _message(fig, WAITING_EVAL, s)
    return fig
