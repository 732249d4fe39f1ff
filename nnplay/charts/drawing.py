"""The "Draw your own" canvas: the drawn points by class over an invisible grid of every cell a
click can land on (a click selects the nearest grid point, which the page turns into a point)."""

from __future__ import annotations

import numpy as np

from nnplay.charts.style import CLASS_COLOURS, MARKER_SIZE, _layout, _px
from nnplay.figures import Figure, plotly_figure, trace

GRID_TRACE = 0  # the index of the invisible grid's trace: the clicks to read
HEIGHT = 380


def grid_points(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every cell's centre, (x, y) flat, column by column, from the cells' coordinates."""
    gx, gy = np.meshgrid(axis, axis, indexing="ij")
    return gx.ravel(), gy.ravel()


@plotly_figure
def drawing_chart(x: np.ndarray, y: np.ndarray, classes: int, axis: np.ndarray,
                  scale: float = 1.0) -> Figure:
    """The drawn points x (N, 2) of classes y (N,) on a square canvas, each class in its colour;
    under them the grid of cells (axis: each cell's coordinate) that takes the clicks, drawn
    invisible."""
    fig = Figure()
    gx, gy = grid_points(axis)
    fig.add_trace(trace("scatter", x=gx, y=gy, mode="markers", name="grid", showlegend=False,
                        hoverinfo="none",
                        marker=dict(size=_px(9, scale), color="rgba(0,0,0,0)"),
                        selected=dict(marker=dict(opacity=0)),
                        unselected=dict(marker=dict(opacity=0))))  # fmt: skip
    for k in range(max(classes, int(y.max()) + 1 if len(y) else 0)):
        mine = y == k
        colour = CLASS_COLOURS[k % len(CLASS_COLOURS)]
        fig.add_trace(trace(
            "scatter", x=x[mine, 0], y=x[mine, 1], mode="markers", name=f"class {k}",
            hoverinfo="skip", unselected=dict(marker=dict(opacity=1)),
            marker=dict(color=colour, size=_px(MARKER_SIZE + 2, scale),
                        line=dict(color="white", width=_px(1.5, scale))),
        ))
    _layout(fig, "your points: click to draw", scale, hovermode="closest",
            height=HEIGHT * scale)
    end = float(np.abs(axis).max()) + 0.05
    fig.update_xaxes(range=[-end, end], fixedrange=True, constrain="domain", showgrid=True)
    fig.update_yaxes(range=[-end, end], fixedrange=True, constrain="domain", scaleanchor="x",
                     scaleratio=1, showgrid=True)
    fig.update_layout(dragmode=False, clickmode="event+select",
                      margin=dict(l=_px(40, scale), r=_px(10, scale), b=_px(30, scale),
                                  t=_px(80, scale)))
    return fig
