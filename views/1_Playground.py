"""Playground: pick data, stack layers, choose a loss and an optimiser, train live, look inside."""

import streamlit as st

import ui
import ui.branch
import ui.changes
from nnplay import presets
from nnplay.spec import DATASETS, ExperimentSpec

st.title("Playground")
ui.page_spec("playground", ExperimentSpec)  # not the Sequences page's recurrent experiment
ui.open_link("Playground")  # a shared link or a preset card, before any widget is drawn
ui.hide_controls(ui.hidden())  # a teacher's ?hide=: those controls vanish, their values apply

# --- presets ---
mine = tuple(n for n in presets.names() if presets.load(n).page != "Sequences")
link_slot = ui.preset_picker("Playground", mine)

spec = ui.current_spec()
ui.ensure_widget_state(spec)



# --- settings (left) and the run (right) ---
settings, stage = ui.stage_columns()
with settings:
    data_tab, model_tab, train_tab = st.tabs(["Data", "Model", "Training"])
    with data_tab:
        ui.data_widgets()
    with model_tab:
        st.caption("Hidden layers in order; input and output sizes follow from the data and loss.")
        ui.layer_editor()
    with train_tab:
        ui.training_widgets(spec)

new_spec, problem = ui.spec_from_widgets()
if problem and ui.awaiting_upload():
    settings.info("Upload a CSV file above to train on it; until then the last setup is kept.")
elif problem:
    settings.error(f"This setup cannot run: {problem}. The last valid setup is kept.")
else:
    st.session_state["spec"] = spec = new_spec
with link_slot:
    ui.share_link(ui.write_link(spec))

with model_tab, st.expander("print(model)", expanded=True):
    ui.model_printout(spec)

with stage:
    ui.run_controls(None if problem else spec)
    live_run = ui.active_run()
    shown_step = None
    if not problem and live_run is not None:
        ui.changes.follow(live_run, spec, live_run.owner == ui.owner(),
                          lambda k, v: ui.manager().change(live_run.id, ui.owner(), k, v))
        shown_step = ui.branch.controls(live_run, "branch", ui.branch.page_settings(spec),
                                        ui.branch.HINT)

with stage:
    ui.live(ui.branch.drawn(ui.run_charts, live_run, shown_step),
            preview=None if problem else spec)

with stage, st.expander("PyTorch code", icon=":material/code:"):
    shown = ui.active_run()
    if shown is not None and shown.spec != spec:
        st.caption("The code of the run shown above; the controls have changed since it started.")
    ui.code_panel(shown.spec if shown is not None else spec,
                  changes=shown.changes if shown is not None else (),
                  origin=shown.origin if shown is not None else None)

if DATASETS[spec.data.name].downloads:
    st.caption("MNIST and FashionMNIST are downloaded by torchvision on first use.")
