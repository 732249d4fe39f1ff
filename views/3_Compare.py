"""Compare: a fair optimiser race, or a learning-rate sweep, from one base experiment."""

import streamlit as st

import ui
import ui.landscape
import ui.paths
from nnplay import charts, escape, presets, race
from nnplay.limits import LimitExceeded
from nnplay.spec import OPTIMIZERS, ExperimentSpec, OptimizerSpec, model_words

MODES = ("Race", "Learning-rate sweep", ui.paths.MODE)
# Base options that mean a page's current setup (the rest are preset names).
CURRENT = {"playground": "The Playground's current setup",
           "sequences": "The Sequences page's current setup"}  # fmt: skip
DEFAULT_CONTENDERS = (
    {"name": "SGD", "lr": 0.1},
    {"name": "SGD", "lr": 0.1, "momentum": 0.9},
    {"name": "Adam", "lr": 0.01},
)
# A contender's settings start at the spec's defaults (which come from the optimiser records).
DEFAULTS = {key: f.default for key, f in OptimizerSpec.model_fields.items() if key != "name"}

st.title("Compare optimisers")
st.caption("A fair race: every contender starts from **the same initial weights** (one "
           "state_dict, copied) and sees **the same batches in the same order**; only the "
           "optimiser differs.")  # fmt: skip
ui.hide_controls(ui.hidden())


def page_setup(page: str):
    """The experiment a page last edited in this session (None when it has none)."""
    spec = st.session_state.get("spec")
    if spec is not None and ui.SPEC_HOMES[page](spec):
        return spec
    return st.session_state.get(f"spec.{page}")


def base_options() -> list[str]:
    """The pages' current setups, then every preset a race can start from."""
    pages = ["playground"] + [p for p in CURRENT if p != "playground" and page_setup(p)]
    return pages + list(presets.names())


def load_contenders(contenders) -> None:
    """Write contenders (dicts) into the contender widgets."""
    st.session_state["compare.n"] = len(contenders)
    for i, c in enumerate(contenders):
        st.session_state[f"c{i}.name"] = c.get("name") or "Adam"
        for key, default in DEFAULTS.items():
            st.session_state[f"c{i}.{key}"] = c.get(key, default)


def base_changed() -> None:
    """A preset with a race brings its contenders along."""
    name = st.session_state["compare.base"]
    if name in CURRENT:
        return
    preset = presets.load(name)
    brings = " Its contenders are loaded too." if preset.race else ""
    st.session_state["compare.notice"] = f"Loaded **{preset.title}**: {preset.goal}{brings}"
    if preset.race:
        load_contenders(preset.race["contenders"])


# A preset opened from the gallery or a ?preset= link (a surface preset or link: its mode).
ui.paths.open_link("compare.mode")
wanted = st.session_state.pop("compare.open", None) or st.query_params.get("preset")
if wanted and wanted != st.session_state.get("compare.opened"):
    st.session_state["compare.opened"] = wanted
    if wanted in base_options():
        st.session_state["compare.base"] = wanted
        base_changed()
    else:
        st.warning(f"There is no preset called '{escape.markdown(wanted)}' for this page; "
                   f"showing the default.")
if "compare.n" not in st.session_state:
    load_contenders(DEFAULT_CONTENDERS)


def base_spec():
    name = st.session_state.get("compare.base", "playground")
    if name in CURRENT:
        return page_setup(name) or ExperimentSpec()
    return presets.load(name).spec


def contender_widgets(i: int, prefix: str = "c") -> dict:
    """One contender's optimiser settings (the Playground's widgets); returns them as Contender
    fields."""
    for key, default in DEFAULTS.items():
        st.session_state.setdefault(f"{prefix}{i}.{key}", default)
    st.session_state.setdefault(f"{prefix}{i}.name", "Adam")
    fields = ui.optimizer_widgets(f"{prefix}{i}.")
    return {k: st.session_state[f"{prefix}{i}.{k}"] for k in fields}


def race_from_widgets(mode: str, base, contenders: list[dict]
                      ) -> tuple[race.RaceSpec | None, str | None]:
    """(the race the widgets describe, None) or (None, a sentence)."""
    if mode == MODES[1]:
        lo, hi = st.session_state["sweep.range"]
        return race.from_settings(base, lr_range=(lo, hi, st.session_state["sweep.n"],
                                                  st.session_state["sweep.name"]))
    return race.from_settings(base, contenders)


# --- settings ---
top = st.columns([1, 2, 1], vertical_alignment="bottom")
mode = top[0].radio("Mode", MODES, key="compare.mode", horizontal=True)
if mode == ui.paths.MODE:
    ui.paths.page(top, contender_widgets)
    st.stop()
ui.paths.leave()
options = base_options()
if st.session_state.get("compare.base") not in options:
    st.session_state["compare.base"] = "playground"
top[1].selectbox("Base experiment", options, key="compare.base", on_change=base_changed,
                 format_func=lambda n: CURRENT.get(n) or f"Preset: {presets.load(n).title}")
top[2].number_input("Target test loss (0: auto)", 0.0, 100.0, step=0.01, key="compare.target",
                    format="%.3f", help="For the 'steps to target' column. Auto: the best test "
                    "loss that every healthy contender reached.")
if "compare.notice" in st.session_state:
    st.info(st.session_state.pop("compare.notice"))
base = base_spec()
st.caption(f"Base: **{escape.markdown(base.data.info.label)}** · {model_words(base)} · "
           f"{base.loss.name} · batch "
           f"{base.train.batch_size} · {base.train.epochs} epochs · seed {base.seed}")

if mode == MODES[0]:
    st.columns(4)[0].number_input("Contenders", race.MIN_CONTENDERS, race.MAX_CONTENDERS,
                                  step=1, key="compare.n")
    n = st.session_state["compare.n"]
    contenders = ui.boxes(n, "contender-box", "Contender", contender_widgets)
else:
    contenders = []
    a, b, c = st.columns([1, 2, 1])
    a.selectbox("Optimiser", OPTIMIZERS, key="sweep.name", index=OPTIMIZERS.index("SGD"))
    b.select_slider("Learning rates from … to", ui.LR_GRID, value=(1e-3, 1.0), key="sweep.range",
                    format_func=lambda v: f"{v:g}")
    c.slider("Points (log grid)", 3, race.MAX_CONTENDERS, value=5, key="sweep.n")

spec, problem = race_from_widgets(mode, base, contenders)
if problem:
    st.error(f"This race cannot run: {escape.markdown(problem)}")

# --- run ---
current: race.Race | None = st.session_state.get("race")
manager = ui.manager()
running = current is not None and not current.done(manager)
paused = running and current.paused(manager)


def train() -> None:
    """Start the race (a callback: the page it reruns already shows it running)."""
    try:
        st.session_state["race"] = race.start(manager, spec, owner=ui.owner())
    except LimitExceeded as e:
        st.session_state["race.refused"] = str(e)  # shown once, under the buttons
    else:
        st.session_state["race.mode"] = mode


ui.run_buttons("race.", None if spec is None else train, current.run_ids if running else (),
               paused=paused)
if "race.refused" in st.session_state:
    st.error(st.session_state.pop("race.refused"))

big = ui.scale()


def draw() -> None:
    """The race's live panel: progress, overlaid curves, boundaries and the ranking."""
    snaps = current.snapshots(manager)
    st.caption(" · ".join(f"**{escape.markdown(t)}**: {s['status']} ({charts.progress_text(s)})"
                          for t, s in snaps.items()))  # fmt: skip
    for title, s in snaps.items():
        if s["status"] in race.FAILED:
            st.warning(escape.markdown(f"{title}: {s['message']}"))
    if st.session_state.get("race.mode") == MODES[1]:
        points = race.sweep_points(current.spec, snaps)
        ui.figure(charts.lr_sweep_chart(points["lr"], points["loss"], points["status"],
                                        scale=big), "race.sweep")
    classification = current.spec.base.task == "classification"
    curves = race.with_start(snaps, current.start)  # every contender's curve starts at step 0
    ui.figure(charts.race_chart(curves, "test_loss", scale=big), "race.test_loss")
    small = [("loss", "race.loss"), ("test_acc", "race.test_acc"), ("train_acc", "race.train_acc")]
    if not classification:
        small = [small[0], ("train_loss", "race.train_loss")]
    for col, (metric, key) in zip(ui.chart_columns(len(small)), small):
        with col:  # one legend (above) serves every chart; same colours, same dashes
            fig = charts.race_chart(curves, metric, scale=big, log_y=metric == "loss")
            ui.figure(fig.update_layout(showlegend=False), key)
    if any((s.get("view") or {}).get("kind") == "boundary" for s in snaps.values()):
        ui.figure(charts.boundary_row(snaps, scale=big), "race.boundaries")
    target = st.session_state.get("compare.target") or None
    table = race.ranking(snaps, target)
    st.subheader("Ranking")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "wall time (s)": st.column_config.NumberColumn(format="%.1f"),
        "final test accuracy": st.column_config.NumberColumn(format="percent"),
    })  # fmt: skip
    st.download_button("Download CSV", table.to_csv(index=False), "race.csv", "text/csv",
                       key="race.csv", disabled=table.empty)


if current is None:
    st.caption("Press **Train** to start the race. Curves appear here as the contenders learn.")
else:
    ui.poll(lambda: current.done(manager), draw)
    if st.session_state.get("race.mode") == MODES[0] and current.done(manager):
        ui.landscape.panel(current, current.snapshots(manager))
