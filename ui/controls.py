"""A page's run controls: Train, Pause, Resume, Step and Stop, for one run (the Playground, the
Sequences page) or a group (Compare's race), and Reset (start over paused at step 0); only Train
for a run another browser started."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import streamlit as st

from nnplay import warmup
from nnplay.spec import ExperimentSpec
from ui.runs import active_run, control, manager, owner, start_run
from ui.state import current_spec

FIRST_DATA_SECONDS = 1.5  # how long Train waits for the first losses before drawing
WARMUP_WAIT_SECONDS = 60.0  # how long Train waits for a server's warm-up under way


def _train(spec: ExperimentSpec, paused: bool = False) -> None:
    """Train's (and a first Step's) callback: start spec, then wait a moment for its first
    losses so that the first frame drawn already has a loss curve."""
    warmup.wait(WARMUP_WAIT_SECONDS)  # one measurement of this machine, not two at once
    run = start_run(spec, paused=paused)
    if run is None:
        return
    if paused:
        control("step", run.id)
    if run.status != "queued":
        run.wait_for_data(FIRST_DATA_SECONDS)


def _step(spec: ExperimentSpec, run_id: str | None) -> None:
    """Step's callback: one batch of the paused run, or of a new run started paused."""
    if run_id is None:
        _train(spec, paused=True)
    else:
        control("step", run_id)


def reset_run() -> None:
    """Start over: stop this browser's run shown here and start the page's setup paused at
    step 0, so the network shows its initial weights."""
    run = active_run()
    if run is not None and not run.done:
        control("stop", run.id)
    start_run(current_spec(), paused=True)


def run_buttons(key: str, train: Callable[[], None] | None, run_ids: Sequence[str] = (),
            paused: bool = False, step: Callable[[], None] | None = None) -> None:
    """One row of run controls: Train (train(); disabled when None or while runs are active),
    Pause, Resume and Stop for the active runs (run_ids: one, or a race's contenders), and Step
    (step(): one batch, then pause) where given. Widget keys are key + "train", "pause", ..."""
    active = bool(run_ids)
    cols = iter(st.columns(4 if step is None else 5))
    next(cols).button("Train", key=key + "train", type="primary", width="stretch",
                      disabled=train is None or active, on_click=train)
    next(cols).button("Pause", key=key + "pause", disabled=not active or paused, width="stretch",
                      on_click=control_all, args=("pause", run_ids))
    next(cols).button("Resume", key=key + "resume", disabled=not paused, width="stretch",
                      on_click=control_all, args=("resume", run_ids))
    if step is not None:
        next(cols).button("Step", key=key + "step", width="stretch", on_click=step,
                          disabled=train is None or (active and not paused),
                          help="Train on one batch, then pause")
    next(cols).button("Stop", key=key + "stop", disabled=not active, width="stretch",
                      on_click=control_all, args=("stop", run_ids))


def control_all(action: str, run_ids: Sequence[str]) -> None:
    """Pause, resume or stop each of these runs (a callback, so the buttons redraw in step)."""
    for run_id in run_ids:
        control(action, run_id)


def run_controls(spec: ExperimentSpec | None) -> None:
    """Train, Pause, Resume, Step, Stop; only Train for a run another browser started."""
    run = active_run()
    read_only = run is not None and not manager().can_control(run.id, owner())
    active = run is not None and not run.done and not read_only
    run_id = run.id if active else None
    run_buttons("", None if spec is None else partial(_train, spec), [run_id] if active else [],
            paused=active and run.control.paused, step=partial(_step, spec, run_id))
    if read_only:
        st.caption(READ_ONLY)
    if "run.refused" in st.session_state:
        st.error(st.session_state.pop("run.refused"))
    if st.session_state.pop("run.missing", False):
        st.warning("The run in this link is not on this server (it may have been deleted).")


READ_ONLY = ("This run was started in another browser: you can watch it, but only that browser "
             "can pause, step or stop it. Press **Train** to run this setup yourself.")
