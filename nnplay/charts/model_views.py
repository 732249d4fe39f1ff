"""Views of the model on its data: boundary, fit, surface, confusion, images."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnplay.charts.style import (
    BASE_FONT,
    BLUES,
    CLASS_COLOURS,
    LINE_WIDTH,
    MARKER_SIZE,
    SURFACE_OPACITY,
    TEST_COLOUR,
    TRAIN_COLOUR,
    VIEW_HEIGHT,
    VIRIDIS,
    WAITING,
    WAITING_EVAL,
    _label,
    _layout,
    _message,
    _px,
)
from nnplay.charts.values import Snapshot, _arr, _f32, _mat, _section, _thin
from nnplay.figures import Figure, plotly_figure, trace


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
