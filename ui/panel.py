"""The live panel: a run's status sentence and its charts, redrawn about once a second while it
trains (a fragment), and the same polling for a group of runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

import ui.network
from nnplay import charts
from nnplay.spec import ExperimentSpec
from ui.chart import figure
from ui.controls import reset_run
from ui.doctor import doctor_panel
from ui.layout import chart_columns, scale
from ui.runs import active_run

if TYPE_CHECKING:
    from nnplay.runs import Run

REFRESH_SECONDS = 1.0
STATUS_SENTENCES: dict[str, Callable[[dict], tuple[Callable, str]]] = {
    "queued": lambda s: (st.info, queue_sentence(s.get("ahead"))),
    "paused": lambda s: (st.info, "Paused. **Resume** carries on; **Step** trains one batch."
                         + (f" {s['message']}" if s["message"] else "")),
    "finished": lambda s: (st.success, s["message"] or "Finished."),
    "stopped": lambda s: (st.info, s["message"] or "Stopped."),
    "diverged": lambda s: (st.error, s["message"]),
    "failed": lambda s: (st.error, f"Training failed: {s['message']}"),
    "interrupted": lambda s: (st.warning, s["message"] or "Interrupted by a server restart."),
    "running": lambda s: (st.warning, s["message"]),  # e.g. not kept: the disk is full
}


def queue_sentence(ahead: int | None) -> str:
    """Where a queued run stands: "Queued, 3 ahead of you: …"."""
    if not ahead:
        return "Queued: next in line for a free training slot."
    return f"Queued, {ahead} ahead of you: the server trains a few runs at a time."


def status_line(snap: dict) -> None:
    """The run's status as one sentence, and the progress bar (in one slot)."""
    with st.container():
        _status(snap)


def _status(snap: dict) -> None:
    p = snap["progress"]
    total = max(p.get("total_steps") or 1, 1)
    st.progress(min(p.get("step", 0) / total, 1.0), text=charts.progress_text(snap))
    if snap["status"] == "running" and not snap["info"]:
        st.info("Preparing the data and the model… (torchvision downloads MNIST and "
                "FashionMNIST into NNPLAY_DATA_DIR on first use)")
    show = STATUS_SENTENCES.get(snap["status"])
    if show is not None:
        fn, text = show(snap)
        if text:
            fn(text)


def live(draw: Callable[[dict], None], run: Run | None = None,
         preview: ExperimentSpec | None = None) -> None:
    """Call draw(snapshot) of run (else the page's run) now and, while it is active, about
    once a second. With no run, the data of preview's spec is drawn, where it can be."""
    from nnplay.runs import data_preview

    run = run if run is not None else active_run()
    if run is None:
        with st.container():  # the slot of the run's status
            st.caption("Press **Train** to start. Charts appear here as the network learns.")
        snap = data_preview(preview) if preview is not None else None
        # In the slot and under the key of the run's view, which then replaces it in place.
        figure(charts.view_chart(snap, scale=scale()) if snap is not None else None, "view")
        return
    was_active = not run.done

    @st.fragment(run_every=REFRESH_SECONDS if was_active else None)
    def panel() -> None:
        snap = run.snapshot()
        draw(snap)
        if was_active and run.done:
            st.rerun(scope="app")  # stop polling; re-enable the controls

    panel()


def run_charts(snap: dict, key: str = "") -> None:
    """A run's status and charts: the model's view of the data, loss, accuracy and insides.

    Chart keys are "loss", "view", ... prefixed with key and a dash when one is given.
    """
    big = scale()
    name = (lambda n: f"{key}-{n}") if key else (lambda n: n)
    figs = charts.live_panel(snap, scale=big)  # by slot; the bench draws the same
    status_line(snap)
    figure(figs["view"], name("view"))  # the star: the whole width
    with st.container():  # a slot of its own: the view appears after the first frames, and
        # the charts below must keep their places (a moved chart is drawn anew, blank between)
        ui.network.panel(snap, name("network"), big, reset=None if key else reset_run)
    figure(charts.weights_chart(snap, scale=big), name("tiles"))  # image sets: first-layer units
    accuracy = figs["accuracy"]  # None for regression: the loss alone
    cols = chart_columns(2) if accuracy is not None else [st.container()]
    with cols[0]:
        figure(figs["loss"], name("loss"))
    if accuracy is not None:
        with cols[1]:
            figure(accuracy, name("accuracy"))
    with st.container():  # a slot of its own, like every chart's
        doctor_panel(snap, remedy=not key)
    figure(figs["misclassified"], name("misclassified"))  # None off the image view
    figure(figs["activations"], name("activations"))
    left, right = chart_columns(2)
    with left:
        figure(figs["grads"], name("grads"))
    with right:
        figure(figs["histogram"], name("histogram"))


def poll(done: Callable[[], bool], draw: Callable[[], None]) -> None:
    """Call draw() now and, until done() (several runs, e.g. a race), about once a second."""
    was_active = not done()

    @st.fragment(run_every=REFRESH_SECONDS if was_active else None)
    def group_panel() -> None:
        draw()
        if was_active and done():
            st.rerun(scope="app")  # stop polling; re-enable the controls

    group_panel()
