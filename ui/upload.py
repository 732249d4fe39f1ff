"""Your own CSV: the upload, the column to predict and the task, the table's preview and what
training leaves out and why."""

from __future__ import annotations

import streamlit as st

import ui.serving
from nnplay import escape, tabular
from ui.runs import manager

TASK_LABELS = {"auto": "infer", "classification": "classification", "regression": "regression"}


def csv_widgets() -> None:
    """Upload a CSV, choose the column to predict and the task; preview the table and say what
    training leaves out and why."""
    mb = ui.serving.upload_mb(manager().limits)
    got = st.file_uploader("Your CSV file", type=["csv", "tsv", "txt"], key="csv.upload",
                           max_upload_size=mb,
                           help=f"A header row, one row per example; numbers or short texts. "
                                f"This server accepts files up to "
                                f"{manager().limits.max_upload_mb:g} MB (NNPLAY_MAX_UPLOAD_MB).")
    if got is not None and got.file_id != st.session_state.get("csv.seen"):
        st.session_state["csv.seen"] = got.file_id
        st.session_state.pop("csv.error", None)
        try:
            up = tabular.save_upload(got.getvalue(), got.name)
        except tabular.CsvError as e:
            st.session_state["csv.error"] = escape.markdown(f"{got.name}: {e}")
        else:
            st.session_state["data.file"] = up.file
            st.session_state["data.target"] = up.columns[-1]
            st.session_state["csv.task"] = "auto"
    if "csv.error" in st.session_state:
        st.error(st.session_state["csv.error"])
    file = st.session_state.get("data.file", "")
    up = tabular.upload(file) if file else None
    if up is None:
        if file:
            st.warning("That uploaded CSV is not on this server any more; upload it again.")
        return
    st.caption(f"**{escape.markdown(up.filename)}**: {up.rows:,} rows × {len(up.columns)} columns")
    if st.session_state.get("data.target") not in up.columns:
        st.session_state["data.target"] = up.columns[-1]
    st.selectbox("Target column (what to predict)", up.columns, key="data.target")
    st.session_state.setdefault("csv.task", st.session_state.get("data.task", "auto"))
    st.radio("Task", tuple(TASK_LABELS), key="csv.task", horizontal=True,
             format_func=TASK_LABELS.get)
    try:
        choice = tabular.choose_target(file, st.session_state["data.target"],
                                       st.session_state["csv.task"])
    except tabular.CsvError as e:
        st.error(escape.markdown(e))
        return
    st.session_state["data.task"] = choice.task
    st.session_state["data.classes"] = choice.classes
    how = "inferred" if st.session_state["csv.task"] == "auto" else f"inferred: {choice.inferred}"
    names = escape.markdown(", ".join(choice.class_names))
    classes = f", classes {names}" if choice.classes else ""
    st.caption(f"Task: **{choice.task}** ({how}){classes}. {len(choice.features)} input "
               f"features from {choice.rows:,} complete rows; numbers are standardised, texts "
               f"one-hot encoded.")  # fmt: skip
    st.dataframe(up.preview, hide_index=True, key="csv.preview")
    if choice.dropped:
        st.markdown("**Left out:**\n" + "\n".join(f"- {escape.markdown(d)}"
                                                     for d in choice.dropped))
