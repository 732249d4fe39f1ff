"""The training doctor's panel: the leading diagnosis and its remedy, as a branch from before
the trouble or as a fresh run."""

from __future__ import annotations

import streamlit as st

from nnplay import branch, doctor, remedies
from nnplay.limits import LimitExceeded
from nnplay.spec import ExperimentSpec, SpecError
from ui.links import write_link
from ui.runs import active_run, control, manager, owner, start_run
from ui.state import load_spec


def doctor_panel(snap: dict, remedy: bool = True) -> None:
    """The training doctor's reading of the run: the leading diagnosis with its numbers and a
    button that starts its remedy as a fresh run (same seed), the others listed; or all well."""
    from nnplay.runs import ACTIVE

    unseen = "notice" in st.session_state or "run.refused" in st.session_state
    if st.session_state.pop("doctor.started", False) and unseen:
        st.rerun(scope="app")  # only the fragment ran: show the remedy's settings and run
    found = doctor.diagnose(snap)
    with st.container(border=True, key="doctor"):
        if not found:
            st.markdown(f":material/stethoscope: **Training doctor.** {doctor.HEALTHY}" if
                        snap["status"] not in ACTIVE else ":material/stethoscope: **Training "
                        "doctor.** Watching: nothing needs fixing so far.")
            return
        lead, others = found[0], found[1:]
        st.markdown(f":material/stethoscope: **Training doctor: {lead.title}.** {lead.text}")
        offer = _remedy_branch(snap, lead) if remedy else None
        if offer is not None:  # a setting: go on from before the trouble with it
            st.button(offer.label, key="doctor.remedy", icon=":material/call_split:",
                      on_click=_branch_remedy,
                      args=(snap["id"], offer.step, offer.edits, lead.remedy.label),
                      help="A branch of this run: it goes on from the last step kept before "
                           "the trouble began, with this change.")
        elif remedy:
            st.button(f"{lead.remedy.label} (fresh run)", key="doctor.remedy",
                      on_click=_start_remedy,
                      args=(snap["spec"], lead.remedy.label, lead.remedy.changes),
                      help="Starts a new run with this change and the same seed.")
        else:
            st.caption(f"Remedy: {lead.remedy.label}.")
        if others:
            st.caption("Also seen, in order of priority: " + "; ".join(
                f"**{d.title}**: {d.text}" for d in others))


def _remedy_branch(snap: dict, lead: doctor.Diagnosis) -> remedies.Offer | None:
    """The remedy as a branch of the run from a keyframe, when it is a setting a branch makes."""
    if not lead.remedy.fix or lead.since is None or not snap.get("id"):
        return None
    run = manager().get(snap["id"])
    return None if run is None else remedies.offer(lead, run.frames())


def _branch_remedy(run_id: str, step: int, edits: dict[str, object], label: str) -> None:
    """Button callback: this browser's run stops, and the remedy goes on from its keyframe at
    step as a branch, which becomes the run this page shows."""
    run = manager().get(run_id)
    if run is not None and not run.done and run_id == st.session_state.get("run_id"):
        control("stop", run_id)
    try:
        child = remedies.start(manager(), run_id, step, edits, owner())
    except (branch.BranchError, LimitExceeded) as e:
        st.session_state["run.refused"] = str(e)
        return
    load_spec(child.spec)  # a callback runs before any widget is drawn
    st.session_state["run_id"] = child.id
    st.query_params["run"] = child.id
    what = label[:1].lower() + label[1:]
    st.session_state["notice"] = (f"The doctor's remedy, *{what}*, goes on from step {step:,} "
                                  "as a branch of the run; the loss chart draws the parent's "
                                  "curve up to it.")
    write_link(child.spec)
    st.session_state["doctor.started"] = True


def _start_remedy(spec: dict, label: str, changes: dict[str, object]) -> None:
    """Button callback: this browser's run stops, and the remedy starts as a fresh run."""
    try:
        fixed = ExperimentSpec.model_validate(spec).with_changes(changes)
    except (SpecError, ValueError) as e:
        st.session_state["run.refused"] = f"The remedy cannot be applied: {e}"
        return
    run = active_run()
    if run is not None and not run.done:
        control("stop", run.id)
    load_spec(fixed)  # a callback runs before any widget is drawn
    if start_run(fixed) is not None:
        what = label[:1].lower() + label[1:]
        st.session_state["notice"] = (f"The doctor's remedy, *{what}*, is training as a fresh "
                                      "run with the same seed.")
    write_link(fixed)  # the URL says the remedy, so open_link keeps it
    st.session_state["doctor.started"] = True
