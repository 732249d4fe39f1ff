"""Optimisers' paths over a surface's contour plot, and their loss per step, as one figure.

Pure: a SurfaceSpec, the contour grid (numpy) and a PathJob snapshot in, a plotly Figure out; no
torch. Once the paths are complete the figure carries animation frames: its Play button moves a dot
along each path (and a line along the loss curves) in the browser, with no round trip to the
server, and its slider scrubs through the steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from nnplay import surfaces
from nnplay.charts import BASE_FONT, PALETTE, TEMPLATE, TITLE_FONT
from nnplay.figures import Figure, trace
from nnplay.surfaces import SurfaceSpec

MAX_FRAMES = 100
TAIL = 12  # steps of trail drawn bright behind a moving marker
HEIGHT, LOSS_HEIGHT = 560, 300
MARK_SYMBOLS = {"minimum": "star", "saddle": "x", "maximum": "triangle-up"}
# White low ground to a light grey-blue high: the paths' colours stand out everywhere.
LEVELS = [[0.0, "#ffffff"], [0.5, "#dbe5f0"], [1.0, "#98afc7"]]
LOSS_FLOOR = 1e-12  # losses below this sit at it on a log axis (0 has no logarithm)
PICKER = "start here"  # the invisible grid of points a click on the contour plot selects
PICK_POINTS = 41  # per side: a tenth of the plot's width on the smallest surface is 4 points


def _px(value: float, scale: float) -> float:
    return round(value * scale, 2)


def _f32(values: Any) -> np.ndarray:
    """Float32 for plotly: a third of the digits in the JSON a browser receives."""
    return np.asarray(values, dtype=np.float32)


def _contour(spec: SurfaceSpec, n: int) -> dict:
    """The surface's filled contours: levels on a log scale above its floor where it has one."""
    xs, ys, z = surfaces.grid(spec, n)
    floor = spec.info.floor
    shown = surfaces.log_levels(z, floor) if floor is not None else z
    lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
    what = "log₁₀ height above the minimum" if floor is not None else "f(x, y)"
    return trace(
        "contour", x=_f32(xs), y=_f32(ys), z=_f32(shown), colorscale=LEVELS, showscale=False,
        contours=dict(start=lo, end=hi, size=(hi - lo) / 18 or 1.0, coloring="fill"),
        line=dict(width=0.6, color="rgba(60,70,90,0.35)"), name=what,
        hovertemplate="x=%{x:.3f}<br>y=%{y:.3f}<extra></extra>", showlegend=False,
    )


def picker_grid(info: surfaces.SurfaceInfo, n: int = PICK_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """The points a click on the contour plot can choose as the start: an n x n grid over the
    plot's box (flattened x and y), so that a click lands on round numbers."""
    xs = np.linspace(*info.x_range, n)
    ys = np.linspace(*info.y_range, n)
    gx, gy = np.meshgrid(xs, ys)
    return gx.ravel(), gy.ravel()


def _picker(info: surfaces.SurfaceInfo) -> dict:
    """Invisible points under the contours that a click selects (plotly selects points, not
    areas); their hover says what a click does."""
    x, y = picker_grid(info)
    return trace(
        "scatter", x=_f32(x), y=_f32(y), mode="markers", name=PICKER, showlegend=False,
        marker=dict(size=6, opacity=0, color="#000"),
        hovertemplate="click to start here<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
    )


def _loss_values(path: np.ndarray, floor: float | None) -> np.ndarray:
    loss = path[:, 2] if len(path) else np.zeros(0)
    return np.maximum(loss, LOSS_FLOOR) if floor is not None else loss


def _frame_steps(lengths: Sequence[int]) -> list[int]:
    """The steps the animation stops at: all of them, or MAX_FRAMES spread evenly."""
    last = max(lengths, default=1) - 1
    if last <= 0:
        return []
    return sorted({int(round(k)) for k in np.linspace(0, last, min(last + 1, MAX_FRAMES))})


def _shapes(paths: Sequence[np.ndarray], k: int, info: surfaces.SurfaceInfo,
            refs: tuple[str, str, str], scale: float) -> list[dict]:
    """Where every contender is at step k: a dot with a bright trail of its last steps on the
    contour plot, and a line at step k across the loss plot. Shapes rather than traces: plotly
    animates layout changes without touching the contour, which a trace animation removes."""
    xref, yref, loss_x = refs
    r = 0.012 * (info.x_range[1] - info.x_range[0])
    shapes = []
    for i, p in enumerate(paths):
        if not len(p):
            continue
        colour = PALETTE[i % len(PALETTE)]
        j = min(k, len(p) - 1)
        tail = p[max(0, j - TAIL): j + 1, :2]
        if len(tail) > 1 and np.isfinite(tail).all():
            path = "M" + " L".join(f"{x:.5g},{y:.5g}" for x, y in tail)
            shapes.append(dict(type="path", path=path, xref=xref, yref=yref,
                               line=dict(color=colour, width=_px(5, scale))))  # fmt: skip
        x, y = p[j, 0], p[j, 1]
        if np.isfinite(x) and np.isfinite(y):
            shapes.append(dict(type="circle", xref=xref, yref=yref, x0=x - r, x1=x + r,
                               y0=y - r, y1=y + r, fillcolor=colour,
                               line=dict(color="white", width=_px(2, scale))))  # fmt: skip
    shapes.append(dict(type="line", xref=loss_x, yref=f"{loss_x.replace('x', 'y')} domain",
                       x0=k, x1=k, y0=0, y1=1, line=dict(color="#555", width=_px(1.5, scale),
                                                         dash="dot")))  # fmt: skip
    return shapes


def _frames(paths: Sequence[np.ndarray], info: surfaces.SurfaceInfo, refs: tuple[str, str, str],
            scale: float) -> list[dict]:
    """One frame per shown step: the shapes that say where each contender is."""
    return [dict(name=str(k), layout=dict(shapes=_shapes(paths, k, info, refs, scale)))
            for k in _frame_steps([len(p) for p in paths])]  # fmt: skip


def _controls(frames: list[dict], scale: float, below: float) -> dict:
    """A Play and a Pause button, and a slider over the frames, `below` (a fraction of the
    plot's height) under the plots."""
    still = dict(mode="immediate", frame=dict(duration=0, redraw=False),
                 transition=dict(duration=0))  # fmt: skip
    play = dict(frame=dict(duration=60, redraw=False), transition=dict(duration=0),
                fromcurrent=False, mode="immediate")  # fmt: skip
    font = dict(size=_px(BASE_FONT, scale))
    buttons = dict(type="buttons", direction="left", x=0.0, xanchor="left", y=-below,
                   yanchor="top", pad=dict(t=0, r=10), showactive=False, font=font, buttons=[
                       dict(label="▶ Play", method="animate", args=[None, play]),
                       dict(label="❚❚ Pause", method="animate", args=[[None], still])])
    slider = dict(
        active=len(frames) - 1, x=0.22, len=0.78, y=-below, yanchor="top", pad=dict(t=0),
        ticklen=0, minorticklen=0, tickwidth=0,
        font=dict(size=1, color="rgba(0,0,0,0)"),  # the steps' own labels: too many to read
        currentvalue=dict(prefix="step ", font=dict(font, color="#222"), offset=_px(4, scale)),
        steps=[dict(label=f["name"], method="animate", args=[[f["name"]], still])
               for f in frames],
    )  # fmt: skip
    return dict(updatemenus=[buttons], sliders=[slider])


def path_figure(spec: SurfaceSpec, snap: Mapping[str, Any], scale: float = 1.0,
                stacked: bool = False, grid_points: int = 101, pickable: bool = False
                ) -> go.Figure:
    """The contour plot with every contender's path and current point, and beside it (or
    under it, stacked) the loss per step; animation frames once every path is complete.
    pickable: invisible points under the contours (the last trace) for a click to choose the
    start point from."""
    info = spec.info
    titles = spec.titles()
    paths = [np.asarray(p, dtype=float).reshape(-1, 3) for p in snap.get("paths", ())]
    paths += [np.zeros((0, 3))] * (len(titles) - len(paths))
    floor = info.floor
    if stacked:
        fig = Figure.subplots(2, 1, ("", "loss per step"), vertical_spacing=0.16,
                              row_heights=(HEIGHT, LOSS_HEIGHT))
        loss_cell, height = (2, 1), (HEIGHT + LOSS_HEIGHT + 80) * scale
    else:
        fig = Figure.subplots(1, 2, ("", "loss per step"), horizontal_spacing=0.1,
                              column_widths=(0.58, 0.42))
        loss_cell, height = (1, 2), HEIGHT * scale + 60
    fig.add_trace(_contour(spec, grid_points), 1, 1)
    marks = info.marks
    fig.add_trace(trace(
        "scatter", x=[m.x for m in marks], y=[m.y for m in marks], mode="markers",
        name="minimum" if all(m.kind == "minimum" for m in marks) else "marked points",
        text=[m.kind for m in marks], hovertemplate="%{text} (%{x:.3f}, %{y:.3f})<extra></extra>",
        marker=dict(symbol=[MARK_SYMBOLS[m.kind] for m in marks], size=_px(16, scale),
                    color="white", line=dict(color="#222", width=_px(1.5, scale))),
        showlegend=False,
    ), 1, 1)  # fmt: skip
    width = _px(2.5, scale)
    for i, (title, p) in enumerate(zip(titles, paths)):
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(trace(
            "scatter", x=_f32(p[:, 0]), y=_f32(p[:, 1]), mode="lines", name=title,
            legendgroup=str(i), line=dict(color=colour, width=width), opacity=0.8,
            customdata=_f32(p[:, 2]), hovertemplate=f"{title}<br>step %{{pointNumber}}<br>"
            "(%{x:.4f}, %{y:.4f})<br>loss %{customdata:.4g}<extra></extra>",
        ), 1, 1)  # fmt: skip
    for i, (title, p) in enumerate(zip(titles, paths)):
        fig.add_trace(trace(
            "scatter", x=np.arange(len(p)), y=_f32(_loss_values(p, floor)), mode="lines",
            name=title, legendgroup=str(i), showlegend=False,
            line=dict(color=PALETTE[i % len(PALETTE)], width=width),
            hovertemplate=f"{title}<br>step %{{x}}: loss %{{y:.4g}}<extra></extra>",
        ), *loss_cell)  # fmt: skip
    if pickable:
        fig.add_trace(_picker(info), 1, 1)
    font, tick = dict(size=_px(BASE_FONT, scale)), dict(size=_px(BASE_FONT - 1, scale))
    axis = dict(showline=True, linecolor="#888", ticks="outside", tickfont=tick, zeroline=False,
                showgrid=False)  # fmt: skip
    fig.update_xaxes(1, 1, **axis, range=list(info.x_range), title=dict(text="x", font=font),
                     constrain="domain")  # fmt: skip
    x_ref = fig.axes_of(1, 1)[0]
    fig.update_yaxes(1, 1, **axis, range=list(info.y_range), title=dict(text="y", font=font),
                     scaleanchor=x_ref, scaleratio=1, constrain="domain")  # fmt: skip
    fig.update_xaxes(*loss_cell, **axis, title=dict(text="step", font=font),
                     range=[0, spec.steps])  # fmt: skip
    fig.update_yaxes(*loss_cell, **(axis | dict(showgrid=True)), gridcolor="#EBF0F8",
                     type="log" if floor is not None else "linear",
                     title=dict(text="loss" + (" (log scale)" if floor is not None else ""),
                                font=font), exponentformat="power")  # fmt: skip
    fig.update_annotations(font=dict(size=_px(BASE_FONT + 1, scale)))
    done = bool(snap.get("done")) and any(len(p) for p in paths)
    x_ref, y_ref = fig.axes_of(1, 1)
    refs = (x_ref, y_ref, fig.axes_of(*loss_cell)[0])
    last = max((len(p) for p in paths), default=1) - 1
    fig.update_layout(shapes=_shapes(paths, last, info, refs, scale))
    frames = _frames(paths, info, refs, scale) if done else []
    start = ", ".join(f"{v:g}" for v in spec.start)
    top, bottom = _px(110, scale), _px(150 if frames else 60, scale)
    height += 90 * scale if frames else 0
    below = (bottom - _px(70, scale)) / max(height - top - bottom, 1.0)
    fig.update_layout(
        template=TEMPLATE, height=int(round(height)),
        font=dict(size=_px(BASE_FONT, scale), color="#222"),
        title=dict(text=f"{info.label}: paths from ({start})", x=0.01, xanchor="left",
                   font=dict(size=_px(TITLE_FONT, scale))),
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", font=font),
        margin=dict(l=_px(60, scale), r=_px(20, scale), t=top, b=bottom),
        hovermode="closest", uirevision=f"{spec.surface}",
        **(_controls(frames, scale, below) if frames else {}),
    )  # fmt: skip
    out = fig.to_dict()
    if frames:
        out["frames"] = frames
    return go.Figure(out, _validate=False)


def status_rows(spec: SurfaceSpec, snap: Mapping[str, Any]) -> list[dict]:
    """One row per contender: its name, how it ended, where, and its loss there."""
    rows = []
    paths = list(snap.get("paths", ()))
    for i, (title, status) in enumerate(zip(spec.titles(), snap.get("status", ()))):
        p = np.asarray(paths[i], dtype=float).reshape(-1, 3) if i < len(paths) else None
        last = p[-1] if p is not None and len(p) else None
        rows.append({"optimiser": title, "status": status,
                     "steps": max(len(p) - 1, 0) if p is not None else 0,
                     "ends at x": float(last[0]) if last is not None else None,
                     "y": float(last[1]) if last is not None else None,
                     "loss": float(last[2]) if last is not None else None})  # fmt: skip
    return rows
