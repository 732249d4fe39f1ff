"""An image model's first layer as pictures: each unit's weights over the pixels, one tile per
unit, all tiles in one PNG image on one diverging scale centred on 0 (orange negative, white 0,
blue positive, as the network view), with the unit under the pointer on hover."""

from __future__ import annotations

import math

import numpy as np

from nnplay.charts.images import png as palette_png
from nnplay.charts.style import BASE_FONT, CLASS_COLOURS, _layout, _px
from nnplay.charts.values import Snapshot, _section
from nnplay.figures import Figure, plotly_figure, trace

COLUMNS = 16  # most tiles per row
NEGATIVE, POSITIVE = CLASS_COLOURS[0], CLASS_COLOURS[1]  # orange, blue
LEVELS = 255  # palette indices 1..255 span -zmax..zmax; 0 is transparent (the gaps)
SHEET_WIDTH, MAX_ROW, TOP = 520, 64, 70  # about the sheet's width at 1400 px, the most pixels
# a row of tiles takes, and the title's room, before scaling
CLIP = 99.0  # the scale ends at this percentile of |weight|: a few large weights saturate
# rather than wash every other tile out to white


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def _palette() -> bytes:
    white = np.full(3, 255.0)
    rows = [np.zeros(3)] + [white + (_rgb(NEGATIVE if z < 0 else POSITIVE) - white) * abs(z)
                            for z in np.linspace(-1, 1, LEVELS)]  # fmt: skip
    return np.array(rows).round().astype(np.uint8).tobytes()


PALETTE = _palette()
SCALE = [[0.0, NEGATIVE], [0.5, "#FFFFFF"], [1.0, POSITIVE]]


def gap(tile: int) -> int:
    """Pixels between tiles of this size: about a seventh of a tile, at least one."""
    return max(1, tile // 7)


def layout(k: int, h: int, w: int) -> tuple[int, int, int]:
    """(columns, rows, gap) of a sheet of k tiles of h x w pixels."""
    cols = max(1, min(COLUMNS, math.ceil(math.sqrt(k))))  # about square: 64 units as 8 x 8
    return cols, math.ceil(k / cols), gap(max(h, w))


def sheet(tiles: np.ndarray) -> np.ndarray:
    """The tiles (k, H, W) laid out row by row in one (rows, columns) array, NaN in the gaps;
    tile j's top-left corner is at (j // columns * (H + gap), j % columns * (W + gap))."""
    k, h, w = tiles.shape
    cols, rows, g = layout(k, h, w)
    out = np.full((rows * (h + g) - g, cols * (w + g) - g), np.nan, np.float32)
    for j in range(k):
        r, c = divmod(j, cols)
        out[r * (h + g):r * (h + g) + h, c * (w + g):c * (w + g) + w] = tiles[j]
    return out


def scale_end(tiles: np.ndarray) -> float:
    """The |weight| drawn at full colour, shared by every tile: the CLIP percentile of |weight|."""
    found = np.abs(tiles[np.isfinite(tiles)])
    return float(np.percentile(found, CLIP)) if found.size and found.max() > 0 else 1.0


def indices(values: np.ndarray, zmax: float) -> np.ndarray:
    """Palette indices: 1 at -zmax, 128 at 0, 255 at +zmax; 0 (transparent) for NaN."""
    z = np.clip(np.nan_to_num(values / zmax, nan=0.0), -1.0, 1.0)
    out = (1 + np.rint((z + 1) * (LEVELS - 1) / 2)).astype(np.uint8)
    out[np.isnan(values)] = 0
    return out


def png(pixels: np.ndarray) -> str:
    """An (H, W) image of indices into this module's PALETTE as a PNG data URI (0: transparent)."""
    return palette_png(pixels, PALETTE)


@plotly_figure
def weights_chart(snap: Snapshot, scale: float = 1.0) -> Figure | None:
    """The first layer's weights of an image model, one tile per unit (at most 64), from a
    snapshot's "tiles"; None when the run has none."""
    found = _section(snap, "tiles")
    if found.get("tiles") is None:
        return None
    tiles = np.asarray(found["tiles"], dtype=np.float32)  # (k, H, W)
    k, h, w = tiles.shape
    if not k:
        return None
    cols, rows, g = layout(k, h, w)
    zmax = scale_end(tiles)
    picture = sheet(tiles)
    fig = Figure()
    fig.add_trace(trace("image", source=png(indices(picture, zmax)), x0=0, y0=0, dx=1, dy=1,
                        hoverinfo="skip", name="tiles"))
    j = np.arange(k)
    cx = (j % cols) * (w + g) + (w - 1) / 2  # pixel i of the image spans [i - 0.5, i + 0.5]
    cy = (j // cols) * (h + g) + (h - 1) / 2
    flat = tiles.reshape(k, -1)
    layer = str(found.get("layer", "fc1"))
    text = [f"unit {u} of {layer}<br>weights {lo:.3g} to {hi:.3g}"
            for u, lo, hi in zip(j, flat.min(1), flat.max(1))]  # fmt: skip
    # hover: the nearest tile centre, so anywhere on a tile names its unit
    fig.add_trace(trace("scatter", x=cx.astype(np.float32), y=cy.astype(np.float32),
                        mode="markers", text=text, name="units", showlegend=False,
                        marker=dict(symbol="square", size=_px(24, scale),
                                    color="rgba(0,0,0,0)"),
                        hovertemplate="%{text}<extra></extra>"))  # fmt: skip
    # the colour scale, as a bar beside the tiles (one invisible point carries it)
    fig.add_trace(trace("scatter", x=[float(cx[0])], y=[float(cy[0])], mode="markers",
                        hoverinfo="skip", showlegend=False, name="scale",
                        marker=dict(size=1, opacity=0, color=[0.0], colorscale=SCALE,
                                    cmin=-zmax, cmax=zmax, showscale=True,
                                    colorbar=dict(title=dict(text="weight"), len=0.9,
                                                  thickness=_px(14, scale), tickfont=dict(
                                                      size=_px(BASE_FONT - 3, scale))))))
    units = int(found.get("units", k))
    more = f" (first {k} of {units} units)" if units > k else ""
    title = f"What {layer} learned: its units' weights{more}"  # one line at 1400 px
    height = (TOP + rows * min(MAX_ROW, SHEET_WIDTH / cols)) * scale
    _layout(fig, title, scale, legend=False, hovermode="closest", height=height)
    width, tall = cols * (w + g) - g, rows * (h + g) - g
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], showgrid=False)
    fig.update_yaxes(visible=False, range=[tall - 0.5, -0.5], showgrid=False, scaleanchor="x",
                     scaleratio=1)
    fig.update_layout(margin=dict(l=_px(10, scale), r=_px(10, scale), b=_px(10, scale),
                                  t=_px(50, scale)), dragmode=False, hoverdistance=-1)
    return fig
