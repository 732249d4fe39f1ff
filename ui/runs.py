"""The run manager of this server process, this browser's id (the owner of its runs), the
run a page shows, and every action a page takes on a run, which the run manager allows or not."""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING

import streamlit as st

from nnplay import warmup
from nnplay.limits import LimitExceeded
from nnplay.spec import ExperimentSpec
from nnplay.store import open_store

# The settings' widgets import nothing that loads torch (tests/test_cold_start.py checks), so on
# a cold server they are on the page while torch loads behind them (nnplay.warmup). Torch comes
# in, imported inside the function, where a run, a model or a script is built.
if TYPE_CHECKING:
    from nnplay.runs import Run, RunManager


@st.cache_resource
def manager() -> RunManager:
    """The one run manager of this server process, recording runs under NNPLAY_HOME (or, when
    that folder cannot be written, keeping them in memory only: serving.storage_notice says so)."""
    from nnplay.runs import RunManager

    store, problem = open_store()
    if problem:
        logging.getLogger("nnplay").warning(problem)
    runs = RunManager(store=store)
    # The first run's one-off costs (the machine's speed, which its budget check needs: the
    # first optimiser and steps, seconds on a cold server), paid in the background before Train.
    warmup.start(runs.speed)
    return runs


OWNER_COOKIE = "nnplay_owner"


def owner() -> str:
    """An id for this browser (the owner of its runs), kept in a cookie so that a reload or a
    new tab is the same owner while another browser is not; links never carry it."""
    if "owner" not in st.session_state:
        cookie = str(st.context.cookies.get(OWNER_COOKIE, ""))
        known = re.fullmatch(r"[0-9a-f]{32}", cookie) is not None
        st.session_state["owner"] = cookie if known else uuid.uuid4().hex
        st.session_state["owner.cookie"] = known
    if not st.session_state["owner.cookie"]:
        st.session_state["owner.cookie"] = True
        st.html(f"<script>document.cookie = '{OWNER_COOKIE}={st.session_state['owner']}; "
                f"path=/; max-age=31536000; SameSite=Lax';</script>",
                unsafe_allow_javascript=True)  # fmt: skip
    return st.session_state["owner"]


def active_run() -> Run | None:
    """The run this page shows: the one named in the URL (?run=), so that a reload or the link
    in another tab re-attaches to it; a run opened by link joins this browser's Runs list."""
    url_id = st.query_params.get("run")
    if url_id and url_id != st.session_state.get("run_id"):
        if manager().open(url_id, owner()) is None:
            st.session_state["run.missing"] = True
            del st.query_params["run"]
        else:
            st.session_state["run_id"] = url_id
    run_id = st.session_state.get("run_id")
    return manager().get(run_id) if run_id else None


def start_run(spec: ExperimentSpec, paused: bool = False) -> Run | None:
    """Start spec for this browser and name it in the URL; None when a limit refuses it (the
    sentence is shown by run_controls)."""
    try:
        run = manager().start(spec, owner=owner(), paused=paused)
    except LimitExceeded as e:
        st.session_state["run.refused"] = str(e)
        return None
    st.session_state["run_id"] = run.id
    st.query_params["run"] = run.id
    return run


# Every action a page takes on a run goes through control(), and the run manager checks there
# who may act on it. Buttons call it from on_click: a callback runs before the script, so the
# rerun that follows already draws the buttons and the status of the new state (read in the
# script, a click would show up one interaction late).
STOP_WAIT_SECONDS = 1.0  # how long Stop waits for the run to end, so Train is back at once


def control(action: str, run_id: str) -> None:
    """Pause, resume, step or stop the run with this id for this browser; nothing when it has
    ended or is not this browser's to control."""
    run = manager().get(run_id)
    if run is None or run.done or not manager().control(run_id, owner(), action):
        return
    if action == "stop":
        run.wait(STOP_WAIT_SECONDS)  # the loop stops at its next step; usually well within this
