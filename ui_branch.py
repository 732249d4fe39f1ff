"""Branch from here: a past step of a paused, stopped or finished run, picked on a slider over
its keyframes, and a new run from that state with other settings (those a branch may change)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import ui
from nnplay import branch
from nnplay.limits import LimitExceeded
from nnplay.runs import Run
from nnplay.spec import OPTIMIZERS, ExperimentSpec

BRANCHES_FROM = ("paused", "stopped", "finished", "interrupted")
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
             hint: str = "") -> None:
    """The slider over the run's keyframes and the Branch from here button, for a run that is
    paused, stopped or finished; wanted turns the spec at the chosen step into the branch's."""
    if run is None or status(run) not in BRANCHES_FROM:
        return
    steps = run.frames()
    if not steps:
        return
    middle = min(steps, key=lambda s: abs(s - steps[-1] / 2))  # a moment mid-run
    with st.container(border=True, key=f"{key}.box"):
        st.select_slider("Branch from step", steps, value=middle, key=f"{key}.step",
                         format_func=lambda s: f"{s:,}",
                         help="The steps whose whole training state this run kept (denser "
                              "early). A branch goes on from there with the settings you "
                              "choose; layers and data stay.")  # fmt: skip
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button("Branch from here", key=key, icon=":material/call_split:",
                      on_click=_start, args=(run.id, key, wanted))
            st.caption(hint)


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
