"""A race's landscape as a figure: the training loss over the plane through the shared start
(filled contours, log₁₀ of the loss), each contender's projected path on top, and the caption
that says what the picture is and is not. Pure: a LandscapeJob snapshot in, plotly out; no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnplay import escape
from nnplay.charts import BASE_FONT, PALETTE, TEMPLATE, TITLE_FONT
from nnplay.figures import Figure, plotly_figure, trace

LEVELS = [[0.0, "#ffffff"], [0.5, "#dbe5f0"], [1.0, "#98afc7"]]  # as the surface paths' plot
HEIGHT = 560


def _px(value: float, scale: float) -> float:
    return round(value * scale, 2)


def caption(snap: Mapping[str, Any]) -> str:
    """What the figure shows, in words: a 2D slice, its plane, and how much of the paths the
    plane explains (Markdown)."""
    plane = snap.get("plane")
    if plane is None:
        return ""
    first, second = plane.explained
    n = len(plane.origin)
    return (
        f"A **2D slice** of a loss surface over all {n:,} weights: the plane through the shared "
        f"starting weights (the origin) along the two main directions of the contenders' paths "
        f"(PCA of their weights at every evaluation, about the start). That plane explains "
        f"**{plane.explained_total:.0%}** of the paths' movement ({first:.0%} along the first "
        f"direction, {second:.0%} along the second); the rest happens off the plane and is not "
        f"in the picture, and the loss off the plane can be lower or higher than it looks here. "
        f"Contours: the training loss (without L1/L2 penalties) at each point of the plane."
    )


@plotly_figure
def landscape_figure(snap: Mapping[str, Any], titles: Sequence[str],
                     scale: float = 1.0) -> Figure | None:
    """Filled contours of log₁₀ training loss over the plane (the rows computed so far) and each
    contender's path, projected, with its start and end marked; None before the plane is known."""
    coords = snap.get("coords")
    if coords is None:
        return None
    fig = Figure()
    z = np.asarray(snap["z"], dtype=float)
    if np.isfinite(z).any():
        shown = np.log10(np.maximum(z, 1e-12))
        lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
        fig.add_trace(trace(
            "contour", x=np.asarray(snap["a"], np.float32), y=np.asarray(snap["b"], np.float32),
            z=shown.astype(np.float32), colorscale=LEVELS, connectgaps=False,
            contours=dict(start=lo, end=hi, size=(hi - lo) / 16 or 1.0, coloring="fill"),
            line=dict(width=0.6, color="rgba(60,70,90,0.35)"), name="log₁₀ training loss",
            colorbar=dict(title=dict(text="log₁₀ loss"), thickness=_px(14, scale)),
            hovertemplate="(%{x:.3g}, %{y:.3g})<br>log₁₀ loss %{z:.3f}<extra></extra>",
        ))  # fmt: skip
    steps = snap.get("steps") or [[] for _ in coords]
    for i, (title, c, at) in enumerate(zip(titles, coords, steps)):
        colour = PALETTE[i % len(PALETTE)]
        name = escape.label(title)
        fig.add_trace(trace(
            "scatter", x=c[:, 0], y=c[:, 1], mode="lines+markers", name=name,
            line=dict(color=colour, width=_px(2.5, scale)), marker=dict(size=_px(5, scale)),
            customdata=list(at), legendgroup=str(i),
            hovertemplate=f"{name}<br>step %{{customdata}}<extra></extra>",
        ))  # fmt: skip
        fig.add_trace(trace(
            "scatter", x=c[-1:, 0], y=c[-1:, 1], mode="markers", showlegend=False,
            legendgroup=str(i), hoverinfo="skip",
            marker=dict(color=colour, size=_px(13, scale), line=dict(color="white", width=2)),
        ))  # fmt: skip
    fig.add_trace(trace(
        "scatter", x=[0.0], y=[0.0], mode="markers", name="shared start",
        marker=dict(symbol="star", size=_px(16, scale), color="white",
                    line=dict(color="#222", width=_px(1.5, scale))),
        hovertemplate="the shared start<extra></extra>",
    ))  # fmt: skip
    font = dict(size=_px(BASE_FONT, scale))
    plane = snap["plane"]
    axis = dict(showline=True, linecolor="#888", ticks="outside", zeroline=False, showgrid=False)
    first, second = plane.explained
    fig.update_layout(
        template=TEMPLATE, height=int(HEIGHT * scale), font=dict(font, color="#222"),
        title=dict(text=f"The race on a slice of its loss landscape ({plane.explained_total:.0%}"
                        " of the paths' movement)", x=0.01, xanchor="left",
                   font=dict(size=_px(TITLE_FONT, scale))),
        xaxis=dict(axis, title=dict(text=f"direction 1 ({first:.0%})", font=font)),
        yaxis=dict(axis, title=dict(text=f"direction 2 ({second:.0%})", font=font)),
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", font=font),
        margin=dict(l=_px(70, scale), r=_px(20, scale), t=_px(100, scale), b=_px(60, scale)),
        hovermode="closest",
    )  # fmt: skip
    return fig
