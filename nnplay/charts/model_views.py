"""Pure chart functions: a run snapshot (plain dicts, lists, numpy arrays) -> plotly Figures.

No torch and no streamlit here. Every function accepts an empty or half-filled snapshot (the start
of a run) and returns a readable figure rather than raising. Styling is sized for a projector and
multiplied by ``scale`` (presentation mode passes ~1.5). Figures are built as plain dicts
(``nnplay.figures``) and reach Plotly unvalidated, so a live refresh costs milliseconds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from nnplay.figures import Figure, plotly_figure, trace

Snapshot = Mapping[str, Any]

# Okabe-Ito (colour-blind safe), ordered for contrast on white; yellow last (weak on white).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
# Class colours: orange / blue first, as in TensorFlow Playground.
CLASS_COLOURS = [
    "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
TRAIN_COLOUR, TEST_COLOUR = "#009E73", "#D55E00"
STEP_COLOUR, SMOOTH_COLOUR, PENALTY_COLOUR = "#56B4E9", "#0072B2", "#CC79A7"
L2_COLOUR = "#D55E00"  # the L2 penalty's line beside the L1's (PENALTY_COLOUR)
# Named colour scales spelt out, as plotly's validation would send them (figures go unvalidated)
VIRIDIS, BLUES, RDBU = (get_colorscale(name) for name in ("Viridis", "Blues", "RdBu"))

BASE_FONT, TITLE_FONT, LINE_WIDTH, MARKER_SIZE = 16, 20, 3, 8
# The predicted surface is drawn this pale: a point is coloured by its target on the surface's
# scale, so on a fitted surface a point at full strength would be the colour under it and look
# hollow (only its rim showing).
SURFACE_OPACITY = 0.55
HALF_TITLE = 30  # characters of title a chart in half the run area's width shows whole at 1400 px
LINE_HEIGHT, VIEW_HEIGHT, LEGEND_ROW = 360, 480, 24
MAX_POINTS, KEEP_LAST, MAX_SCATTER = 2000, 200, 2000
WAITING = "waiting for the first steps…"
WAITING_EVAL = "waiting for the first evaluation…"

AXIS = dict(showline=True, linecolor="#888", ticks="outside", tickcolor="#888", zeroline=False)
# plotly_white's look for 2-D charts: the full "plotly_white" template styles every trace type
# and would be sent with every figure on every refresh.
_GRID = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", zerolinecolor="#EBF0F8", ticks="",
             automargin=True, title=dict(standoff=15), zerolinewidth=2)
TEMPLATE = dict(layout=dict(paper_bgcolor="white", plot_bgcolor="white", autotypenumbers="strict",
                            hoverlabel=dict(align="left"), xaxis=_GRID, yaxis=_GRID))


# ---------------------------------------------------------------- array helpers


def _section(snap: Snapshot | None, key: str) -> Mapping[str, Any]:
    """The dict under ``key`` of a snapshot, or an empty dict."""
    value = snap.get(key) if isinstance(snap, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _arr(values: Any) -> np.ndarray:
    """A 1-D float array (empty for None); +-inf become NaN so plotly draws a gap."""
    if values is None:
        return np.zeros(0)
    a = np.asarray(values, dtype=float).reshape(-1)
    return np.where(np.isinf(a), np.nan, a)


def _mat(values: Any, cols: int) -> np.ndarray:
    """A 2-D float array (samples x cols); empty (0, cols) when missing or malformed."""
    if values is None:
        return np.zeros((0, cols))
    a = np.asarray(values, dtype=float)
    if a.ndim == 1 and cols == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.size == 0:
        return np.zeros((0, cols))
    return np.where(np.isinf(a), np.nan, a)


def _f32(values: np.ndarray) -> np.ndarray:
    """An array as the browser gets it: float32, half the bytes of float64 on every refresh, and
    more precision than a chart can show. Values beyond float32's range become gaps (NaN)."""
    with np.errstate(over="ignore"):
        out = np.asarray(values, dtype=np.float32)
    return np.where(np.isinf(out), np.float32(np.nan), out)


def _rgba(colour: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _thin(n: int, limit: int = MAX_SCATTER) -> np.ndarray:
    """Evenly strided indices, at most ``limit`` of ``n``."""
    if n <= limit:
        return np.arange(n)
    return np.linspace(0, n - 1, limit).astype(int)


def downsample(
    x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS, keep_last: int = KEEP_LAST
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: first and last ``keep_last`` exact, the rest bucket means."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    if n <= max_points:
        return x, y
    if max_points < 3:
        idx = np.linspace(0, n - 1, max(max_points, 0)).astype(int)
        return x[idx], y[idx]
    # The newest point always stays; the exact tail takes at most half of the budget.
    keep_last = max(1, min(int(keep_last), max_points // 2))
    buckets = max_points - keep_last - 1
    old_x = x[1 : n - keep_last].astype(float)
    old_y = y[1 : n - keep_last]
    # len(old) > buckets here, so every bucket holds at least one point.
    starts = np.linspace(0, len(old_x), buckets + 1).astype(int)[:-1]
    counts = np.diff(np.append(starts, len(old_x)))
    bx = np.add.reduceat(old_x, starts) / counts
    valid = np.isfinite(old_y)
    sums = np.add.reduceat(np.where(valid, old_y, 0.0), starts)
    n_valid = np.add.reduceat(valid.astype(int), starts)
    by = np.where(n_valid > 0, sums / np.maximum(n_valid, 1), np.nan)
    tail = slice(n - keep_last, n)
    out_x = np.concatenate([x[:1].astype(float), bx, x[tail].astype(float)])
    out_y = np.concatenate([y[:1], by, y[tail]])
    return out_x, out_y


def ema(values: Any, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average (TensorBoard-style smoothing), vectorised in chunks."""
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size == 0 or weight <= 0:
        return v.copy()
    a = min(float(weight), 0.9999)
    finite = v[np.isfinite(v)]
    prev = float(finite[0]) if finite.size else 0.0
    # Chunks short enough that a**-k stays below 1e50 (no overflow, no precision loss).
    chunk = int(max(1, min(4096, 50 / -math.log10(a))))
    out = np.empty_like(v)
    for start in range(0, v.size, chunk):
        seg = v[start : start + chunk]
        p = a ** np.arange(seg.size)
        res = a * p * prev + (1 - a) * p * np.cumsum(seg / p)
        out[start : start + seg.size] = res
        prev = res[-1]
    return out


# ---------------------------------------------------------------- styling


def _px(value: float, scale: float) -> float:
    """A size in pixels multiplied by the presentation scale."""
    return round(value * scale, 2)


def _layout(
    fig: Figure,
    title: str,
    scale: float = 1.0,
    *,
    x_title: str | None = None,
    y_title: str | None = None,
    height: float | None = None,
    default_height: float = LINE_HEIGHT,
    log_y: bool = False,
    percent_y: bool = False,
    legend: bool = True,
    hovermode: str | bool = "x unified",
) -> Figure:
    """Apply the shared projector-friendly style to ``fig`` and return it; the legend, if any,
    sits in a row between the title and the plot."""
    s = float(scale)
    entries = sum(1 for t in fig.data if t.get("showlegend", True)) if legend else 0
    # a legend of more than two entries wraps in a half-width column and pushes the plot down:
    # the default height grows a row's worth per extra entry to keep the plot's own height
    extra = LEGEND_ROW * max(0, entries - 2)
    h = float(height) if height else (default_height + extra) * s
    top = 92 if legend else 60  # room for the title (and the legend)
    tick = dict(size=_px(BASE_FONT - 1, s))
    x_axis, y_axis = dict(AXIS, tickfont=tick), dict(AXIS, tickfont=tick)
    if x_title is not None:
        x_axis["title"] = dict(text=x_title, font=dict(size=_px(BASE_FONT, s)))
    if y_title is not None:
        y_axis["title"] = dict(text=y_title, font=dict(size=_px(BASE_FONT, s)))
    if log_y:
        y_axis.update(type="log", **_log_ticks(fig))
    if percent_y:
        y_axis.update(tickformat=".0%", range=[0, 1.02], hoverformat=".1%")
    style = dict(
        template=TEMPLATE,
        colorway=PALETTE,
        height=int(round(h)),
        font=dict(size=_px(BASE_FONT, s), color="#222"),
        title=dict(
            text=title, font=dict(size=_px(TITLE_FONT, s)), x=0.01, xanchor="left",
            y=1.0, yanchor="top", yref="container", pad=dict(t=_px(12, s)),
        ),
        margin=dict(l=_px(70, s), r=_px(24, s), b=_px(60, s), t=_px(top, s)),
        showlegend=legend,
        # the legend hangs from just under the title and starts where the title starts (in the
        # figure's own coordinates): in a half-width column it has the figure's whole width, and
        # rows that still wrap push the plot down instead of running into the title
        legend=dict(orientation="h", xref="container", x=0.01, xanchor="left",
                    yref="container", y=1 - _px(46, s) / h, yanchor="top",
                    font=dict(size=_px(BASE_FONT, s)), bgcolor="rgba(255,255,255,0)"),
        hovermode=hovermode,
        hoverlabel=dict(font=dict(size=_px(BASE_FONT - 1, s))),
        uirevision=title,
    )
    axes = [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]
    for name in dict.fromkeys(["xaxis", "yaxis", *axes]):
        style[name] = x_axis if name.startswith("x") else y_axis
    return fig.update_layout(**style)


def _log_ticks(fig: Figure) -> dict:
    """Ticks for a log y axis at 1, 2 and 5 times the powers of ten its data spans, each with its
    full value: plotly's own labels the in-between ticks with a bare digit ('1, 5, 2, 0.1'),
    which reads as nonsense from the back of a classroom. Empty (plotly's ticks) when the data
    spans too little for two such ticks."""
    ys = [np.asarray(t["y"], dtype=float).ravel() for t in fig.data if t.get("y") is not None]
    y = np.concatenate(ys) if ys else np.zeros(0)
    y = y[np.isfinite(y) & (y > 0)]
    if not len(y):
        return {}
    lo, hi = float(y.min()), float(y.max())
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    values = [m * 10.0**d for d in decades for m in (1, 2, 5)]
    inside = [v for v in values if lo <= v <= hi]
    if len(inside) < 2:
        return {}
    if len(inside) > 8:  # many decades: the powers of ten alone
        inside = [v for v in inside if math.log10(v).is_integer()]
    return dict(tickmode="array", tickvals=inside, ticktext=[f"{v:g}" for v in inside])


def _message(fig: Figure, text: str, scale: float = 1.0) -> Figure:
    """Centre a grey message on an otherwise empty plot (no tick labels)."""
    fig.add_annotation(
        text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
        font=dict(size=_px(BASE_FONT + 2, scale), color="#777"),
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, ticks="")
    fig.update_yaxes(showticklabels=False, showgrid=False, ticks="")
    return fig


def _line(
    x: Any, y: Any, name: str, colour: str, scale: float, *, width: float = LINE_WIDTH,
    markers: bool = False, dash: str = "solid", **kwargs: Any,
) -> dict:
    """A downsampled line trace (markers too if asked and there are few points), house style."""
    dx, dy = downsample(_arr(x), _arr(y))
    return trace(
        "scatter", x=_f32(dx), y=_f32(dy), name=name,
        mode="lines+markers" if markers and len(dx) <= 100 else "lines",
        line=dict(color=colour, width=_px(width, scale), dash=dash),
        marker=dict(size=_px(MARKER_SIZE, scale), color=colour), **kwargs,
    )


def _has_data(*arrays: np.ndarray) -> bool:
    """True when any array has at least one element."""
    return any(len(a) for a in arrays)


# ---------------------------------------------------------------- training curves


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


# ---------------------------------------------------------------- views of the model


def _xy(pair: Any, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) from a (X, y) pair; inputs shaped (N, dims) or (N,) when dims == 1."""
    if pair is None or len(pair) != 2:
        return (np.zeros((0, dims)) if dims > 1 else np.zeros(0)), np.zeros(0)
    X, y = np.asarray(pair[0], dtype=float), _arr(pair[1])
    if dims > 1:
        X = X.reshape(-1, dims) if X.size else np.zeros((0, dims))
    else:
        X = X.reshape(-1)
    n = min(len(X), len(y))
    idx = _thin(n)
    return X[idx], y[idx]


def _discrete_scale(colours: Sequence[str]) -> list[list[Any]]:
    """A stepped colourscale: one flat band per class, for z in [-0.5, C - 0.5]."""
    c = len(colours)
    scale: list[list[Any]] = []
    for k, colour in enumerate(colours):
        scale += [[k / c, colour], [(k + 1) / c, colour]]
    return scale


def _label(value: object) -> str:
    """A user's string (an upload's column or class name, a contender's label) as Plotly label
    text: Plotly renders some HTML in labels, links among it, so <, > and & become entities."""
    return html.escape(str(value), quote=False)


def _axis_titles(view: Mapping[str, Any], *default: str) -> list[str]:
    """The inputs' names where the data has them (an upload's columns), else x₁, x₂ (or x)."""
    names = [_label(n) for n in (view.get("feature_names") or [])]
    return names if len(names) == len(default) else list(default)


def _class_label(view: Mapping[str, Any], k: int) -> str:
    """'class 1', or the class's own name where the data has one (an upload's 'admitted')."""
    names = [_label(c) for c in (view.get("class_names") or [])]
    return names[k] if k < len(names) and names[k] != str(k) else f"class {k}"


def _points(
    fig: Figure, X: np.ndarray, y: np.ndarray, scale: float, *, test: bool, n_classes: int,
    view: Mapping[str, Any],
) -> None:
    """Class-coloured training (circle, white rim) or test (diamond, dark rim) points."""
    for k in range(n_classes):
        mask = np.round(y) == k
        if not mask.any():
            continue
        colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        label = _class_label(view, k)
        fig.add_trace(trace(
            "scatter", x=X[mask, 0], y=X[mask, 1], mode="markers", legendgroup=label,
            name=f"{label} (test)" if test else label, showlegend=not test,
            marker=dict(
                color=colour, symbol="diamond" if test else "circle",
                size=_px(MARKER_SIZE + 1, scale),
                line=dict(color="#222" if test else "white", width=_px(1.5, scale)),
            ),
            hovertemplate=f"{label}{' (test)' if test else ''}<br>(%{{x:.2f}}, %{{y:.2f}})"
            "<extra></extra>",
        ))


def _test_legend(fig: Figure, scale: float) -> None:
    """A legend-only entry explaining the test-point symbol."""
    fig.add_trace(trace(
        "scatter", x=[None], y=[None], mode="markers", name="test points",
        marker=dict(symbol="diamond", color="#bbb", size=_px(MARKER_SIZE + 1, scale),
                    line=dict(color="#222", width=_px(1.5, scale))),
    ))


def _square_axes(fig: Figure, x: np.ndarray, y: np.ndarray) -> None:
    """Equal aspect over the grid's extent, shrinking the plot rather than padding the range."""
    fig.update_xaxes(range=[float(x.min()), float(x.max())], constrain="domain", showgrid=False)
    fig.update_yaxes(range=[float(y.min()), float(y.max())], constrain="domain",
                     scaleanchor="x", scaleratio=1, showgrid=False)


@plotly_figure
def boundary_chart(snap: Snapshot, scale: float = 1.0, height: float | None = None) -> Figure:
    """Decision boundary: class probability / class map over the input plane, with the data."""
    return _boundary(snap, scale, height)


def _boundary(snap: Snapshot, scale: float = 1.0, height: float | None = None) -> Figure:
    view = _section(snap, "view")
    gx, gy = _arr(view.get("x")), _arr(view.get("y"))
    train_X, train_y = _xy(view.get("train"), 2)
    test_X, test_y = _xy(view.get("test"), 2)
    cls = np.asarray(view["cls"]) if view.get("cls") is not None else np.zeros((0, 0))
    labels = [a for a in (cls.reshape(-1), train_y, test_y) if a.size]
    top = max((int(np.nanmax(a)) for a in labels), default=1)
    n_classes = max(2, top + 1)
    fig = Figure()
    s = scale
    x_title, y_title = _axis_titles(view, "x₁", "x₂")
    axis_hover = f"{x_title} %{{x:.2f}}<br>{y_title} %{{y:.2f}}<br>"
    if len(gx) and len(gy) and view.get("prob") is not None:
        fig.add_trace(trace(
            "heatmap", x=gx, y=gy, z=_f32(view["prob"]), zmin=0, zmax=1,
            opacity=0.7,
            colorscale=[[0, CLASS_COLOURS[0]], [0.5, "#FFFFFF"], [1, CLASS_COLOURS[1]]],
            name=f"P({_class_label(view, 1)})", showscale=False,
            hovertemplate=axis_hover + f"P({_class_label(view, 1)}) %{{z:.2f}}<extra></extra>",
        ))
    elif len(gx) and len(gy) and cls.size:
        conf = _f32(view["conf"]) if view.get("conf") is not None else None
        colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(n_classes)]
        fig.add_trace(trace(
            "heatmap", x=gx, y=gy, z=cls, zmin=-0.5, zmax=n_classes - 0.5, opacity=0.7,
            colorscale=_discrete_scale(colours), showscale=False, name="predicted class",
            customdata=conf,
            hovertemplate=axis_hover + "predicted class %{z}"
            + ("<br>confidence %{customdata:.0%}" if conf is not None else "")
            + "<extra></extra>",
        ))
        if conf is not None:
            # Whiten uncertain regions: 0 at full confidence, ~0.85 white at chance level.
            doubt = np.clip((1 - conf) / (1 - 1 / n_classes), 0, 1)
            fig.add_trace(trace(
                "heatmap", x=gx, y=gy, z=doubt, zmin=0, zmax=1, showscale=False, hoverinfo="skip",
                colorscale=[[0, "rgba(255,255,255,0)"], [1, "rgba(255,255,255,0.85)"]],
                name="uncertainty",
            ))
    _points(fig, train_X, train_y, s, test=False, n_classes=n_classes, view=view)
    _points(fig, test_X, test_y, s, test=True, n_classes=n_classes, view=view)
    if len(test_X):
        _test_legend(fig, s)
    grid = bool(len(gx) and len(gy))
    _layout(fig, "decision boundary" if grid else "the data", s, x_title=x_title, y_title=y_title,
            height=height, default_height=VIEW_HEIGHT, hovermode="closest")
    if grid:
        _square_axes(fig, gx, gy)
    elif len(train_X) or len(test_X):  # the data before the model's first view
        _square_axes(fig, *_extent(train_X, test_X))
    else:
        _message(fig, WAITING, s)
    return fig


def _extent(*points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) bounds of 2D point sets, padded by 5 %, as two 2-element arrays."""
    both = np.concatenate([p for p in points if len(p)])
    lo, hi = both.min(0), both.max(0)
    pad = 0.05 * np.maximum(hi - lo, 1e-9)
    return np.array([lo[0] - pad[0], hi[0] + pad[0]]), np.array([lo[1] - pad[1], hi[1] + pad[1]])


@plotly_figure
def curve_chart(snap: Snapshot, scale: float = 1.0, height: float | None = None) -> Figure:
    """1-D regression: training/test points and the model's fitted line."""
    view = _section(snap, "view")
    train_x, train_y = _xy(view.get("train"), 1)
    test_x, test_y = _xy(view.get("test"), 1)
    gx, pred = _arr(view.get("x")), _arr(view.get("pred"))
    s = scale
    fig = Figure()
    if len(train_x):
        fig.add_trace(trace(
            "scatter", x=train_x, y=train_y, mode="markers", name="train",
            marker=dict(color=TRAIN_COLOUR, size=_px(MARKER_SIZE, s), opacity=0.75,
                        line=dict(color="white", width=_px(1, s))),
        ))
    if len(test_x):
        fig.add_trace(trace(
            "scatter", x=test_x, y=test_y, mode="markers", name="test",
            marker=dict(color=TEST_COLOUR, size=_px(MARKER_SIZE + 1, s), symbol="diamond",
                        opacity=0.85, line=dict(color="#222", width=_px(1, s))),
        ))
    n = min(len(gx), len(pred))
    if n:
        order = np.argsort(gx[:n], kind="stable")
        fig.add_trace(trace(
            "scatter", x=gx[:n][order], y=pred[:n][order], mode="lines", name="model",
            line=dict(color="#000000", width=_px(LINE_WIDTH + 1, s)),
        ))
    _layout(fig, "model fit", s, x_title=_axis_titles(view, "x")[0], y_title="y", height=height,
            default_height=VIEW_HEIGHT, hovermode="closest")
    if not fig.data:
        _message(fig, WAITING, s)
    return fig


@plotly_figure
def surface_chart(snap: Snapshot, scale: float = 1.0, height: float | None = None) -> Figure:
    """2-D regression: the predicted surface as filled contours, data coloured by target."""
    view = _section(snap, "view")
    gx, gy = _arr(view.get("x")), _arr(view.get("y"))
    z = _mat(view.get("z"), max(len(gx), 1))
    train_X, train_y = _xy(view.get("train"), 2)
    test_X, test_y = _xy(view.get("test"), 2)
    s = scale
    values = [a[np.isfinite(a)] for a in (z.reshape(-1), train_y, test_y)]
    values = [a for a in values if a.size]
    lo = min((float(a.min()) for a in values), default=0.0)
    hi = max((float(a.max()) for a in values), default=1.0)
    fig = Figure()
    x_title, y_title = _axis_titles(view, "x₁", "x₂")
    if len(gx) and len(gy) and z.size:
        fig.add_trace(trace(
            "contour", x=gx, y=gy, z=z, coloraxis="coloraxis", name="prediction", ncontours=14,
            contours=dict(coloring="heatmap"), line=dict(color="white", width=_px(0.8, s)),
            opacity=SURFACE_OPACITY,  # paler than the points, which sit on their own colour
            hovertemplate=f"{x_title} %{{x:.2f}}<br>{y_title} %{{y:.2f}}<br>prediction "
                          "%{z:.3g}<extra></extra>",
        ))
    for X, y, test in ((train_X, train_y, False), (test_X, test_y, True)):
        if not len(X):
            continue
        fig.add_trace(trace(
            "scatter", x=X[:, 0], y=X[:, 1], mode="markers", name="test" if test else "train",
            marker=dict(color=y, coloraxis="coloraxis", size=_px(MARKER_SIZE + 1, s),
                        symbol="diamond" if test else "circle",
                        line=dict(color="#222" if test else "white", width=_px(1.5, s))),
            hovertemplate="(%{x:.2f}, %{y:.2f})<br>target %{marker.color:.3g}<extra></extra>",
        ))
    _layout(fig, "predicted surface", s, x_title=x_title, y_title=y_title, height=height,
            default_height=VIEW_HEIGHT, hovermode="closest")
    fig.update_layout(coloraxis=dict(
        colorscale=VIRIDIS, cmin=lo, cmax=hi if hi > lo else lo + 1,
        colorbar=dict(title=dict(text="value"), thickness=_px(14, s), len=0.8),
    ))
    if len(gx) and len(gy) and z.size:
        fig.update_xaxes(range=[float(gx.min()), float(gx.max())], showgrid=False)
        fig.update_yaxes(range=[float(gy.min()), float(gy.max())], showgrid=False)
    elif not (len(train_X) or len(test_X)):
        _message(fig, WAITING, s)
    return fig


def _class_names(view: Mapping[str, Any], n: int) -> list[str]:
    """Class names from the view, padded with numbers."""
    names = [_label(c) for c in (view.get("class_names") or [])]
    return names + [str(i) for i in range(len(names), n)]


@plotly_figure
def confusion_chart(snap: Snapshot, scale: float = 1.0, height: float | None = None) -> Figure:
    """Confusion matrix of the test set (rows true class, columns predicted), counts annotated."""
    view = _section(snap, "view")
    cm = view.get("confusion")
    cm = np.asarray(cm, dtype=int) if cm is not None else np.zeros((0, 0), dtype=int)
    cm = cm if cm.ndim == 2 else np.zeros((0, 0), dtype=int)
    s = scale
    fig = Figure()
    total = int(cm.sum())
    title = "confusion (test)"
    if cm.size:
        names = _class_names(view, max(cm.shape))
        fig.add_trace(trace(
            "heatmap", z=cm, x=names[: cm.shape[1]], y=names[: cm.shape[0]], colorscale=BLUES,
            showscale=False, texttemplate="%{z}", textfont=dict(size=_px(BASE_FONT - 2, s)),
            hovertemplate="true %{y}<br>predicted %{x}<br>%{z} images<extra></extra>",
            xgap=1, ygap=1, name="confusion",
        ))
        if total:
            title += f" · {np.trace(cm) / total:.1%} correct"
    _layout(fig, title, s, x_title="predicted", y_title="true", height=height,
            default_height=VIEW_HEIGHT, legend=False, hovermode="closest")
    fig.update_xaxes(showgrid=False, showline=False, ticks="", type="category",
                     constrain="domain")
    fig.update_yaxes(showgrid=False, showline=False, ticks="", type="category",
                     autorange="reversed", scaleanchor="x", constrain="domain")
    if not cm.size:
        _message(fig, WAITING_EVAL, s)
    return fig


@plotly_figure
def misclassified_chart(
    snap: Snapshot, scale: float = 1.0, height: float | None = None, limit: int = 16
) -> Figure | None:
    """Up to ``limit`` misclassified test images, each titled 'true → pred'; None off-view.

    The images are tiled into one picture (one trace on one pair of axes) with room between
    the rows for the titles: sixteen subplots cost ~7 ms of server time on every refresh and
    as many plots for the browser to lay out.
    """
    view = _section(snap, "view")
    if view.get("kind") != "images":
        return None
    images = view.get("images")
    imgs = np.asarray(images, dtype=np.float32) if images is not None else np.zeros((0, 1, 1))
    if imgs.ndim == 4 and imgs.shape[1] == 1:  # (k, 1, H, W) -> (k, H, W)
        imgs = imgs[:, 0]
    true, pred = list(view.get("true") or []), list(view.get("pred") or [])
    k = min(len(imgs) if imgs.ndim >= 3 else 0, len(true), len(pred), limit)
    s = scale
    if k == 0:
        fig = _layout(Figure(), "misclassified test images", s, height=height,
                      default_height=200, legend=False)
        return _message(fig, "no misclassified test images", s)
    top = max(max(int(t) for t in true[:k]), max(int(p) for p in pred[:k])) + 1
    names = _class_names(view, top)
    titles = [f"{names[int(true[i])]} → {names[int(pred[i])]}" for i in range(k)]
    ncols = min(k, 4)
    nrows = math.ceil(k / ncols)
    rgb = imgs.ndim == 4 and imgs.shape[-1] == 3
    h, w = imgs.shape[1:3]
    gap_x, gap_y = max(1, round(0.15 * w)), max(2, round(0.45 * h))  # gap_y: a title's room
    sheet_h, sheet_w = nrows * (h + gap_y), ncols * w + (ncols - 1) * gap_x
    fig = Figure()
    if rgb:
        sheet = np.full((sheet_h, sheet_w, 3), 255, dtype=np.uint8)
    else:
        sheet = np.full((sheet_h, sheet_w), np.nan, dtype=np.float32)  # gaps show the page
    for i in range(k):
        row, col = divmod(i, ncols)
        y0, x0 = row * (h + gap_y) + gap_y, col * (w + gap_x)
        sheet[y0:y0 + h, x0:x0 + w] = (np.clip(imgs[i], 0, 1) * 255).astype(np.uint8) if rgb \
            else imgs[i]
        fig.add_annotation(text=titles[i], x=x0 + (w - 1) / 2, y=y0 - 0.5, xref="x", yref="y",
                           xanchor="center", yanchor="bottom", showarrow=False,
                           font=dict(size=_px(BASE_FONT - 1, s)))
        fig.add_shape(type="rect", x0=x0 - 0.5, x1=x0 + w - 0.5, y0=y0 - 0.5, y1=y0 + h - 0.5,
                      xref="x", yref="y", line=dict(color="#BBB", width=1))  # the image's edge
    if rgb:
        fig.add_trace(trace("image", z=sheet, hoverinfo="skip"))
    else:
        fig.add_trace(trace("heatmap", z=sheet, zmin=0, zmax=1, showscale=False,
                            colorscale=[[0, "#FFFFFF"], [1, "#000000"]],
                            hovertemplate="%{z:.2f}<extra></extra>", hoverongaps=False))
    _layout(fig, "misclassified test images", s, height=height,
            default_height=80 + 170 * nrows, legend=False, hovermode="closest")
    fig.update_xaxes(visible=False, range=[-0.5, sheet_w - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[sheet_h - 0.5, -0.5], scaleanchor="x",
                     constrain="domain")
    fig.update_layout(margin=dict(t=_px(50, s), b=_px(10, s), l=_px(10, s), r=_px(10, s)))
    return fig


VIEWS: dict[str, Callable[..., go.Figure]] = {
    "boundary": boundary_chart,
    "curve": curve_chart,
    "surface": surface_chart,
    "images": confusion_chart,
}


def view_chart(
    snap: Snapshot, scale: float = 1.0, height: float | None = None
) -> go.Figure | None:
    """The model view for this run's task (via ``VIEWS``), or None when the run has none."""
    view = _section(snap, "view")
    if not view:
        return None
    draw = VIEWS.get(str(view.get("kind")))
    if draw is None:
        fig = _layout(Figure(), "model view", scale, height=height, legend=False)
        return _message(fig, f"no chart for view kind {view.get('kind')!r}", scale).to_plotly()
    return draw(snap, scale=scale, height=height)


# ---------------------------------------------------------------- comparisons and text


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


def _duration(seconds: float) -> str:
    """'42 s', '3 min 5 s', '2 h 10 min'."""
    sec = int(round(seconds))
    if sec < 60:
        return f"{sec} s"
    if sec < 3600:
        return f"{sec // 60} min {sec % 60} s"
    return f"{sec // 3600} h {sec % 3600 // 60} min"


def _finite_number(value: Any) -> float | None:
    """``value`` as a finite non-negative float, else None."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) and f >= 0 else None


def progress_text(snap: Snapshot) -> str:
    """'step 1,200 / 5,000 · epoch 12 · 8,431 samples/s · 3 s left'."""
    p = _section(snap, "progress")
    step = int(_finite_number(p.get("step")) or 0)
    total = int(_finite_number(p.get("total_steps")) or 0)
    parts = [f"step {step:,} / {total:,}" if total else f"step {step:,}"]
    epoch = _finite_number(p.get("epoch"))
    if epoch is not None:
        parts.append(f"epoch {int(epoch):,}")
    rate = _finite_number(p.get("samples_per_s"))
    if rate:
        parts.append(f"{rate:,.0f} samples/s" if rate >= 100 else f"{rate:.3g} samples/s")
    eta, elapsed = _finite_number(p.get("eta_s")), _finite_number(p.get("elapsed_s"))
    if eta is not None and snap.get("status", "running") == "running":  # none once it has ended
        parts.append(f"{_duration(eta)} left")
    elif elapsed:
        parts.append(f"{_duration(elapsed)} elapsed")
    return " · ".join(parts)


# ---------------------------------------------------------------- race, sweep and activations


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


@plotly_figure
def activation_curve_chart(
    name: str,
    x: Any,
    f: Any,
    df: Any,
    flat: Sequence[tuple[float, float]] = (),
    scale: float = 1.0,
    height: float | None = None,
) -> Figure:
    """f(x) and f'(x) of one activation, with the regions where f' is near zero shaded."""
    x, f, df = _arr(x), _arr(f), _arr(df)
    s = scale
    fig = Figure()
    for lo, hi in flat:
        fig.add_vrect(lo, hi, fillcolor="#999999", opacity=0.18, line=dict(width=0),
                      layer="below")
    if flat:  # a legend entry for the shading
        fig.add_trace(trace("scatter", x=[None], y=[None], mode="markers", name="f′ ≈ 0",
                                 marker=dict(symbol="square", size=_px(14, s),
                                             color="rgba(153,153,153,0.4)")))
    fig.add_trace(trace("scatter", x=x, y=f, mode="lines", name="f(x)",
                             line=dict(color=PALETTE[0], width=_px(LINE_WIDTH + 1, s))))
    fig.add_trace(trace("scatter", x=x, y=df, mode="lines", name="f′(x) by autograd",
                             line=dict(color=PALETTE[1], width=_px(LINE_WIDTH, s), dash="dash")))
    _layout(fig, f"{name}: f and f′", s, x_title="x", y_title="value", height=height,
            default_height=VIEW_HEIGHT)
    fig.update_xaxes(zeroline=True, zerolinecolor="#bbb")
    fig.update_yaxes(zeroline=True, zerolinecolor="#bbb")
    return fig


@plotly_figure
def softmax_chart(
    values: Sequence[float], probs: Sequence[float], temperature: float = 1.0,
    scale: float = 1.0, height: float | None = None,
) -> Figure:
    """Softmax probabilities as bars, each labelled with its input value."""
    v, p = _arr(values), _arr(probs)
    n = min(len(v), len(p))
    labels = [f"z{i + 1} = {v[i]:g}" for i in range(n)]
    s = scale
    fig = Figure().add_trace(trace(
        "bar", x=labels, y=p[:n], text=[f"{q:.1%}" for q in p[:n]], textposition="outside",
        textfont=dict(size=_px(BASE_FONT, s)), marker=dict(color=PALETTE[0]),
        hovertemplate="%{x}<br>p = %{y:.4f}<extra></extra>", name="softmax",
    ))
    _layout(fig, f"softmax(z / T), T = {temperature:g}", s, x_title="input",
            y_title="probability", height=height, legend=False, percent_y=True,
            hovermode="closest")
    fig.update_yaxes(range=[0, 1.15])
    return fig


# ---------------------------------------------------------------- sequences


GATE_TITLES = {"input": "input gate i", "forget": "forget gate f", "output": "output gate o",
               "reset": "reset gate r", "update": "update gate z"}  # fmt: skip
NO_HIDDEN = "Bag of words has no hidden state: it averages its inputs over time."


def _sequence_view(snap: Snapshot) -> Mapping[str, Any]:
    """The snapshot's sequence view, or an empty dict."""
    view = _section(snap, "view")
    return view if view.get("kind") == "sequence" else {}


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
    title = f"hidden state h_t, example {example + 1}"
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
    title = f"gate activations of example {example + 1} (top layer, forward)"
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
    _layout(fig, f"influence per step, example {example + 1}", scale,
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


VIEWS["sequence"] = prediction_chart  # a Sequences run's view, e.g. on the Runs page


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
