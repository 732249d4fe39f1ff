"""The "Draw your own" dataset's controls: click the canvas to add a point of the chosen class
or, in erase mode, remove the nearest one; clear; or start from a generated set's points.

The points live in session_state["data.points"] (the spec's data.points, as nnplay.drawn
writes them); the page builds the spec from it like from any widget."""

from __future__ import annotations

import numpy as np
import streamlit as st

from nnplay import drawn
from nnplay.charts.drawing import GRID_TRACE, drawing_chart
from nnplay.spec import DATASETS

ERASE = "erase"
# the generated 2D sets with classes, and how many of their points a drawing starts from
STARTS = tuple(n for n, info in DATASETS.items()
               if info.kind == "2d" and info.task == "classification"
               and info.source == "generated")
START_POINTS = 200
FIRST = "gauss"  # a new drawing starts from these points, so the dataset trains at once
FIRST_POINTS = 40
MARKS = ("orange", "blue", "green", "violet", "blue", "red")  # Streamlit's nearest to the classes


def panel(classes: int, scale: float = 1.0) -> None:
    """The mode, the canvas, what it holds, Clear and Start from."""
    if not st.session_state.get("draw.begun"):
        st.session_state["draw.begun"] = True
        if not st.session_state.get("data.points"):
            _start(FIRST, FIRST_POINTS)
    modes = [*range(classes), ERASE]
    if st.session_state.get("draw.mode") not in modes:
        st.session_state["draw.mode"] = 0
    st.radio("A click", modes, key="draw.mode", horizontal=True, format_func=_mode_label,
             help="Click the canvas to add a point of this class, or to erase the nearest one.")
    _take_click()
    text = st.session_state.get("data.points", "")
    x, y = drawn.arrays(text)
    fig = drawing_chart(x, y, classes, drawn.axis(), scale=scale)
    st.plotly_chart(fig, key=_chart_key(), width="stretch", on_select="rerun",
                    selection_mode="points", config={"displaylogo": False})
    counts = drawn.counts(text, classes)
    total = sum(len(g) for g in drawn.decode(text))
    st.caption(f"**{total} points**: " + ", ".join(f"class {c} {n}" for c, n in enumerate(counts))
               + f". Each class needs at least {drawn.MIN_PER_CLASS}; at most {drawn.MAX_POINTS}"
               f" in all. {_split_sentence(text)}")
    if "draw.refused" in st.session_state:
        st.warning(st.session_state.pop("draw.refused"))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.selectbox("Start from", STARTS, key="draw.start",
                   format_func=lambda n: DATASETS[n].label)
    right.button("Use its points", key="draw.use", on_click=_start_chosen, width="stretch",
                 help=f"Replace the drawing with {START_POINTS} points of this set (its noise, "
                      "classes and seed), to edit by hand.")
    st.button("Clear", key="draw.clear", on_click=_clear, icon=":material/delete:",
              help="Remove every point.")


def _split_sentence(text: str) -> str:
    """How the drawing is split between training and test, in one sentence."""
    total = sum(len(g) for g in drawn.decode(text))
    if total < drawn.MIN_SPLIT:
        return (f"With fewer than {drawn.MIN_SPLIT} points every point trains, and the test "
                "figures are on the same points.")
    fraction = float(st.session_state.get("data.train_fraction", 0.5))
    train, test = drawn.shares(text, fraction)
    return f"{train} train and {test} test, class by class (Training share, below)."


def _mode_label(mode: object) -> str:
    if mode == ERASE:
        return "erases"
    return f":{MARKS[int(mode) % len(MARKS)]}[●] adds class {mode}"


def _chart_key() -> str:
    """The canvas's key: a new one after each click, so a click on the same place (a point
    already selected, which Plotly does not report again) reaches the page too."""
    return f"draw.canvas.{st.session_state.get('draw.clicks', 0)}"


def _take_click() -> None:
    """Apply the click that made this run (if any) to the drawing, before the canvas is drawn."""
    event = st.session_state.get(_chart_key())
    points = ((event or {}).get("selection") or {}).get("points") or []
    clicked = [p for p in points if p.get("curve_number") == GRID_TRACE]
    if not clicked:
        return
    st.session_state["draw.clicks"] = st.session_state.get("draw.clicks", 0) + 1
    where = (drawn.cell(float(clicked[-1]["x"])), drawn.cell(float(clicked[-1]["y"])))
    text = st.session_state.get("data.points", "")
    mode = st.session_state.get("draw.mode", 0)
    if mode == ERASE:
        st.session_state["data.points"] = drawn.erase(text, where)
    elif sum(len(g) for g in drawn.decode(text)) >= drawn.MAX_POINTS:
        st.session_state["draw.refused"] = (f"A drawing holds at most {drawn.MAX_POINTS} points: "
                                            "erase some (or Clear) to add more.")
    else:
        st.session_state["data.points"] = drawn.add(text, int(mode), where)


def _clear() -> None:
    st.session_state["data.points"] = ""


def _start_chosen() -> None:
    _start(st.session_state.get("draw.start", STARTS[0]), START_POINTS)


def _start(name: str, n: int) -> None:
    """The drawing becomes n points of a generated set (numpy only), with its classes."""
    info = DATASETS[name]
    classes = int(st.session_state.get("data.classes") or 2)
    classes = min(max(classes, 2), info.max_classes)
    noise = float(st.session_state.get("data.noise", 0.1))
    seed = int(st.session_state.get("seed", 0))
    from nnplay import data as datasets  # its generators are numpy, but the module loads torch

    x, y = datasets.GENERATORS[name](n, noise, classes, np.random.default_rng(seed))
    st.session_state["data.points"] = drawn.from_points(x, y)
    st.session_state["data.classes"] = classes if classes > 2 else 0
