"""Streamlit glue for a class on one server: Streamlit's own upload limit set from nnplay's, the
"Limits on this server" panel, and who may control the run a page shows."""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

import streamlit as st
from streamlit import config

from nnplay import concepts, escape, settings
from nnplay.limits import Limits, table
from nnplay.spec import DATASETS, DataSpec

if TYPE_CHECKING:  # the settings import this module; torch loads with the run manager
    from nnplay.runs import RunManager


def upload_mb(limits: Limits | None = None) -> int:
    """NNPLAY_MAX_UPLOAD_MB as the whole megabytes Streamlit's uploader counts in."""
    return max(1, math.ceil((limits or Limits.from_env()).max_upload_mb))


def apply_upload_limit(limits: Limits) -> None:
    """Make Streamlit refuse uploads above NNPLAY_MAX_UPLOAD_MB before buffering them (its own
    default is 200 MB); the server reads the option on every upload request."""
    mb = upload_mb(limits)
    if config.get_option("server.maxUploadSize") != mb:
        config.set_option("server.maxUploadSize", mb)


# Controls whose range is narrower than the spec's (a slider stops short of 1.0 where the spec
# accepts any value below it); the widgets take their range from here, and a value from a link
# beyond it is brought inside with one warning line instead of Streamlit's exception.
WIDGET_RANGES: dict[str, tuple[float, float]] = {
    **{f"optimizer.{key}": (s.low, s.high)  # the optimiser records' widget ranges
       for key, s in concepts.OPTIMIZER_SETTINGS.items() if s.widget != "checkbox"},
    "model.recurrent.dropout": (0.0, 0.9),
    "dropout.p": (0.0, 0.95),  # a Dropout layer of the stack
    "data.seq_len": (0, DataSpec.model_fields["seq_len"].metadata[-1].le),
}


def fit_to_widgets(state: MutableMapping, rows: list[dict]) -> list[str]:
    """Bring the settings in state (and the layer rows) inside their controls' ranges; one
    sentence for each value moved."""
    lines = []

    def fit(name: str, value: object, low: float, high: float) -> object:
        if not isinstance(value, (int, float)) or low <= value <= high:
            return value
        near = min(max(value, low), high)
        lines.append(f"{name}={value:g} is beyond what its control can show ({low:g} to "
                     f"{high:g}); using {near:g}.")
        return near

    for key, (low, high) in WIDGET_RANGES.items():
        if key == "data.seq_len" and state.get(key):  # 0 is the task's own length
            low = DATASETS[state.get("data.name", "spiral")].min_seq_len or 1
        if key in state:
            state[key] = fit(key, state[key], low, high)
    for i, row in enumerate(rows):
        if row.get("type") == "dropout":
            row["p"] = fit(f"layer {i + 1} dropout", row["p"], *WIDGET_RANGES["dropout.p"])
    return lines


def operator() -> bool:
    """Whether this browser session is the operator's: it opened ?admin=<NNPLAY_ADMIN_TOKEN>
    (the secret then leaves the address bar at once)."""
    given = st.query_params.get("admin")
    if given is not None:
        del st.query_params["admin"]
        st.session_state["operator"] = settings.is_operator(given)
    return bool(st.session_state.get("operator"))


def storage_notice(manager: RunManager) -> None:
    """One sentence, on every page, when this server cannot keep runs (a read-only home); drawn
    in the sidebar by the app."""
    if manager.store is None:
        st.warning("Runs are not kept on this server: its NNPLAY_HOME folder cannot be "
                           "written, so runs train as usual but their history is gone when the "
                           "server restarts.", icon=":material/hard_drive:")


def limits_panel(manager: RunManager) -> None:
    """What this server allows, what sets each limit, and any NNPLAY_ value it could not use."""
    found = settings.problems()
    with st.expander("Limits on this server", icon=":material/tune:", expanded=bool(found)):
        for sentence in found:
            st.warning(escape.markdown(sentence))
        st.caption(f"It trains {manager.max_runs} runs at a time (NNPLAY_MAX_RUNS); the rest wait "
                   f"in a queue, first come first served, up to {manager.limits.max_queue} "
                   f"(NNPLAY_MAX_QUEUE). A run whose estimated training time is over "
                   f"{manager.limits.max_run_seconds:g} s is refused, and one that trains longer "
                   f"is stopped (NNPLAY_MAX_RUN_SECONDS).")  # fmt: skip
        if manager.store is None:
            st.caption("Runs are not kept on this server (its folder could not be written), so "
                       "they are gone when the server restarts.")
        st.dataframe(table(manager.limits), hide_index=True, key="runs.limits")
