"""The house style: colours, sizes, the shared layout, messages, lines and labels."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
from plotly.colors import get_colorscale

from nnplay.charts.values import _arr, _f32, downsample
from nnplay.figures import Figure, trace

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
WAITING = "waiting for the first steps…"
WAITING_EVAL = "waiting for the first evaluation…"

AXIS = dict(showline=True, linecolor="#888", ticks="outside", tickcolor="#888", zeroline=False)
# plotly_white's look for 2-D charts: the full "plotly_white" template styles every trace type
# and would be sent with every figure on every refresh.
_GRID = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", zerolinecolor="#EBF0F8", ticks="",
             automargin=True, title=dict(standoff=15), zerolinewidth=2)
TEMPLATE = dict(layout=dict(paper_bgcolor="white", plot_bgcolor="white", autotypenumbers="strict",
                            hoverlabel=dict(align="left"), xaxis=_GRID, yaxis=_GRID))


def _rgba(colour: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)'."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


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


def _label(value: object) -> str:
    """A user's string (an upload's column or class name, a contender's label) as Plotly label
    text: Plotly renders some HTML in labels, links among it, so <, > and & become entities."""
    return html.escape(str(value), quote=False)
