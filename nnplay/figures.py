"""Plotly figures built as plain dicts, handed to Plotly once, unvalidated.

Building a figure through plotly's graph objects validates every property as it is set: about
7 ms a chart, most of a live refresh that redraws six charts every second while a run trains
in the same process. ``Figure`` keeps the few graph-object calls the charts use (add_trace with
row/col, update_layout, update_xaxes/yaxes, annotations, lines and rectangles) over plain
dicts, and ``to_plotly()`` wraps the result in a ``go.Figure`` without validation (~0.3 ms).

What it builds must be what plotly would have built: tests/test_charts.py validates every
chart against plotly's own classes and compares the JSON.
"""

from __future__ import annotations

import base64
import copy
import functools
from collections.abc import Callable
from typing import Any, ParamSpec

import numpy as np
import plotly.graph_objects as go
import plotly.io
from plotly.subplots import make_subplots

P = ParamSpec("P")


def merged(base: dict, extra: dict) -> dict:
    """base updated with extra, recursively for nested dicts (as plotly's update merges)."""
    out = dict(base)
    for key, value in extra.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if nested else value
    return out


def trace(kind: str, **props: Any) -> dict:
    """A trace of plotly type ``kind`` ('scatter', 'heatmap', 'bar', ...)."""
    return {"type": kind, **props}


class Figure:
    """A figure's data (trace dicts) and layout (a dict), with graph-object style updates."""

    def __init__(self, data: list[dict] | None = None, layout: dict | None = None,
                 grid: dict[tuple[int, int], tuple[str, str]] | None = None):
        self.data: list[dict] = list(data or [])
        self.layout: dict = dict(layout or {})
        self.grid = grid or {}  # (row, col) -> ("x2", "y2"), from subplots()

    @classmethod
    def subplots(cls, rows: int, cols: int, subplot_titles: tuple[str, ...] = (),
                 **options: Any) -> Figure:
        """make_subplots(rows, cols, subplot_titles, **options)'s axes and titles; options must
        be hashable. The skeleton is cached by which titles are empty, not by their texts, so
        titles that change every refresh (the misclassified images') still hit the cache."""
        given = [i for i, title in enumerate(subplot_titles) if title]  # plotly skips empty ones
        shape = tuple(str(i) if title else "" for i, title in enumerate(subplot_titles))
        layout, grid = _subplot_skeleton(rows, cols, shape, tuple(sorted(options.items())))
        layout = copy.deepcopy(layout)
        for note, i in zip(layout.get("annotations", ()), given):
            note["text"] = subplot_titles[i]
        return cls(layout=layout, grid=grid)

    # traces
    def add_trace(self, item: dict, row: int | None = None, col: int | None = None) -> Figure:
        if row is not None and col is not None:
            x, y = self.grid[(row, col)]
            item = {**item, "xaxis": x, "yaxis": y}
        self.data.append(item)
        return self

    def axes_of(self, row: int, col: int) -> tuple[str, str]:
        """The ('x2', 'y2') axis references of a subplot."""
        return self.grid[(row, col)]

    # layout
    def update_layout(self, **props: Any) -> Figure:
        self.layout = merged(self.layout, props)
        return self

    def update_xaxes(self, row: int | None = None, col: int | None = None, **props: Any
                     ) -> Figure:
        return self._update_axes("x", row, col, props)

    def update_yaxes(self, row: int | None = None, col: int | None = None, **props: Any
                     ) -> Figure:
        return self._update_axes("y", row, col, props)

    def _update_axes(self, letter: str, row: int | None, col: int | None, props: dict
                     ) -> Figure:
        """Merge props into one subplot's axis, or into every axis of that letter."""
        if row is not None and col is not None:
            ref = self.grid[(row, col)][0 if letter == "x" else 1]
            names = [f"{letter}axis{ref[1:]}"]
        else:
            names = [k for k in self.layout if k.startswith(f"{letter}axis")] or [f"{letter}axis"]
        for name in names:
            self.layout[name] = merged(self.layout.get(name) or {}, props)
        return self

    def add_annotation(self, **props: Any) -> Figure:
        self.layout["annotations"] = [*self.layout.get("annotations", ()), props]
        return self

    def update_annotations(self, **props: Any) -> Figure:
        self.layout["annotations"] = [merged(a, props) for a in self.layout.get("annotations", ())]
        return self

    def add_shape(self, **props: Any) -> Figure:
        self.layout["shapes"] = [*self.layout.get("shapes", ()), props]
        return self

    def add_hline(self, y: float, line: dict, annotation: dict | None = None) -> Figure:
        """A horizontal line across the plot at y, with an optional label at its right end."""
        self.add_shape(type="line", x0=0, x1=1, xref="x domain", y0=y, y1=y, yref="y",
                       line=line)
        if annotation:
            self.add_annotation(**merged(dict(
                x=1, xref="x domain", xanchor="right", y=y, yref="y", yanchor="bottom",
                showarrow=False), annotation))
        return self

    def add_vline(self, x: float, line: dict, annotation: dict | None = None) -> Figure:
        """A vertical line up the plot at x, with an optional label at its top."""
        self.add_shape(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="y domain",
                       line=line)
        if annotation:
            self.add_annotation(**merged(dict(
                x=x, xref="x", xanchor="left", y=1, yref="y domain", yanchor="top",
                showarrow=False), annotation))
        return self

    def add_vrect(self, x0: float, x1: float, **props: Any) -> Figure:
        """A band from x0 to x1, the plot's full height."""
        return self.add_shape(type="rect", x0=x0, x1=x1, xref="x", y0=0, y1=1, yref="y domain",
                              **props)

    # out
    def to_dict(self) -> dict:
        return {"data": self.data, "layout": self.layout}

    def to_plotly(self) -> go.Figure:
        """The figure as plotly's Figure, unvalidated (tests validate every chart)."""
        return go.Figure(self.to_dict(), _validate=False)


@functools.lru_cache(maxsize=32)
def _subplot_skeleton(rows: int, cols: int, titles: tuple[str, ...], options: tuple
                      ) -> tuple[dict, dict[tuple[int, int], tuple[str, str]]]:
    """make_subplots' layout (axes domains, anchors, title annotations in the order of the
    non-empty titles) and each cell's axis references; make_subplots itself takes ~15 ms."""
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None, **dict(options))
    layout = fig.to_dict()["layout"]
    layout.pop("template", None)
    grid = {}
    for r in range(rows):
        for c in range(cols):
            refs = fig._grid_ref[r][c]
            if refs:
                kw = refs[0].trace_kwargs
                grid[(r + 1, c + 1)] = (kw["xaxis"], kw["yaxis"])
    return layout, grid


def plotly_figure(build: Callable[P, Figure | None]) -> Callable[P, go.Figure | None]:
    """A chart function that builds a Figure, returning plotly's (None passes through)."""

    @functools.wraps(build)
    def chart(*args: P.args, **kwargs: P.kwargs) -> go.Figure | None:
        out = build(*args, **kwargs)
        return None if out is None else out.to_plotly()

    return chart


# --- out, as JSON ---------------------------------------------------------------------------

UNTYPED_KEYS = frozenset({"geojson", "layer", "layers", "range"})  # plotly sends these as they are
TYPED = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
         "uint32": "u4", "float32": "f4", "float64": "f8"}  # plotly.js's typed arrays
NARROWER = {"int64": ("int8", "int16", "int32"), "uint64": ("uint8", "uint16", "uint32")}


def to_json(fig: go.Figure) -> str:
    """plotly.io.to_json(fig, validate=False), the same string, without its deep copy of the
    whole figure and its per-array checks: 5-7 ms of a chart's 7-8 ms, most of a live refresh's
    server time (tests/conftest.py compares the two for every figure the tests build)."""
    if fig._frame_objs:  # animation frames: none of nnplay's charts has them
        return plotly.io.to_json(fig, validate=False)
    typed = {"data": [_typed(t) for t in fig._data], "layout": _typed(fig._layout)}
    return plotly.io.json.to_json_plotly(typed)


def _typed(value: object) -> object:
    """value with every numpy array that is a dict's value as plotly.js's typed array (base64),
    as plotly's to_dict() converts them, in new containers (the figure is not changed)."""
    if isinstance(value, dict):
        return {k: v if k in UNTYPED_KEYS else
                _typed_array(v) if isinstance(v, np.ndarray) else _typed(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, (list, tuple)):
        return [_typed(v) for v in value]
    return value


def _typed_array(v: np.ndarray) -> object:
    """plotly's to_typed_array_spec: 64-bit integers narrowed to the smallest type that holds
    them; an array of another kind (strings, objects) or an empty one goes as a list."""
    if v.size == 0:
        return v
    for narrower in NARROWER.get(str(v.dtype), ()):
        info = np.iinfo(narrower)
        if info.min <= v.min() and v.max() <= info.max:
            v = v.astype(narrower)
            break
    short = TYPED.get(str(v.dtype))
    if short is None:
        return v
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec
