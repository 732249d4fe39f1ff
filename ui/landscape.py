"""The Compare page's Landscape view: a finished (or stopped) race's weight paths on a 2D slice of
its loss landscape, computed in a worker thread (nnplay.landscape) and drawn as it arrives."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

import ui
from nnplay import escape, landscape, landscape_chart, race
from nnplay.limits import LimitExceeded

POLL_SECONDS = 0.5  # the longest a redraw waits for news


def _steps(snaps: Mapping[str, Mapping]) -> list[int]:
    """The step each contender reached (a stopped race's contenders stop early)."""
    return [int(((s.get("progress") or {}).get("step")) or 0) for s in snaps.values()]


def _start(spec: race.RaceSpec, steps: list[int]) -> None:
    old = st.session_state.get("landscape.job")
    if old is not None:
        old.cancel()
    st.session_state["landscape.job"] = landscape.LandscapeJob(spec, steps, ui.manager().limits)


def panel(current: race.Race, snaps: Mapping[str, Mapping]) -> None:
    """A button that computes the landscape of this race, then its figure, caption and
    progress; nothing but a sentence for a race it does not apply to."""
    st.subheader("Landscape")
    try:
        landscape.check(current.spec)
    except LimitExceeded as e:
        st.caption(escape.markdown(str(e)))
        return
    steps = _steps(snaps)
    job: landscape.LandscapeJob | None = st.session_state.get("landscape.job")
    if job is not None and (job.spec != current.spec or job.steps != steps):
        job = None  # another race: its landscape is drawn on request
    st.button("Draw the landscape", key="landscape.start", disabled=job is not None,
              on_click=_start, args=(current.spec, steps),
              help="Replays the race from its shared start, keeping each contender's weights "
                   "at every evaluation, and evaluates the training loss over the plane that "
                   "holds most of their paths.")  # fmt: skip
    if job is None:
        st.caption("The contenders' weight paths on a slice of the loss landscape through "
                   "their shared start.")  # fmt: skip
        return
    titles = current.spec.titles()
    # redrawn within this run as the grid fills (each redraw is where a change made meanwhile
    # interrupts it), not by a polling fragment: see ui.paths.draw
    bar, note, slot, words = st.empty(), st.empty(), st.empty(), st.empty()
    drawn, redraws = None, 0
    while True:
        snap = job.snapshot()
        if snap["error"]:
            bar.warning(escape.markdown(f"No landscape for this race: {snap['error']}"))
            return
        if snap["done"]:
            bar.empty()
        else:
            bar.progress(snap["progress"], text=f"Landscape: {snap['stage']} "
                                                f"({snap['progress']:.0%} of the grid)")
        if snap["note"]:
            note.caption(escape.markdown(snap["note"]))
        state = (snap["stage"], snap["progress"], snap["done"])
        if state != drawn:  # a figure drawn twice in one run would clash
            with slot.container():
                redraws += 1  # a key per redraw: one run draws the chart several times
                ui.figure(landscape_chart.landscape_figure(snap, titles, scale=ui.scale()),
                          "race.landscape" if snap["done"] else f"race.landscape.{redraws}")
            drawn = state
            if landscape_chart.caption(snap):
                words.caption(landscape_chart.caption(snap))
        if snap["done"]:
            return
        job.wait_change(POLL_SECONDS)
