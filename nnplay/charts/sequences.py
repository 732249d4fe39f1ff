"""Sequence models: hidden states, gates, saliency, forecasts, per-model bars."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from nnplay.charts.style import (
    BASE_FONT,
    LINE_HEIGHT,
    LINE_WIDTH,
    MARKER_SIZE,
    PALETTE,
    RDBU,
    TEST_COLOUR,
    TRAIN_COLOUR,
    VIRIDIS,
    WAITING,
    WAITING_EVAL,
    _label,
    _layout,
    _line,
    _message,
    _px,
)
from nnplay.charts.values import Snapshot, _arr, _section
from nnplay.figures import Figure, plotly_figure, trace

GATE_TITLES = {"input": "input gate i", "forget": "forget gate f", "output": "output gate o",
               "reset": "reset gate r", "update": "update gate z"}  # fmt: skip
NO_HIDDEN = "Bag of words has no hidden state: it averages its inputs over time."


def _sequence_view(snap: Snapshot) -> Mapping[str, Any]:
    """The snapshot's sequence view, or an empty dict."""
    view = _section(snap, "view")
    return view if view.get("kind") == "sequence" else {}


def _at(snap: Snapshot, title: str, example: int) -> str:
    """title for one example ('..., example 2'), or at a past keyframe the page shows the run
    at, title 'at step N' (short: these charts are half the width; the picker names it)."""
    step = snap.get("cursor") if isinstance(snap, Mapping) else None
    return f"{title}, example {example + 1}" if step is None else f"{title} at step {step:,}"


def _example(view: Mapping[str, Any], key: str, example: int) -> Any:
    """One example's entry of a per-example list in the view (None when missing)."""
    items = view.get(key) or []
    return items[example] if 0 <= example < len(items) else None


def step_labels(view: Mapping[str, Any], example: int) -> list[str]:
    """Tick labels along time: an example's words for token inputs, else step numbers."""
    inputs = _example(view, "inputs", example)
    if inputs is None:
        return []
    if len(inputs) and isinstance(inputs[0], str):
        return [str(w) for w in inputs]
    return [str(t) for t in range(len(inputs))]


def _time_axis(fig: Figure, labels: Sequence[str], **where: Any) -> None:
    """Words (or every few step numbers) as tick labels on a heatmap's time axis."""
    every = max(1, math.ceil(len(labels) / 12))  # at most ~12 labels fit a half-width chart
    fig.update_xaxes(tickvals=list(range(0, len(labels), every)),
                     ticktext=list(labels[::every]), showgrid=False, **where)  # fmt: skip


@plotly_figure
def state_heatmap(hidden: Any, labels: Sequence[str], title: str, scale: float = 1.0,
                  height: float | None = None, directions: int = 1) -> Figure:
    """Hidden state (units x steps) as a heatmap on -1..1; with two directions the backward
    units sit under a line below the forward ones."""
    fig = Figure()
    z = np.asarray(hidden, dtype=float) if hidden is not None else np.zeros((0, 0))
    if z.ndim != 2 or z.size == 0:
        _layout(fig, title, scale, height=height, legend=False)
        return _message(fig, WAITING, scale)
    units = z.shape[0] // directions
    names = [f"{'←' if d else '→' if directions == 2 else ''}{u}"
             for d in range(directions) for u in range(units)]  # fmt: skip
    fig.add_trace(trace(
        "heatmap", z=z, x=list(range(z.shape[1])), y=list(range(z.shape[0])),
        zmin=-1, zmax=1, zmid=0,
        colorscale=RDBU, reversescale=True, customdata=[[n] * z.shape[1] for n in names],
        colorbar=dict(thickness=_px(12, scale), len=0.9),
        hovertemplate="step %{x}<br>unit %{customdata}<br>h = %{z:.3f}<extra></extra>",
    ))  # fmt: skip
    if directions == 2:
        fig.add_hline(units - 0.5, line=dict(color="#222", width=2))
    _layout(fig, title, scale, x_title="time step", y_title="hidden unit", height=height,
            legend=False, hovermode="closest")
    _time_axis(fig, labels)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    return fig


def hidden_state_chart(snap: Snapshot, example: int = 0, scale: float = 1.0,
                       height: float | None = None) -> go.Figure:
    """The top recurrent layer's hidden state for one test example, units x time steps."""
    view = _sequence_view(snap)
    title = _at(snap, "hidden state h_t", example)
    if view and view.get("cell") == "BagOfWords":
        fig = _layout(Figure(), title, scale, height=height, legend=False)
        return _message(fig, NO_HIDDEN, scale).to_plotly()
    bidirectional = bool(_section(_section(snap, "spec"), "model").get("recurrent", {})
                         .get("bidirectional")) if view else False  # fmt: skip
    return state_heatmap(_example(view, "hidden", example), step_labels(view, example), title,
                         scale, height, 2 if bidirectional else 1)


@plotly_figure
def gate_chart(snap: Snapshot, example: int = 0, scale: float = 1.0,
               height: float | None = None) -> Figure:
    """Gate activations (0..1, units x steps) of one test example: an LSTM's input, forget and
    output gates, a GRU's reset and update gates (top layer, forward direction)."""
    view = _sequence_view(snap)
    gates = _example(view, "gates", example) or {}
    title = _at(snap, "gate activations (top layer, forward)", example)
    if not gates:
        fig = _layout(Figure(), title, scale, height=height, legend=False)
        cell = view.get("cell")
        text = WAITING if cell in (None, "LSTM", "GRU", "LSTMCell") else \
            f"A {'plain RNN' if cell == 'RNN' else 'bag of words'} has no gates."
        return _message(fig, text, scale)
    names = list(gates)
    fig = Figure.subplots(1, len(names), subplot_titles=tuple(GATE_TITLES.get(n, n) for n in names),
                    horizontal_spacing=0.06, shared_yaxes=True)
    labels = step_labels(view, example)
    for i, name in enumerate(names, start=1):
        z = np.asarray(gates[name], dtype=float)
        fig.add_trace(trace(
            "heatmap", z=z, zmin=0, zmax=1, colorscale=VIRIDIS, showscale=i == len(names),
            colorbar=dict(thickness=_px(12, scale), len=0.9),
            hovertemplate=f"{name} gate<br>step %{{x}}<br>unit %{{y}}<br>%{{z:.2f}}<extra></extra>",
        ), row=1, col=i)  # fmt: skip
        _time_axis(fig, labels, row=1, col=i)
    _layout(fig, title, scale, height=height, legend=False, hovermode="closest")
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_annotations(font=dict(size=_px(BASE_FONT, scale)))
    return fig


@plotly_figure
def saliency_chart(snap: Snapshot, example: int = 0, scale: float = 1.0,
                   height: float | None = None) -> Figure:
    """How much each step's input moves the prediction: |d output / d input_t| per step."""
    view = _sequence_view(snap)
    values = _arr(_example(view, "saliency", example))
    labels = step_labels(view, example)
    fig = Figure()
    if values.size:
        fig.add_trace(trace("bar", x=list(range(values.size)), y=values,
                            marker=dict(color=PALETTE[0]),
                            hovertemplate="step %{x}: %{y:.3g}<extra></extra>"))  # fmt: skip
    _layout(fig, _at(snap, "input influence", example), scale,
            x_title="time step", y_title="|∂ output / ∂ input|", height=height,
            default_height=LINE_HEIGHT * 0.8, legend=False, hovermode="closest")
    if not values.size:
        return _message(fig, WAITING, scale)
    _time_axis(fig, labels)
    return fig


@plotly_figure
def forecast_chart(snap: Snapshot, example: int = 0, scale: float = 1.0,
                   height: float | None = None) -> Figure:
    """One test window and what follows it: the noisy inputs, the true continuation, the
    model's next-step forecast and its rollout (each forecast fed back in as an input)."""
    view = _sequence_view(snap)
    fig = Figure()
    inputs = _example(view, "inputs", example)
    rollout, future = view.get("rollout"), view.get("future")
    title = f"forecast vs truth, example {example + 1}"
    if inputs is None or rollout is None or future is None or example >= len(rollout):
        _layout(fig, title, scale, height=height)
        return _message(fig, WAITING if not view else "this task has no forecast", scale)
    x_in = _arr(np.asarray(inputs)[:, 0])
    t = x_in.size
    ahead = np.arange(t, t + len(rollout[example]))
    fig.add_trace(trace("scatter", x=np.arange(t), y=x_in, mode="markers+lines",
                        name="inputs (noisy)", line=dict(color="#999", width=_px(1.5, scale)),
                        marker=dict(size=_px(5, scale), color="#777")))  # fmt: skip
    fig.add_trace(_line(ahead, _arr(future[example]), "truth", TRAIN_COLOUR, scale))
    fig.add_trace(_line(ahead, _arr(rollout[example]), "rollout (own forecasts fed back)",
                        PALETTE[0], scale, dash="dash"))
    pred = np.asarray(view.get("pred") if view.get("pred") is not None else [], dtype=float)
    if pred.ndim >= 2 and example < len(pred):
        first = pred[example][-1] if pred.ndim == 3 else pred[example]  # every-step: the last
        fig.add_trace(trace("scatter", x=np.arange(t, t + first.size), y=first, mode="markers",
                                 name="next-step forecast",
                                 marker=dict(size=_px(12, scale), color=TEST_COLOUR,
                                             symbol="diamond")))  # fmt: skip
    fig.add_vline(t - 0.5, line=dict(color="#bbb", dash="dot"))
    return _layout(fig, title, scale, x_title="time step", y_title="value", height=height)


@plotly_figure
def prediction_chart(snap: Snapshot, scale: float = 1.0, height: float | None = None
                     ) -> Figure:
    """Predictions against the truth on a sample of the test set: the probability given to the
    right class (classification), or predicted against true values (regression)."""
    view = _sequence_view(snap)
    fig = Figure()
    truth, pred = view.get("truth"), view.get("pred")
    title = "predictions vs truth (test)"
    if truth is None or pred is None or len(truth) == 0:
        _layout(fig, title, scale, height=height)
        return _message(fig, WAITING, scale)
    truth, pred = np.asarray(truth), np.asarray(pred, dtype=float)
    if snap.get("task") == "classification":
        idx = np.arange(len(truth))
        right = pred[idx, truth.astype(int)]
        ok = pred.argmax(axis=1) == truth
        names = [_label(c) for c in (view.get("class_names") or [])]
        labels = [names[c] if c < len(names) else str(c) for c in truth.astype(int)]
        for mask, name, colour in ((ok, "right", TRAIN_COLOUR), (~ok, "wrong", TEST_COLOUR)):
            fig.add_trace(trace(
                "scatter", x=idx[mask], y=right[mask], mode="markers", name=name,
                marker=dict(size=_px(MARKER_SIZE + 2, scale), color=colour),
                customdata=np.array(labels)[mask],
                hovertemplate="example %{x}<br>truth: %{customdata}<br>"
                              "P(truth) = %{y:.2f}<extra></extra>",
            ))  # fmt: skip
        fig.add_hline(0.5, line=dict(color="#bbb", dash="dot"))
        return _layout(fig, title, scale, x_title="test example",
                       y_title="probability of the true class", height=height, percent_y=True,
                       hovermode="closest")
    t, p = _arr(truth), _arr(pred)
    lo, hi = float(np.nanmin([t.min(), p.min()])), float(np.nanmax([t.max(), p.max()]))
    fig.add_trace(trace("scatter", x=[lo, hi], y=[lo, hi], mode="lines", name="perfect",
                             line=dict(color="#bbb", dash="dot")))  # fmt: skip
    fig.add_trace(trace("scatter", x=t, y=p, mode="markers", name="test values",
                             marker=dict(size=_px(MARKER_SIZE, scale), color=PALETTE[0],
                                         opacity=0.7)))  # fmt: skip
    return _layout(fig, title, scale, x_title="true value", y_title="predicted value",
                   height=height, hovermode="closest")


@plotly_figure
def model_bars(rows: Sequence[Mapping[str, Any]], metrics: Mapping[str, str],
               title: str, scale: float = 1.0, height: float | None = None) -> Figure:
    """Grouped bars: one group per model (rows[i]["name"]), one bar per metric (key -> label);
    a missing or None value is a run still training."""
    fig = Figure()
    names = [str(r.get("name", "")) for r in rows]
    for i, (key, label) in enumerate(metrics.items()):
        values = [r.get(key) for r in rows]
        fig.add_trace(trace(
            "bar", x=names, y=[v if v is not None else 0 for v in values], name=label,
            marker=dict(color=PALETTE[i % len(PALETTE)]),
            text=[f"{v:.0%}" if v is not None else "…" for v in values], textposition="outside",
        ))  # fmt: skip
    _layout(fig, title, scale, y_title="accuracy", height=height, percent_y=True,
            hovermode="closest")
    if not rows:
        _message(fig, WAITING_EVAL, scale)
    return fig


@plotly_figure
def length_chart(rows: Sequence[Mapping[str, Any]], metric: str, label: str, scale: float = 1.0,
                 height: float | None = None, percent: bool = True) -> Figure:
    """A metric against sequence length, one line per cell (rows: cell, seq_len, metric)."""
    fig = Figure()
    cells = list(dict.fromkeys(str(r["cell"]) for r in rows))
    for i, cell in enumerate(cells):
        mine = sorted((r for r in rows if r["cell"] == cell and r.get(metric) is not None),
                      key=lambda r: r["seq_len"])  # fmt: skip
        fig.add_trace(trace(
            "scatter", x=[r["seq_len"] for r in mine], y=[r[metric] for r in mine], name=cell,
            mode="lines+markers", line=dict(color=PALETTE[i % len(PALETTE)],
                                            width=_px(LINE_WIDTH, scale)),
            marker=dict(size=_px(MARKER_SIZE + 2, scale)),
        ))  # fmt: skip
    _layout(fig, f"{label} as sequences grow", scale, x_title="sequence length",
            y_title=label, height=height, percent_y=percent, hovermode="x unified")
    if not any(len(t["x"]) for t in fig.data):
        _message(fig, WAITING_EVAL, scale)
    return fig
