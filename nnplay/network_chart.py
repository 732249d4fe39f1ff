"""The network view as a chart: columns of units (inputs, hidden layers, output), each a small
picture of its output over the input plane, and the weights between them as links.

Cheap to redraw every second: all the unit pictures are one PNG (one image trace), the links are
binned by sign and width into a few line traces, and hovering uses two invisible marker traces
(one for the units, one for the links)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnplay import charts
from nnplay.charts import images, model_views, style, values
from nnplay.figures import Figure, plotly_figure, trace

NEGATIVE, POSITIVE = charts.CLASS_COLOURS[0], charts.CLASS_COLOURS[1]  # orange, blue: as TF
WIDTH_BINS = (0.25, 0.5, 0.75)  # |weight| / the largest |weight| drawn: four line widths
LINE_WIDTHS = (0.6, 1.5, 2.8, 4.5)
LINE_ALPHAS = (0.25, 0.45, 0.7, 0.9)
HEIGHT = 560
ASPECT = 1.15  # the drawing's width over its height: about the run area's shape at HEIGHT


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


# The pictures are drawn with a 256-colour palette (one byte a pixel, a quarter of RGBA's PNG
# work): 0 is transparent, then the diverging scale in DIVERGING_LEVELS steps from NEGATIVE
# through white to POSITIVE, then for each class colour CLASS_LEVELS steps from white.
DIVERGING_LEVELS, CLASS_LEVELS, N_CLASS_COLOURS = 161, 11, len(charts.CLASS_COLOURS)
CLASS_BASE = 1 + DIVERGING_LEVELS


def _palette() -> bytes:
    white = np.full(3, 255.0)
    rows = [np.zeros(3)]
    for z in np.linspace(-1, 1, DIVERGING_LEVELS):
        rows.append(white + (_rgb(NEGATIVE if z < 0 else POSITIVE) - white) * abs(z))
    for colour in charts.CLASS_COLOURS:
        rows += [white + (_rgb(colour) - white) * z for z in np.linspace(0, 1, CLASS_LEVELS)]
    table = np.zeros((256, 3))
    table[:len(rows)] = rows
    return table.round().astype(np.uint8).tobytes()


PALETTE = _palette()


def diverging(z: np.ndarray) -> np.ndarray:
    """Palette indices of z in [-1, 1]: NEGATIVE at -1, white at 0, POSITIVE at 1."""
    z = np.clip(np.nan_to_num(z), -1.0, 1.0)
    return (1 + np.rint((z + 1) * (DIVERGING_LEVELS - 1) / 2)).astype(np.uint8)


def towards(z: np.ndarray, k: int) -> np.ndarray:
    """Palette indices of z in [0, 1]: white at 0, class colour k at 1."""
    z = np.clip(np.nan_to_num(z), 0.0, 1.0)
    base = CLASS_BASE + (k % N_CLASS_COLOURS) * CLASS_LEVELS
    return (base + np.rint(z * (CLASS_LEVELS - 1))).astype(np.uint8)


def png(indices: np.ndarray) -> str:
    """An (H, W) image of indices into this module's PALETTE as a PNG data URI (0: transparent)."""
    return images.png(indices, PALETTE)


@dataclass(frozen=True)
class Node:
    """One drawn unit: its column and row, its picture's colours and its hover text."""

    column: int
    row: int
    pixels: np.ndarray  # (n, n) palette indices, rows following y upwards
    hover: str
    picture: np.ndarray  # (n, n) raw values
    zmax: float  # the value drawn at full colour (the layer's shared scale)
    colour: str  # "" for the diverging scale, else the class colour of a probability


def layer_title(layer: Mapping[str, Any]) -> str:
    """'fc1 · ReLU', 'output' (the title of a column)."""
    if layer.get("output"):
        return "output"
    return f"{layer['name']} · {layer['act']}" if layer.get("act") else str(layer["name"])


def nodes(network: Mapping[str, Any], class_names: Sequence[str] = ()) -> list[list[Node]]:
    """The drawn units column by column, each coloured as the view draws it: inputs and hidden
    layers on a diverging scale shared within the column, outputs as the boundary draws them."""
    columns: list[list[Node]] = []
    inputs = np.asarray(network["inputs"])
    names = list(network.get("input_names") or [f"x{i + 1}" for i in range(len(inputs))])
    col = []
    for i, pic in enumerate(inputs):
        m = float(np.abs(pic).max()) or 1.0
        col.append(Node(0, i, diverging(pic / m), f"input {names[i]}<br>range "
                        f"{pic.min():.3g} … {pic.max():.3g}", pic, m, ""))  # fmt: skip
    columns.append(col)
    for c, layer in enumerate(network["layers"], start=1):
        pics = np.asarray(layer["pictures"])
        index = np.asarray(layer["index"]).tolist()
        lo, hi, bias = (np.asarray(layer[k]).ravel() for k in ("lo", "hi", "bias"))
        col = []
        if layer.get("output") and network.get("task") == "classification":
            binary = bool(network.get("binary"))
            shades = diverging(2 * pics - 1) if binary else None  # one call for the layer
            for r, pic in enumerate(pics):
                k = 1 if binary else index[r]
                label = model_views._class_label({"class_names": class_names}, k)
                rgb = shades[r] if shades is not None else towards(pic, k)
                col.append(Node(c, r, rgb, f"output: P({label})<br>bias {bias[r]:.4g}<br>"
                                f"range {lo[r]:.3g} … {hi[r]:.3g}", pic, 1.0,
                                "" if binary else
                                charts.CLASS_COLOURS[k % len(charts.CLASS_COLOURS)]))
        else:
            m = float(np.nanmax(np.abs(np.concatenate([lo, hi])), initial=0.0)) or 1.0
            what = "output" if layer.get("output") else layer_title(layer)
            shades = diverging(pics / m)  # one call for the layer
            for r, pic in enumerate(pics):
                col.append(Node(c, r, shades[r], f"{what}, unit {index[r]}<br>bias "
                                f"{bias[r]:.4g}<br>output {lo[r]:.3g} … {hi[r]:.3g}", pic, m,
                                ""))  # fmt: skip
        columns.append(col)
    return columns


@dataclass(frozen=True)
class Geometry:
    """Where each tile sits, in the image's pixels (one pixel per grid point)."""

    n: int  # tile side
    pitch_x: int
    pitch_y: int
    rows: int  # the tallest column's units
    width: int
    height: int

    @classmethod
    def of(cls, columns: Sequence[Sequence[Node]], n: int) -> Geometry:
        rows = max(len(c) for c in columns)
        pitch_y = n + max(4, n // 4)
        height = rows * pitch_y
        gap = max(2 * n, int((ASPECT * height - len(columns) * n) / max(len(columns) - 1, 1)))
        pitch_x = n + gap
        return cls(n, pitch_x, pitch_y, rows, (len(columns) - 1) * pitch_x + n, height)

    def top_left(self, column: int, row: int, count: int) -> tuple[int, int]:
        """(x, y) pixel of a tile's top-left corner; short columns are centred."""
        return column * self.pitch_x, (self.rows - count) * self.pitch_y // 2 + row * self.pitch_y


def _image(columns: list[list[Node]], g: Geometry) -> np.ndarray:
    """Every tile in one image of palette indices, transparent between them."""
    image = np.zeros((g.height, g.width), np.uint8)
    for col in columns:
        for node in col:
            x, y = g.top_left(node.column, node.row, len(col))
            image[y:y + g.n, x:x + g.n] = node.pixels[::-1]  # the image's rows run downwards
    return image


def _links(fig: Figure, network: Mapping[str, Any], columns: list[list[Node]], g: Geometry,
           scale: float) -> None:
    """The weights as straight links, binned into sign x width traces, and per layer one
    invisible marker trace whose points (along each link) show the weight on hover."""
    mats = [np.asarray(layer["weights"], dtype=np.float32) for layer in network["layers"]]
    biggest = max((float(np.abs(w).max()) for w in mats if w.size), default=0.0) or 1.0
    parts: list[tuple[np.ndarray, ...]] = []  # per layer: x0, y0, x1, y1, weight (flat)
    for c, (layer, w) in enumerate(zip(network["layers"], mats), start=1):
        left, right = len(columns[c - 1]), len(columns[c])
        w = w[:right, :left]  # (dst, src)
        y_left = np.array([g.top_left(c - 1, i, left)[1] for i in range(left)]) + g.n / 2
        y_right = np.array([g.top_left(c, j, right)[1] for j in range(right)]) + g.n / 2
        src, dst = np.meshgrid(np.arange(w.shape[1]), np.arange(w.shape[0]))  # (dst, src)
        src, dst, v = src.ravel(), dst.ravel(), w.ravel()
        x0, x1 = (c - 1) * g.pitch_x + g.n, c * g.pitch_x
        ya, yb = y_left[src], y_right[dst]
        parts.append((np.full(len(v), x0, np.float32), ya, np.full(len(v), x1, np.float32),
                      yb, v))
        # hover points spread along the gap by source unit, so no two links share one
        t = 0.3 + 0.4 * (src + 0.5) / max(left, 1)
        names = _unit_names(network, c - 1)
        fig.add_trace(trace(
            "scatter", x=(x0 + t * (x1 - x0)).astype(np.float32),
            y=(ya + t * (yb - ya)).astype(np.float32), mode="markers", showlegend=False,
            customdata=np.stack([v, np.asarray(layer["index"])[dst]], 1).astype(np.float32),
            text=[names[i] for i in src], name=f"{layer['name']} weights",
            marker=dict(size=style._px(6, scale), color="rgba(0,0,0,0)"),
            hovertemplate=f"{layer['name']}: %{{text}} → unit %{{customdata[1]}}<br>"
                          "weight %{customdata[0]:.4g}<extra></extra>"))
    if not parts:
        return
    x0, y0, x1, y1, v = (np.concatenate(a) for a in zip(*parts))
    size = np.searchsorted(WIDTH_BINS, np.abs(v) / biggest)
    gap = np.full(len(v), np.nan, np.float32)
    for positive in (False, True):
        for k in range(len(LINE_WIDTHS)):
            pick = ((v >= 0) == positive) & (size == k)
            if not pick.any():
                continue
            xs = np.stack([x0[pick], x1[pick], gap[pick]], 1).ravel()  # nan: a gap
            ys = np.stack([y0[pick], y1[pick], gap[pick]], 1).ravel()
            colour = style._rgba(POSITIVE if positive else NEGATIVE, LINE_ALPHAS[k])
            fig.data.insert(0, trace(  # links under everything else
                "scatter", x=xs.astype(np.float32), y=ys.astype(np.float32), mode="lines",
                line=dict(color=colour, width=style._px(LINE_WIDTHS[k], scale)),
                hoverinfo="skip", showlegend=False,
                name=f"{'positive' if positive else 'negative'} weights"))


def _unit_names(network: Mapping[str, Any], column: int) -> list[str]:
    """Short names of a column's drawn units for link hovers: 'x₁', 'unit 3'."""
    if column == 0:
        return [str(n) for n in network.get("input_names") or ["x₁", "x₂"]]
    return [f"unit {i}" for i in np.asarray(network["layers"][column - 1]["index"]).tolist()]


def node_list(network: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    """(column, row, label) of every drawn unit, for a page's 'look closer' list."""
    out = [(0, i, f"input {name}") for i, name in enumerate(network.get("input_names") or [])]
    for c, layer in enumerate(network["layers"], start=1):
        what = "output" if layer.get("output") else layer_title(layer)
        out += [(c, r, f"{what}, unit {u}")
                for r, u in enumerate(np.asarray(layer["index"]).tolist())]
    return out


def _class_names(snap: Mapping[str, Any]) -> list[str]:
    view = snap.get("view") or {}
    return [str(c) for c in (view.get("class_names") or [])]


@plotly_figure
def network_chart(snap: Mapping[str, Any], scale: float = 1.0,
                  selected: tuple[int, int] | None = None) -> Figure | None:
    """The network as TensorFlow Playground draws it, from a snapshot's "network"; None when the
    run has no network view (not a layer stack over a 2D plane)."""
    network = snap.get("network") if isinstance(snap, Mapping) else None
    if not network:
        return None
    columns = nodes(network, _class_names(snap))
    n = int(np.asarray(network["inputs"]).shape[-1])
    g = Geometry.of(columns, n)
    fig = Figure()
    _links(fig, network, columns, g, scale)
    fig.add_trace(trace("image", source=png(_image(columns, g)), x0=0, y0=0, dx=1, dy=1,
                        hoverinfo="skip", name="units"))
    cx, cy, text = [], [], []
    for col in columns:
        for node in col:
            x, y = g.top_left(node.column, node.row, len(col))
            cx.append(x + g.n / 2)
            cy.append(y + g.n / 2)
            text.append(node.hover)
    fig.add_trace(trace("scatter", x=np.array(cx, np.float32), y=np.array(cy, np.float32),
                        mode="markers", text=text,
                        marker=dict(symbol="square", size=style._px(22, scale),
                                    color="rgba(0,0,0,0)"),
                        hovertemplate="%{text}<extra></extra>", showlegend=False, name="units"))
    _labels(fig, network, columns, g, scale)
    if selected is not None and selected[0] < len(columns) and \
            selected[1] < len(columns[selected[0]]):
        x, y = g.top_left(selected[0], selected[1], len(columns[selected[0]]))
        fig.add_shape(type="rect", x0=x - 2, x1=x + g.n + 2, y0=y - 2, y1=y + g.n + 2,
                      xref="x", yref="y", line=dict(color="#222", width=style._px(2.5, scale)))
    pad = g.n * 0.6
    style._layout(fig, "the network", scale, legend=False, hovermode="closest",
                   height=HEIGHT * scale)
    fig.update_xaxes(visible=False, range=[-pad * 2.5, g.width + pad], showgrid=False)
    fig.update_yaxes(visible=False, range=[g.height + pad * 2.5, -pad * 2.5], showgrid=False,
                     scaleanchor="x", scaleratio=1)
    fig.update_layout(margin=dict(l=style._px(10, scale), r=style._px(10, scale),
                                  b=style._px(10, scale), t=style._px(50, scale)),
                      dragmode=False)
    return fig


def _labels(fig: Figure, network: Mapping[str, Any], columns: list[list[Node]], g: Geometry,
            scale: float) -> None:
    """Column titles above, '+N more' below, input names beside the inputs, dropout marks."""
    font = dict(size=style._px(charts.BASE_FONT - 2, scale), color="#333")
    titles = ["input"] + [layer_title(layer) for layer in network["layers"]]
    for c, col in enumerate(columns):
        top = g.top_left(c, 0, len(col))[1]
        x = c * g.pitch_x + g.n / 2
        units = network["layers"][c - 1]["units"] if c else len(col)
        sub = "" if c == 0 or network["layers"][c - 1].get("output") else f"<br>{units} units"
        fig.add_annotation(text=titles[c] + sub, x=x, y=top - 4, xref="x", yref="y",
                           yanchor="bottom", showarrow=False, font=font)
        more = units - len(col)
        if more > 0:
            bottom = g.top_left(c, len(col) - 1, len(col))[1] + g.n
            fig.add_annotation(text=f"+{more} more", x=x, y=bottom + 4, xref="x", yref="y",
                               yanchor="top", showarrow=False, font=font)
    for i, name in enumerate(network.get("input_names") or []):
        y = g.top_left(0, i, len(columns[0]))[1] + g.n / 2
        fig.add_annotation(text=str(name), x=-4, y=y, xref="x", yref="y", xanchor="right",
                           showarrow=False, font=font)
    for c, layer in enumerate(network["layers"], start=1):
        p = float(layer.get("dropout_in") or 0.0)
        if p <= 0:
            continue
        x = (c - 1) * g.pitch_x + g.n + (g.pitch_x - g.n) / 2
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=g.height, xref="x", yref="y",
                      line=dict(color="#777", width=style._px(1.5, scale), dash="dash"))
        fig.add_annotation(text=f"dropout p={p:g}", x=x, y=-4, xref="x", yref="y",
                           yanchor="bottom", showarrow=False, bgcolor="rgba(255,255,255,0.85)",
                           font=dict(size=font["size"], color="#555"))


@plotly_figure
def unit_chart(snap: Mapping[str, Any], column: int, row: int, scale: float = 1.0
               ) -> Figure | None:
    """One unit's picture enlarged, on its layer's colour scale, with the data points on top."""
    network = snap.get("network") if isinstance(snap, Mapping) else None
    if not network:
        return None
    columns = nodes(network, _class_names(snap))
    if column >= len(columns) or row >= len(columns[column]):
        return None
    node = columns[column][row]
    view = snap.get("view") or {}
    xs, ys = np.asarray(network["x"]), np.asarray(network["y"])
    if node.colour:
        colorscale = [[0, "#FFFFFF"], [1, node.colour]]
        zmin, zmax = 0.0, 1.0
    else:
        colorscale = [[0, NEGATIVE], [0.5, "#FFFFFF"], [1, POSITIVE]]
        binary_out = column == len(columns) - 1 and network.get("task") == "classification"
        zmin, zmax = (0.0, 1.0) if binary_out else (-node.zmax, node.zmax)
    fig = Figure()
    title = node.hover.split("<br>")[0]
    fig.add_trace(trace("heatmap", x=values._f32(xs), y=values._f32(ys),
                        z=values._f32(node.picture), zmin=zmin, zmax=zmax, zsmooth="best",
                        colorscale=colorscale, showscale=True, name=title,
                        colorbar=dict(thickness=style._px(12, scale)),
                        hovertemplate="(%{x:.2f}, %{y:.2f})<br>output %{z:.3g}<extra></extra>"))
    train_X, train_y = model_views._xy(view.get("train"), 2)
    test_X, test_y = model_views._xy(view.get("test"), 2)
    labels = [a for a in (train_y, test_y) if a.size]
    n_classes = max(2, max((int(np.nanmax(a)) + 1 for a in labels), default=2))
    if network.get("task") == "classification":
        for X, y, test in ((train_X, train_y, False), (test_X, test_y, True)):
            model_views._points(fig, X, y, scale, test=test, n_classes=n_classes, view=view)
    else:
        fig.add_trace(trace("scatter", x=train_X[:, 0], y=train_X[:, 1], mode="markers",
                            name="training points", hoverinfo="skip",
                            marker=dict(color="#222", size=style._px(4, scale))))
    names = list(network.get("plane_names") or network.get("input_names") or ["x₁", "x₂"])
    style._layout(fig, title, scale, x_title=names[0], y_title=names[1], legend=False,
                   hovermode="closest", default_height=charts.VIEW_HEIGHT)
    model_views._square_axes(fig, xs, ys)
    return fig

