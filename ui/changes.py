"""Settings changed while a run trains: the Playground's controls sent to the live run (learning
rate, momentum, weight decay, L1, L2), and one line saying the rest apply to the next run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from nnplay.charts import CHANGE_LABELS
from nnplay.spec import CHANGEABLE, ExperimentSpec, flatten

if TYPE_CHECKING:  # the Playground's settings import this module; torch loads with a run
    from nnplay.runs import Run


def follow(run: Run | None, spec: ExperimentSpec, mine: bool,
           change: Callable[[str, object], str | None]) -> None:
    """Send the page's changeable settings that differ from the live run's to it (change is
    RunManager.change for this run and browser); say in one line that other edits wait."""
    if run is None or run.done or not mine:
        return
    now, wanted = flatten(run.current_spec().model_dump()), flatten(spec.model_dump())
    differ = [k for k in wanted if wanted[k] != now.get(k)]
    for key in [k for k in differ if k in CHANGEABLE]:
        problem = change(key, wanted[key])
        if problem:
            st.warning(problem)
        else:
            st.toast(f"{CHANGE_LABELS[key]} → {wanted[key]:g} from the next step")
    if [k for k in differ if k not in CHANGEABLE]:
        st.caption("Your other edits (data, layers, loss, optimiser, batch size, …) apply to the "
                   "next run; this one keeps training as it started. Learning rate, momentum, "
                   "weight decay, L1 and L2 change it live.")
