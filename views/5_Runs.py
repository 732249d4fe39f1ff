"""Runs: this browser's runs and those opened by link, kept across reloads and restarts. Open
one to see its charts again; download its metrics, checkpoint and code; rename or delete it."""

from datetime import datetime

import pandas as pd
import streamlit as st

import ui
import ui.branch
import ui.serving
from nnplay import branch, codegen, escape, overlay, runs, urls
from nnplay.overlay_chart import overlay_accuracy_chart, overlay_loss_chart
from nnplay.spec import ExperimentSpec, SpecError, flatten, setup_words

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


ui.serving.limits_panel(manager)
operator = ui.serving.operator()
if operator:
    st.caption("Operator view (NNPLAY_ADMIN_TOKEN): every browser's runs are listed, and you can "
               "stop any of them.")
wanted = st.query_params.get("run")
if wanted and manager.open(wanted, me) is None:  # a link's run joins this browser's list
    st.warning("That run is not on this server any more (it may have been deleted).")
    del st.query_params["run"]
    wanted = None

entries = manager.listing(me, everyone=operator)


def compare_changed() -> None:
    """The runs picked to overlay go into the URL (?compare=), so the overlay has a link."""
    picked = st.session_state["runs.compare"]
    if picked:
        st.query_params["compare"] = st.session_state["runs.compare.link"] = \
            overlay.link_value(picked)
    elif "compare" in st.query_params:
        del st.query_params["compare"]


def compare_section() -> None:
    """Two or more runs (listed, or named by a ?compare= link) overlaid, their settings side by
    side with the ones that differ highlighted."""
    value = st.query_params.get("compare") or ""
    link = overlay.parse_link(value)
    found = {i: manager.get(i) for i in link.ids}  # read-only: any run whose id you have
    listed = {e["id"]: e for e in entries}
    if link.problem():
        st.warning(link.problem())
    unknown = [i for i, r in found.items() if r is None]
    if unknown:
        st.warning(f"{len(unknown)} run(s) of the compare link are not on this server (they may "
                   f"have been deleted): {', '.join(unknown)}.")
    linked = {i: r for i, r in found.items() if r is not None}
    options = list(listed) + [i for i in linked if i not in listed]
    if len(options) < 2:
        return
    names, summaries = [], []
    for i in options:
        r, e = linked.get(i), listed.get(i)
        name = (r.name if r is not None else e["name"]) or ""
        spec = r.spec if r is not None else spec_of(e)
        names.append(name)
        summaries.append(setup_words(spec) if spec else i[:8])
    label = dict(zip(options, overlay.labels(names, summaries, options), strict=True))
    if st.session_state.get("runs.compare.link") != value:  # a link opened (or changed by hand)
        st.session_state["runs.compare"] = [i for i in link.ids if i in label]
        st.session_state["runs.compare.link"] = value
    st.subheader("Runs side by side")
    picked = st.multiselect(
        "Overlay runs", options, key="runs.compare", format_func=label.__getitem__,
        max_selections=overlay.MAX_RUNS, on_change=compare_changed,
        placeholder="Pick two or more runs to overlay their curves",
        help="Their loss and accuracy on shared axes, and a table of their settings; the URL "
             "then opens this overlay.")  # fmt: skip
    if len(picked) < 2:
        return
    chosen = [linked.get(i) or manager.get(i) for i in picked]
    shown = [(i, r) for i, r in zip(picked, chosen, strict=True) if r is not None]
    snaps = [r.snapshot() for _, r in shown]
    titles = [label[i] for i, _ in shown]
    specs = [s["spec"] for s in snaps]
    ui.figure(overlay_loss_chart(snaps, titles, ui.scale()), key="runs.compare.loss")
    if overlay.same_data(specs):
        ui.figure(overlay_accuracy_chart(snaps, titles, ui.scale()), key="runs.compare.acc")
    else:
        st.info("These runs trained on different data (another dataset, or other data "
                "settings), so only their losses are overlaid: accuracies on different data "
                "do not compare.")
    rows = overlay.settings_rows([flatten(s, items=True) for s in specs])
    rows.sort(key=lambda row: not row[2])  # the settings that differ first
    settings = pd.DataFrame([v for _, v, _ in rows], columns=titles,
                            index=pd.Index([p for p, _, _ in rows], name="Setting"))
    differ = {p for p, _, d in rows if d}
    st.caption(f"Settings: the {len(differ)} that differ are highlighted, listed first."
               if differ else "Settings: all the same.")
    st.dataframe(settings.style.apply(
        lambda row: ["background-color: #FFE9A8" if row.name in differ else ""] * len(row),
        axis=1), key="runs.compare.settings")


if not entries:
    st.info("No runs yet: press **Train** on the Playground, and your runs will be listed here.")
    compare_section()  # runs of a ?compare= link still overlay
    st.stop()

specs = {e["id"]: spec_of(e) for e in entries}
table = pd.DataFrame({
    "Name": [e["name"] or ("(from a link)" if not e["mine"] else "") for e in entries],
    "Status": [status_text(e) for e in entries],
    "Setup": [setup_words(s) if s else "(saved by an older nnplay)" for s in specs.values()],
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
compare_section()
if not wanted:
    st.caption("Select a run to see its charts, download it, rename or delete it.")
    st.stop()

run = manager.open(wanted, me)
if run is None:
    st.warning("That run is not on this server any more (it may have been deleted).")
    st.stop()
mine = run.owner == me
spec = run.spec

st.subheader(escape.markdown(run.name or setup_words(spec)))
if run.name:
    st.caption(escape.markdown(setup_words(spec)))
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
        base, replayed, switches = branch.exported(spec, run.changes, run.origin)  # a branch:
        script = codegen.script(base, run.name, replayed, switches)  # replayed, then its own
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
    branching = ui.branch.status(run) in ui.branch.BRANCHES_FROM
    if branching:
        branch_spec = ui.branch.popover_settings(run, "runs.branch")
    label = "Delete" if mine else "Remove from my list"
    with st.popover(label, icon=":material/delete:"):
        st.caption("This deletes the run, its history and its checkpoint for good." if mine
                   else "The run stays with whoever started it.")
        st.button(f"{label} now", key=f"delete.{run.id}", type="primary", on_click=delete,
                  args=(run.id,))
if script is None:
    st.caption(why)
shown_step = ui.branch.controls(run, "runs.branch", branch_spec) if branching else None
if "run.refused" in st.session_state:
    st.error(st.session_state.pop("run.refused"))
if "notice" in st.session_state:
    st.info(st.session_state.pop("notice"))
if run.origin:
    st.caption(f"A branch of run {escape.markdown(run.origin['parent'][:8])} from step "
               f"{run.origin['step']:,}.")

# --- its charts (live while it trains) ---
ui.live(ui.branch.drawn(lambda s: ui.run_charts(s, key="runs"), run, shown_step), run=run)
