"""A paused, stopped or finished run's timeline: a slider over its keyframes and Play, the page
redrawn as the run was at the chosen one, and Branch from here, a new run from that state with
other settings (those a branch may change)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

import streamlit as st

import ui
from nnplay import branch
from nnplay.limits import LimitExceeded
from nnplay.spec import OPTIMIZERS, ExperimentSpec

if TYPE_CHECKING:  # the Playground's settings import this module; torch loads with a run
    from nnplay.runs import Run

BRANCHES_FROM = ("paused", "stopped", "finished", "interrupted")
PLAY_SECONDS = 0.8  # between two keyframes while playing
SCRUB_WAIT = 15.0  # how long the page waits for the views at a keyframe
HINT = ("Goes on from that step with the settings on the left: the optimiser and its rate, "
        "regularisation, dropout, batch size or length.")


def status(run: Run) -> str:
    """The run's status as the page shows it (a pause is seen at once)."""
    if not run.done and run.control.paused:
        return "paused"
    return run.status


def _start(run_id: str, key: str, wanted: Callable[[ExperimentSpec], ExperimentSpec]) -> None:
    """Button callback: branch the run at the slider's step with wanted(spec at that step);
    the branch becomes the run this page shows."""
    step = st.session_state[f"{key}.step"]
    manager = ui.manager()
    parent = manager.get(run_id)
    try:
        frame = parent.frame(step) if parent is not None else None
        start = branch.spec_at(parent.spec, frame["changes"]) if frame is not None else None
        spec = wanted(start) if start is not None else None
        child = manager.branch(run_id, step, ui.owner(), spec)
    except (branch.BranchError, LimitExceeded) as e:
        st.session_state["run.refused"] = str(e)
        return
    st.session_state["run_id"] = child.id
    st.query_params["run"] = child.id
    st.session_state["notice"] = (f"Branched from step {step:,}: a new run goes on from that "
                                  f"moment with these settings; the loss chart draws the "
                                  f"parent's curve up to it.")


def controls(run: Run | None, key: str, wanted: Callable[[ExperimentSpec], ExperimentSpec],
             hint: str = "") -> int | None:
    """For a paused, stopped or finished run: a slider over its keyframes, Play (steps through
    them) and Branch from here; wanted turns the spec at the chosen step into the branch's.
    Returns the step the page shows the run at (None: as it is now, the slider at its end)."""
    if run is None or status(run) not in BRANCHES_FROM:
        return None
    steps = run.frames()
    if not steps:
        return None
    slider = f"{key}.step"
    if st.session_state.get(f"{key}.run") != run.id or st.session_state.get(slider) not in steps:
        st.session_state[f"{key}.run"] = run.id  # another run: start at its last keyframe
        st.session_state[slider] = steps[-1]
        st.session_state[f"{key}.playing"] = False
    playing = st.session_state[f"{key}.playing"]
    with st.container(border=True, key=f"{key}.box"):
        st.select_slider("Step", steps, key=slider, format_func=lambda s: f"{s:,}",
                         help="The steps whose whole training state this run kept (denser "
                              "early): the charts show the run as it was there, and a branch "
                              "goes on from there with the settings you choose; layers and "
                              "data stay.")  # fmt: skip
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button("Hold" if playing else "Play", key=f"{key}.play",
                      icon=":material/pause:" if playing else ":material/play_arrow:",
                      on_click=_toggle, args=(key, steps),
                      help="Step through the keyframes, redrawing the charts at each")
            st.button("Branch from here", key=key, icon=":material/call_split:",
                      on_click=_start, args=(run.id, key, wanted))
            st.caption(hint)
    if playing:
        _ticker(key, steps)
    chosen = st.session_state[slider]
    return None if chosen == steps[-1] else chosen


def _toggle(key: str, steps: list[int]) -> None:
    """Play's callback: start (from the first keyframe when at the last) or hold."""
    playing = not st.session_state[f"{key}.playing"]
    st.session_state[f"{key}.playing"] = playing
    if playing and st.session_state[f"{key}.step"] == steps[-1]:
        st.session_state[f"{key}.step"] = steps[0]


def _ticker(key: str, steps: list[int]) -> None:
    """While playing: every PLAY_SECONDS the slider moves to the next keyframe (the whole page
    redraws there); at the last one, playing stops."""
    st.session_state[f"{key}.ticked"] = time.monotonic()

    @st.fragment(run_every=PLAY_SECONDS)
    def tick() -> None:
        if time.monotonic() - st.session_state[f"{key}.ticked"] < PLAY_SECONDS / 2:
            return  # the call made as the page is drawn
        now = st.session_state[f"{key}.step"]
        later = [s for s in steps if s > now]
        if later:
            st.session_state[f"{key}.step"] = later[0]
        if len(later) <= 1:
            st.session_state[f"{key}.playing"] = False
        st.rerun(scope="app")

    tick()


def drawn(draw: Callable[[dict], None], run: Run | None,
          step: int | None) -> Callable[[dict], None]:
    """draw, showing the run as it was at step (its views computed from that keyframe's
    weights in the scrub thread, not this one); draw itself when step is None."""
    if run is None or step is None:
        return draw
    from nnplay import scrub  # its views run torch

    future = scrub.submit(run.id, step, run.spec, lambda: run.frame(step))
    try:
        found = future.result(timeout=SCRUB_WAIT)
    except FutureTimeout:
        st.caption(f"The charts at step {step:,} are still being drawn; they follow shortly.")
        found = None
    except Exception:  # noqa: BLE001 - a keyframe that cannot be read: the run as it is now
        found = None
    return lambda snap: draw(scrub.at(snap, found))


def page_settings(spec: ExperimentSpec) -> Callable[[ExperimentSpec], ExperimentSpec]:
    """The Playground's: the branch takes the page's settings (its controls)."""
    return lambda start: spec


def popover_settings(run: Run, key: str) -> Callable[[ExperimentSpec], ExperimentSpec]:
    """The Runs page's: a few settings typed in a popover beside the button."""
    spec = run.spec
    with st.popover("Branch settings", icon=":material/tune:"):
        st.selectbox("Optimiser", OPTIMIZERS, index=OPTIMIZERS.index(spec.optimizer.name),
                     key=f"{key}.optimizer")
        st.number_input("Learning rate", min_value=1e-5, max_value=10.0, format="%g",
                        value=spec.optimizer.lr, key=f"{key}.lr")
        st.number_input("Batch size", min_value=1, max_value=4096,
                        value=spec.train.batch_size, key=f"{key}.batch")
        st.number_input("Epochs", min_value=1, max_value=1000, value=spec.train.epochs,
                        key=f"{key}.epochs")

    def wanted(start: ExperimentSpec) -> ExperimentSpec:
        s = st.session_state
        edits = {"optimizer.name": s[f"{key}.optimizer"], "optimizer.lr": s[f"{key}.lr"],
                 "train.batch_size": s[f"{key}.batch"], "train.epochs": s[f"{key}.epochs"]}
        return branch.branch_spec(start, edits)

    return wanted
