"""Charts that explain one idea: an activation's f and f', softmax."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnplay.charts.style import BASE_FONT, LINE_WIDTH, PALETTE, VIEW_HEIGHT, _layout, _px
from nnplay.charts.values import _arr
from nnplay.figures import Figure, plotly_figure, trace


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
