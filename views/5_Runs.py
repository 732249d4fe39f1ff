"""Runs: this browser's runs and those opened by link, kept across reloads and restarts. Open
one to see its charts again; download its metrics, checkpoint and code; rename or delete it."""

from datetime import datetime

import pandas as pd
import streamlit as st

import serving
import ui
from nnplay import codegen, escape, runs, urls
from nnplay.spec import ExperimentSpec, SpecError

st.title("Runs")
st.caption("Runs started in this browser, and runs you opened from a link. Nobody else sees "
           "this list; anyone with a run's link can open that run.")  # fmt: skip
me = ui.owner()
manager = ui.manager()


def spec_of(entry: dict) -> ExperimentSpec | None:
    try:
        return ExperimentSpec.from_json(entry["spec"])
    except ValueError:  # stored by an nnplay whose settings have since changed
        return None


def status_text(entry: dict) -> str:
    if entry["status"] == "queued" and entry.get("ahead"):
        return f"queued, {entry['ahead']} ahead of you"
    return entry["status"]


def final(entry: dict, key: str) -> float | None:
    value = (entry.get("record") or {}).get(key)
    return value if isinstance(value, float) else None


def rename(run_id: str) -> None:
    manager.rename(run_id, st.session_state[f"name.{run_id}"], me)


def delete(run_id: str) -> None:
    manager.delete(run_id, me)
    if "run" in st.query_params:
        del st.query_params["run"]


serving.limits_panel(manager)
operator = serving.operator()
if operator:
    st.caption("Operator view (NNPLAY_ADMIN_TOKEN): every browser's runs are listed, and you can "
               "stop any of them.")
wanted = st.query_params.get("run")
if wanted and manager.open(wanted, me) is None:  # a link's run joins this browser's list
    st.warning("That run is not on this server any more (it may have been deleted).")
    del st.query_params["run"]
    wanted = None

entries = manager.listing(me, everyone=operator)
if not entries:
    st.info("No runs yet: press **Train** on the Playground, and your runs will be listed here.")
    st.stop()

specs = {e["id"]: spec_of(e) for e in entries}
table = pd.DataFrame({
    "Name": [e["name"] or ("(from a link)" if not e["mine"] else "") for e in entries],
    "Status": [status_text(e) for e in entries],
    "Setup": [runs.summary(s) if s else "(saved by an older nnplay)" for s in specs.values()],
    # floats, so that a run without one shows an empty cell rather than "None"
    "Test loss": pd.Series([final(e, "test_loss") for e in entries], dtype="float64"),
    "Test accuracy": pd.Series([final(e, "test_acc") for e in entries], dtype="float64"),
    "Test loss over time": [[v for v in e["test_loss"] if v is not None] for e in entries],
    "Started": [datetime.fromtimestamp(e["created"]) for e in entries],
})  # fmt: skip
ids = st.session_state["runs.ids"] = [e["id"] for e in entries]


def select() -> None:
    """The selected row's run goes into the URL (so a reload keeps it open); none, none."""
    rows = st.session_state["runs.table"]["selection"]["rows"]
    if rows:
        st.query_params["run"] = st.session_state["runs.ids"][rows[0]]
    elif "run" in st.query_params:
        del st.query_params["run"]


st.dataframe(
    table, hide_index=True, key="runs.table", on_select=select, selection_mode="single-row",
    selection_default={"selection": {"rows": [ids.index(wanted)] if wanted in ids else []}},
    column_config={
        "Test loss": st.column_config.NumberColumn(format="%.4f"),
        "Test accuracy": st.column_config.NumberColumn(format="percent"),
        "Test loss over time": st.column_config.LineChartColumn(width="small"),
        "Started": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss"),
        "Setup": st.column_config.TextColumn(width="large"),
    },
)  # fmt: skip
if not wanted:
    st.caption("Select a run to see its charts, download it, rename or delete it.")
    st.stop()

run = manager.open(wanted, me)
if run is None:
    st.warning("That run is not on this server any more (it may have been deleted).")
    st.stop()
mine = run.owner == me
spec = run.spec

st.subheader(escape.markdown(run.name or runs.summary(spec)))
if run.name:
    st.caption(escape.markdown(runs.summary(spec)))
if not mine:
    st.caption("Started in another browser: you can watch it and download it, but only that "
               "browser can stop, rename or delete it.")

# --- actions ---
with st.container(horizontal=True, vertical_alignment="bottom"):
    if mine:
        with st.popover("Rename", icon=":material/edit:"):
            st.text_input("Name", value=run.name, max_chars=80, key=f"name.{run.id}")
            st.button("Save name", key=f"rename.{run.id}", on_click=rename, args=(run.id,))
    snap = run.snapshot()
    st.download_button("Metrics (.csv)", runs.metrics_csv(snap), file_name=f"{run.id[:8]}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/table:",
                       key=f"csv.{run.id}")  # fmt: skip
    checkpoint = manager.store.checkpoint_path(run.id) if manager.store is not None else None
    if checkpoint is not None:
        st.download_button("Checkpoint (.pt)", checkpoint.read_bytes(),
                           file_name=f"nnplay-{run.id[:8]}.pt", on_click="ignore",
                           mime="application/octet-stream", icon=":material/save:",
                           key=f"pt.{run.id}",
                           help="torch.load(path, weights_only=True) gives the state_dict; "
                                "the script below builds the model it fits.")  # fmt: skip
    try:
        script = codegen.script(spec, run.name, run.changes)  # replayed at their steps
    except SpecError as e:
        script, why = None, str(e)
    if script is not None:
        st.download_button("PyTorch script (.py)", script, file_name=f"{run.id[:8]}.py",
                           mime="text/x-python", on_click="ignore", icon=":material/code:",
                           key=f"py.{run.id}")  # fmt: skip
    home = "Sequences" if spec.model.recurrent is not None else "Playground"  # its page
    st.page_link(ui.PRESET_PAGES[home][0], label=f"Open in {home}", icon=":material/science:",
                 query_params=urls.to_params(spec) | {"run": run.id})
    if not run.done and manager.can_control(run.id, me, "stop", operator):
        st.button("Stop", key=f"stop.{run.id}", icon=":material/stop:",
                  on_click=manager.control, args=(run.id, me, "stop", operator))
    label = "Delete" if mine else "Remove from my list"
    with st.popover(label, icon=":material/delete:"):
        st.caption("This deletes the run, its history and its checkpoint for good." if mine
                   else "The run stays with whoever started it.")
        st.button(f"{label} now", key=f"delete.{run.id}", type="primary", on_click=delete,
                  args=(run.id,))
if script is None:
    st.caption(why)

# --- its charts (live while it trains) ---
ui.live(lambda s: ui.run_charts(s, key="runs"), run=run)
