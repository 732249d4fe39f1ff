"""Streamlit pieces shared by the pages: the run manager, spec widgets, the layer-stack editor,
run controls and the live charts. Logic lives in nnplay/; this module only reads widgets and
renders what the core returns."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import streamlit as st

import serving
import ui_chart
import ui_draw
import ui_network
from nnplay import (
    branch,
    charts,
    concepts,
    doctor,
    escape,
    presets,
    remedies,
    tabular,
    urls,
    warmup,
)
from nnplay.limits import LimitExceeded
from nnplay.spec import (
    ACTIVATIONS,
    DATASETS,
    DEFAULT_INPUTS,
    DEVICES,
    INPUTS,
    OPTIMIZERS,
    ExperimentSpec,
    SpecError,
    flatten,
    losses_for,
    parse,
    unflatten,
)
from nnplay.store import open_store

# The settings' widgets import nothing that loads torch (tests/test_cold_start.py checks), so on
# a cold server they are on the page while torch loads behind them (nnplay.warmup). Torch comes
# in, imported inside the function, where a run, a model or a script is built.
if TYPE_CHECKING:
    from nnplay.runs import Run, RunManager

LR_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REFRESH_SECONDS = 1.0
FIRST_DATA_SECONDS = 1.5  # how long Train waits for the first losses before drawing
WARMUP_WAIT_SECONDS = 60.0  # how long Train waits for a server's warm-up under way


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


def presenting() -> bool:
    """Presentation mode (the sidebar's toggle): larger text and charts for a projector."""
    return bool(st.session_state.get("presentation"))


def scale() -> float:
    """Chart scale: larger for the projector when presentation mode is on."""
    return 1.5 if presenting() else 1.0


STAGE_KEY = "stage-row"  # the container of stage_columns(), which presentation_style() stacks
_STAGE = f".st-key-{STAGE_KEY} > div > [data-testid='stHorizontalBlock']"


def presentation_style() -> None:
    """Larger text for a projector, narrower page margins and buttons, and below 1600 px (a
    projector's 1024 or 1280 with the sidebar open) the settings above the run instead of
    beside it, so the charts get the whole width."""
    st.html("<style>html { font-size: 22px; } .stMarkdown p, .stCaption p { font-size: 1.1rem; }"
            "[data-testid='stMainBlockContainer'] { padding-left: 2rem; padding-right: 2rem; }"
            ".stButton [data-testid^='stBaseButton'] { padding-left: .3rem; padding-right: .3rem; }"
            f"@media (max-width: 1599px) {{ {_STAGE} {{ flex-wrap: wrap; }} "
            f"{_STAGE} > [data-testid='stColumn'] {{ min-width: 100% !important; }} }}"
            "</style>")


def base_style() -> None:
    """Layout rules every page inherits: a button is never narrower than its label (a row of
    buttons wraps instead of clipping them), and a code box shows its copy button without a
    hover, since a projector's audience and a touch screen have none."""
    st.html("<style>"
            ".stButton button, .stDownloadButton button, .stPopover button "
            "{ min-width: max-content; }"
            "[data-testid='stCode'] button { opacity: 1 !important; visibility: visible; }"
            "[class*='st-key-layer-row-'] .stButton button { padding: 0 .6rem; }"
            "[data-testid='stMainBlockContainer'] { padding-left: 3rem; padding-right: 3rem; }"
            "</style>")


def stage_columns() -> list:
    """The settings column and the wider run area beside it; in presentation mode the run area
    takes more of the width, since its charts are what the room looks at."""
    with st.container(key=STAGE_KEY):
        return st.columns([1, 2.6 if presenting() else 2.0], gap="large")


def chart_columns(n: int) -> list:
    """n places for charts side by side, or, in presentation mode, one above the other: at 1.5
    times the text size, two charts side by side left each plot a strip ~80 px wide."""
    return [st.container() for _ in range(n)] if presenting() else st.columns(n)


# --- the spec as widget state -----------------------------------------------------------------
# Every scalar setting is a widget whose key is its dotted path in the spec ("optimizer.lr"), so
# loading a spec is writing its values into session_state, and reading one is the reverse.


WIDGETLESS = ("model.layers", "model.recurrent")  # the stack has its editor; None: no cell


def flat(spec: ExperimentSpec) -> dict[str, object]:
    """The spec's scalar settings by dotted path (spec.flatten, the layer stack apart)."""
    return {k: v for k, v in flatten(spec.model_dump()).items() if k not in WIDGETLESS}


# Pages share the widgets' keys, so each page that edits an experiment keeps its own: the
# Playground a layer stack, the Sequences page a recurrent model.
SPEC_HOMES: dict[str, Callable[[ExperimentSpec], bool]] = {
    "playground": lambda s: s.model.recurrent is None,
    "sequences": lambda s: s.model.recurrent is not None,
}


def page_spec(page: str, default: Callable[[], ExperimentSpec]) -> None:
    """Make the page's experiment one this page edits: when the current one belongs to another
    page, keep it for that page and load this page's last one (or default()). Call first."""
    spec = st.session_state.get("spec")
    if spec is not None and SPEC_HOMES[page](spec):
        return
    if spec is not None:
        home = next((p for p, fits in SPEC_HOMES.items() if fits(spec)), None)
        st.session_state[f"spec.{home}"] = spec
    load_spec(st.session_state.get(f"spec.{page}") or default())


def load_spec(spec: ExperimentSpec) -> None:
    """Make spec the page's experiment: every widget shows its values on the next run."""
    st.session_state["spec"] = spec
    for key, value in flat(spec).items():
        st.session_state[key] = value
    st.session_state["layers"] = [_row(layer.model_dump()) for layer in spec.model.layers]
    st.session_state["widget.warnings"] = serving.fit_to_widgets(st.session_state,
                                                                 st.session_state["layers"])


def current_spec() -> ExperimentSpec:
    """The page's last valid experiment."""
    if "spec" not in st.session_state:
        load_spec(ExperimentSpec())
    return st.session_state["spec"]


def ensure_widget_state(spec: ExperimentSpec) -> None:
    """Give every setting a value in session_state (widgets that were hidden lose theirs)."""
    for key, value in flat(spec).items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault("layers", [_row(x.model_dump()) for x in spec.model.layers])


def spec_from_widgets() -> tuple[ExperimentSpec | None, str | None]:
    """(spec, None) from the widgets' values, or (None, a sentence) when they do not validate."""
    tree = unflatten({key: st.session_state.get(key, value)
                      for key, value in flat(current_spec()).items()})
    tree.setdefault("model", {})["layers"] = [_layer(row) for row in st.session_state["layers"]]
    try:
        return parse(tree), None
    except SpecError as e:
        return None, str(e)


# --- widgets ------------------------------------------------------------------------------------


def data_widgets(hidden: Iterable[str] = (), names: Iterable[str] | None = None) -> None:
    """Dataset, noise, size, split, classes and the image training subset; names are the
    datasets offered (default: those that are not sequences)."""
    hidden = set(hidden)
    names = list(names) if names is not None else \
        [n for n, info in DATASETS.items() if not info.seq_len]
    st.selectbox("Dataset", names, key="data.name",
                 format_func=lambda n: DATASETS[n].label)  # fmt: skip
    info = DATASETS[st.session_state["data.name"]]
    if not info.upload and st.session_state.get("data.classes", 0) > info.max_classes:
        st.session_state["data.classes"] = 0  # chosen for the previous dataset: its default
    st.caption(info.note)
    if info.upload:
        csv_widgets()
    for key in ("subset", "noise", "n_samples"):  # the settings its record says it reads
        if key in info.settings:
            data_setting(key)
    if info.downloads:
        st.caption("Downloaded by torchvision on first use into NNPLAY_DATA_DIR.")
    if "points" in info.settings:
        ui_draw.panel(widget_classes(), scale())
    columns = tabular.two_inputs(st.session_state.get("data.file", ""),
                                 st.session_state.get("data.target", ""),
                                 st.session_state.get("csv.task", "auto")) if info.upload else None
    input_widgets(info.kind == "2d" or columns is not None)
    if columns is not None:
        st.caption(f"x₁ is {escape.markdown(columns[0])} and x₂ is "
                   f"{escape.markdown(columns[1])}, standardised.")
    data_setting("train_fraction")
    if info.max_classes > 2 and not info.upload:
        options = [0, *range(2, info.max_classes + 1)]
        st.selectbox("Classes", options, key="data.classes",
                     format_func=lambda c: f"default ({info.classes})" if c == 0 else str(c))
    fit_loss()
    if "seed" not in hidden:
        seed_col, regen_col = st.columns([3, 2], vertical_alignment="bottom")
        seed_col.number_input("Seed", 0, 2**31 - 1, step=1, key="seed",
                              help="One seed drives data, initial weights and batch order.")
        regen_col.button("Regenerate", key="regenerate", on_click=_regenerate, width="stretch",
                         help="Fresh samples: the next seed (new data, new initial weights).")


def data_setting(key: str, low: float | None = None) -> None:
    """The control of a dataset's number (noise, samples, ...) as its concepts record draws it;
    `low` raises the bottom of its range (a task's shortest sequence)."""
    s = concepts.DATA_SETTINGS[key]
    draw = st.number_input if s.widget == "number" else st.slider
    draw(s.label, s.low if low is None else low, s.high, step=s.step, key=f"data.{key}",
         format=s.format, help=s.help or None)


def input_widgets(shown: bool) -> None:
    """The engineered inputs a 2D set's model reads (x₁², sin x₁, ...); other data: x₁, x₂."""
    chosen = st.session_state.get("data.inputs", DEFAULT_INPUTS)
    st.session_state["data.inputs"] = list(chosen if shown else DEFAULT_INPUTS)
    if shown:
        st.pills("Inputs", tuple(INPUTS), selection_mode="multi", key="data.inputs",
                 format_func=INPUTS.__getitem__,
                 help="What the first layer reads: the two coordinates and functions of them, "
                      "as in TensorFlow Playground.")


def _regenerate() -> None:
    st.session_state["seed"] = (int(st.session_state.get("seed", 0)) + 1) % 2**31


def widget_task() -> str:
    """The task the data controls select: the dataset's, or the one chosen for an upload."""
    info = DATASETS[st.session_state["data.name"]]
    task = st.session_state.get("data.task", "auto")
    return task if info.upload and task != "auto" else info.task


def widget_classes() -> int:
    """The classes the data controls select (0 for regression), as DataSpec.n_classes counts."""
    if widget_task() != "classification":
        return 0
    info = DATASETS[st.session_state["data.name"]]
    return int(st.session_state.get("data.classes") or info.classes)


def awaiting_upload() -> bool:
    """True while "Your CSV" is chosen and nothing is uploaded yet: a step to take, not an error."""
    return DATASETS[st.session_state["data.name"]].upload and \
        not st.session_state.get("data.file")


TASK_LABELS = {"auto": "infer", "classification": "classification", "regression": "regression"}


def csv_widgets() -> None:
    """Upload a CSV, choose the column to predict and the task; preview the table and say what
    training leaves out and why."""
    mb = serving.upload_mb(manager().limits)
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


def _row(layer: dict) -> dict:
    """A layer as an editable row with a stable id for its widget keys."""
    return {"id": uuid.uuid4().hex[:8], **layer}


def _layer(row: dict) -> dict:
    """The spec dict of a row, read from its widgets."""
    kind = row["type"]
    field, default = LAYER_FIELDS[kind]
    return {"type": kind, field: st.session_state.get(f"layer.{row['id']}.{field}",
                                                      row.get(field, default))}


LAYER_FIELDS: dict[str, tuple[str, object]] = {
    "linear": ("units", 8),
    "activation": ("name", "ReLU"),
    "dropout": ("p", 0.2),
}


LAYER_WIDGETS: dict[str, Callable[[str], object]] = {
    "linear": lambda key: st.number_input("Linear: out features", 1, 4096, step=1, key=key),
    "activation": lambda key: st.selectbox("Activation", ACTIVATIONS, key=key),
    "dropout": lambda key: st.slider("Dropout: p", *serving.WIDGET_RANGES["dropout.p"],
                                     step=0.05, key=key),
}


def _layer_param(row: dict) -> None:
    field, _ = LAYER_FIELDS[row["type"]]
    key = f"layer.{row['id']}.{field}"
    st.session_state.setdefault(key, row[field])
    LAYER_WIDGETS[row["type"]](key)


def _sync_rows() -> None:
    """Copy widget values into the rows so a move keeps each layer's settings."""
    for row in st.session_state["layers"]:
        field, _ = LAYER_FIELDS[row["type"]]
        key = f"layer.{row['id']}.{field}"
        if key in st.session_state:
            row[field] = st.session_state[key]


def _move(i: int, delta: int) -> None:
    _sync_rows()
    rows = st.session_state["layers"]
    j = i + delta
    if 0 <= j < len(rows):
        rows[i], rows[j] = rows[j], rows[i]


def _remove(i: int) -> None:
    _sync_rows()
    st.session_state["layers"].pop(i)


def _add(kind: str) -> None:
    _sync_rows()
    field, default = LAYER_FIELDS[kind]
    st.session_state["layers"].append(_row({"type": kind, field: default}))


def _template() -> None:
    n = st.session_state.get("ff.num_hidden", 2)
    width = st.session_state.get("ff.hidden_dim", 64)
    p = st.session_state.get("ff.dropout", 0.2)
    from nnplay.spec import feed_forward

    st.session_state["layers"] = [_row(x.model_dump()) for x in feed_forward(n, width, p).layers]


def layer_editor() -> None:
    """One row per layer: its setting, and buttons to move it up or down or remove it."""
    rows = st.session_state["layers"]
    if not rows:
        st.caption("No hidden layers: the model is a single Linear layer (logistic regression).")
    # Rows of buttons are flex rows, not fixed columns: a button keeps its label's width and
    # the setting beside it (or the next line) takes what is left.
    for i, row in enumerate(rows):
        with st.container(horizontal=True, vertical_alignment="bottom", gap="xxsmall",
                          key=f"layer-row-{row['id']}"):
            _layer_param(row)
            st.button("↑", key=f"up.{row['id']}", on_click=_move, args=(i, -1),
                      disabled=i == 0, help="Move up")
            st.button("↓", key=f"down.{row['id']}", on_click=_move, args=(i, 1),
                      disabled=i == len(rows) - 1, help="Move down")
            st.button("✕", key=f"del.{row['id']}", on_click=_remove, args=(i,), help="Remove")
    with st.container(horizontal=True, gap="xsmall"):
        for kind in LAYER_FIELDS:
            st.button(f"+ {kind.capitalize()}", key=f"add.{kind}", on_click=_add, args=(kind,),
                      width="stretch")
    with st.popover("Feed-forward template", width="stretch"):
        st.caption("The reference's FeedForwardNN: num_hidden × (Linear → Dropout → ReLU).")
        st.number_input("num_hidden", 1, 8, value=2, key="ff.num_hidden")
        st.number_input("hidden_dim", 1, 4096, value=64, key="ff.hidden_dim")
        st.slider("dropout", 0.0, 0.9, value=0.2, step=0.05, key="ff.dropout")
        st.button("Use this stack", key="ff.apply", on_click=_template)


def model_printout(spec: ExperimentSpec) -> None:
    """print(model) and the parameter count for the spec, with its input and output sizes."""
    from nnplay import models

    text = models.describe_spec(spec, spec.data.info.features, spec.data.n_classes)
    st.code(text, language="text", wrap_lines=True)  # a column is narrower than its longest line


def fit_loss() -> list[str]:
    """The losses that fit the data widgets as they are now (not the last valid spec, which is
    rebuilt from the widgets after they are drawn: one change behind); a chosen loss that no
    longer fits is switched, with a notice where this is called (under the data widgets)."""
    task, classes = widget_task(), widget_classes()
    losses = losses_for(task, classes)
    if st.session_state.get("loss.name") not in losses:
        old = st.session_state.get("loss.name")
        st.session_state["loss.name"] = losses[0]
        kind = f"{task}, {classes} classes" if task == "classification" else task
        st.info(f"{old} does not fit this dataset ({kind}); switched to {losses[0]}.")
    return losses


SETTING_WIDGETS: dict[str, Callable[..., object]] = {
    "slider": lambda where, s, key: where.slider(s.label, s.low, s.high, step=s.step, key=key),
    "checkbox": lambda where, s, key: where.checkbox(s.label, key=key),
    "number": lambda where, s, key: where.number_input(s.label, s.low, s.high, step=s.step,
                                                       key=key, format=s.format),
}


def optimizer_settings(name: str, prefix: str) -> tuple[str, ...]:
    """The widgets (keyed prefix + setting) of the settings an optimiser's record says it takes
    beyond lr and weight decay, numbers side by side; returns those settings."""
    own = concepts.OPTIMIZERS[name].settings
    numbers = [key for key in own if concepts.OPTIMIZER_SETTINGS[key].widget == "number"]
    columns = None
    for key in own:
        setting = concepts.OPTIMIZER_SETTINGS[key]
        where = st
        if setting.widget == "number":
            columns = columns or iter(st.columns(len(numbers)))
            where = next(columns)
        SETTING_WIDGETS[setting.widget](where, setting, prefix + key)
    return own


def optimizer_widgets(prefix: str) -> tuple[str, ...]:
    """Optimiser, learning rate, its own settings and weight decay (keyed prefix + setting, as
    on the Playground and for each of Compare's contenders); returns the settings shown."""
    name = st.selectbox("Optimiser", OPTIMIZERS, key=prefix + "name")
    lr = float(st.session_state[prefix + "lr"])
    st.select_slider("Learning rate", sorted({*LR_GRID, lr}), key=prefix + "lr",
                     format_func=lambda v: f"{v:g}")
    own = optimizer_settings(name, prefix)
    st.number_input("Weight decay", 0.0, 1.0, step=1e-4, key=prefix + "weight_decay",
                    format="%.5f")
    return ("name", "lr", "weight_decay", *own)


def training_widgets(spec: ExperimentSpec) -> None:
    """Loss, optimiser and training settings."""
    losses = fit_loss()
    st.selectbox("Loss", losses, key="loss.name")
    optimizer_widgets("optimizer.")
    c1, c2 = st.columns(2)
    c1.number_input("L1 penalty λ₁", 0.0, 1.0, step=1e-4, key="train.l1", format="%.5f")
    c2.number_input("L2 penalty λ₂", 0.0, 1.0, step=1e-4, key="train.l2", format="%.5f")
    c1, c2 = st.columns(2)
    c1.number_input("Batch size", 1, 4096, step=1, key="train.batch_size")
    c2.number_input("Epochs", 1, 1000, step=1, key="train.epochs")
    st.number_input("Early stopping patience (evaluations; 0: off)", 0, 1000, step=1,
                    key="train.patience")
    from nnplay.train import device_choice  # what this machine has: the last setting drawn

    st.selectbox("Device", DEVICES, key="train.device", format_func=device_choice)


# --- runs ---------------------------------------------------------------------------------------


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


def _train(spec: ExperimentSpec, paused: bool = False) -> None:
    """Train's (and a first Step's) callback: start spec, then wait a moment for its first
    losses so that the first frame drawn already has a loss curve."""
    warmup.wait(WARMUP_WAIT_SECONDS)  # one measurement of this machine, not two at once
    run = start_run(spec, paused=paused)
    if run is None:
        return
    if paused:
        control("step", run.id)
    if run.status != "queued":
        run.wait_for_data(FIRST_DATA_SECONDS)


def _step(spec: ExperimentSpec, run_id: str | None) -> None:
    """Step's callback: one batch of the paused run, or of a new run started paused."""
    if run_id is None:
        _train(spec, paused=True)
    else:
        control("step", run_id)


def reset_run() -> None:
    """Start over: stop this browser's run shown here and start the page's setup paused at
    step 0, so the network shows its initial weights."""
    run = active_run()
    if run is not None and not run.done:
        control("stop", run.id)
    start_run(current_spec(), paused=True)


def run_controls(spec: ExperimentSpec | None) -> None:
    """Train, Pause, Resume, Step, Stop; only Train for a run another browser started."""
    run = active_run()
    read_only = run is not None and not manager().can_control(run.id, owner())
    active = run is not None and not run.done and not read_only
    paused = active and run.control.paused
    run_id = run.id if active else None
    cols = st.columns(5)
    cols[0].button("Train", key="train", type="primary", disabled=spec is None or active,
                   width="stretch", on_click=_train, args=(spec,))
    cols[1].button("Pause", key="pause", disabled=not active or paused, width="stretch",
                   on_click=control, args=("pause", run_id))
    cols[2].button("Resume", key="resume", disabled=not paused, width="stretch",
                   on_click=control, args=("resume", run_id))
    cols[3].button("Step", key="step", disabled=spec is None or (active and not paused),
                   width="stretch", help="Train on one batch, then pause",
                   on_click=_step, args=(spec, run_id))
    cols[4].button("Stop", key="stop", disabled=not active, width="stretch",
                   on_click=control, args=("stop", run_id))
    if read_only:
        st.caption(READ_ONLY)
    if "run.refused" in st.session_state:
        st.error(st.session_state.pop("run.refused"))
    if st.session_state.pop("run.missing", False):
        st.warning("The run in this link is not on this server (it may have been deleted).")


READ_ONLY = ("This run was started in another browser: you can watch it, but only that browser "
             "can pause, step or stop it. Press **Train** to run this setup yourself.")

STATUS_SENTENCES: dict[str, Callable[[dict], tuple[Callable, str]]] = {
    "queued": lambda s: (st.info, queue_sentence(s.get("ahead"))),
    "paused": lambda s: (st.info, "Paused. **Resume** carries on; **Step** trains one batch."
                         + (f" {s['message']}" if s["message"] else "")),
    "finished": lambda s: (st.success, s["message"] or "Finished."),
    "stopped": lambda s: (st.info, s["message"] or "Stopped."),
    "diverged": lambda s: (st.error, s["message"]),
    "failed": lambda s: (st.error, f"Training failed: {s['message']}"),
    "interrupted": lambda s: (st.warning, s["message"] or "Interrupted by a server restart."),
    "running": lambda s: (st.warning, s["message"]),  # e.g. not kept: the disk is full
}


def queue_sentence(ahead: int | None) -> str:
    """Where a queued run stands: "Queued, 3 ahead of you: …"."""
    if not ahead:
        return "Queued: next in line for a free training slot."
    return f"Queued, {ahead} ahead of you: the server trains a few runs at a time."


# A live panel is redrawn about once a second, and the browser keeps an element (and a chart's
# drawing) only when the next frame puts an element at the same place. So every part of a panel
# that may or may not be drawn (a status sentence, a chart with no data yet) sits in a slot of
# its own, always made, and the charts after it keep their places instead of being redrawn from
# blank one place further on.


def status_line(snap: dict) -> None:
    """The run's status as one sentence, and the progress bar (in one slot)."""
    with st.container():
        _status(snap)


def _status(snap: dict) -> None:
    p = snap["progress"]
    total = max(p.get("total_steps") or 1, 1)
    st.progress(min(p.get("step", 0) / total, 1.0), text=charts.progress_text(snap))
    if snap["status"] == "running" and not snap["info"]:
        st.info("Preparing the data and the model… (torchvision downloads MNIST and "
                "FashionMNIST into NNPLAY_DATA_DIR on first use)")
    show = STATUS_SENTENCES.get(snap["status"])
    if show is not None:
        fn, text = show(snap)
        if text:
            fn(text)


def live(draw: Callable[[dict], None], run: Run | None = None,
         preview: ExperimentSpec | None = None) -> None:
    """Call draw(snapshot) of run (else the page's run) now and, while it is active, about
    once a second. With no run, the data of preview's spec is drawn, where it can be."""
    from nnplay.runs import data_preview

    run = run if run is not None else active_run()
    if run is None:
        with st.container():  # the slot of the run's status
            st.caption("Press **Train** to start. Charts appear here as the network learns.")
        snap = data_preview(preview) if preview is not None else None
        # In the slot and under the key of the run's view, which then replaces it in place.
        figure(charts.view_chart(snap, scale=scale()) if snap is not None else None, "view")
        return
    was_active = not run.done

    @st.fragment(run_every=REFRESH_SECONDS if was_active else None)
    def panel() -> None:
        snap = run.snapshot()
        draw(snap)
        if was_active and run.done:
            st.rerun(scope="app")  # stop polling; re-enable the controls

    panel()


def run_charts(snap: dict, key: str = "") -> None:
    """A run's status and charts: the model's view of the data, loss, accuracy and insides.

    Chart keys are "loss", "view", ... prefixed with key and a dash when one is given.
    """
    big = scale()
    name = (lambda n: f"{key}-{n}") if key else (lambda n: n)
    figs = charts.live_panel(snap, scale=big)  # by slot; the bench draws the same
    status_line(snap)
    figure(figs["view"], name("view"))  # the star: the whole width
    with st.container():  # a slot of its own: the view appears after the first frames, and
        # the charts below must keep their places (a moved chart is drawn anew, blank between)
        ui_network.panel(snap, name("network"), big, reset=None if key else reset_run)
    figure(charts.weights_chart(snap, scale=big), name("tiles"))  # image sets: first-layer units
    accuracy = figs["accuracy"]  # None for regression: the loss alone
    cols = chart_columns(2) if accuracy is not None else [st.container()]
    with cols[0]:
        figure(figs["loss"], name("loss"))
    if accuracy is not None:
        with cols[1]:
            figure(accuracy, name("accuracy"))
    with st.container():  # a slot of its own, like every chart's
        doctor_panel(snap, remedy=not key)
    figure(figs["misclassified"], name("misclassified"))  # None off the image view
    figure(figs["activations"], name("activations"))
    left, right = chart_columns(2)
    with left:
        figure(figs["grads"], name("grads"))
    with right:
        figure(figs["histogram"], name("histogram"))


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


def figure(fig, key: str) -> None:
    """A Plotly figure in a slot of its own, empty when the chart does not apply (yet); the same
    key's next figure redraws the chart in place (ui_chart)."""
    with st.container():
        if fig is not None:
            ui_chart.chart(fig, key)


# --- links and exported code ---------------------------------------------------------------------
# The URL holds the page's experiment (nnplay.urls); hide= and run= belong to other features and
# are kept as they are.

KEPT_PARAMS = ("hide", "run")
# The page that opens a preset (Preset.page): its file, and its url path for a shareable link
# (the default page is served at the app's root).
PRESET_PAGES = {
    "Playground": ("views/1_Playground.py", ""),
    "Compare": ("views/3_Compare.py", "compare"),
    "Sequences": ("views/2_Sequences.py", "sequences"),
}


PRESET_BOXES = {"Playground": "preset", "Sequences": "seq.preset"}  # each page's Preset box


def open_link(page: str) -> None:
    """Load the experiment in the URL when it came from outside (a shared link, a preset card);
    a ?preset= that belongs to another page opens there, link and all.

    Call before the widgets are drawn. Values the link gets wrong are kept for link_warnings().
    """
    params = st.query_params.to_dict()
    if not set(params) - set(KEPT_PARAMS) or params == st.session_state.get("url.written"):
        return
    home = _preset_page(params.get("preset"))
    if home is not None and home != page and home in PRESET_PAGES:
        st.switch_page(PRESET_PAGES[home][0], query_params=params)
    spec, warnings, extras = urls.parse(params)
    load_spec(spec)
    if "preset" in extras:
        preset = presets.load(extras["preset"])
        st.session_state.setdefault("notice", f"Opened **{preset.title}**: {preset.goal}")
        if page in PRESET_BOXES:  # the Preset box names what is loaded
            st.session_state[PRESET_BOXES[page]] = extras["preset"]
    st.session_state["url.written"] = params
    st.session_state["url.warnings"] = warnings


def _preset_page(name: object) -> str | None:
    """The page of the preset called name, or None when there is no such preset (the link's
    parser then says so on the page that was opened)."""
    try:
        return presets.load(str(name)).page if name else None
    except SpecError:  # unknown or broken: urls.parse says so on the page that was opened
        return None


def link_warnings() -> None:
    """Say, once, which values of the opened link could not be used."""
    warnings = st.session_state.pop("url.warnings", None) or []
    warnings += st.session_state.pop("widget.warnings", None) or []
    if warnings:
        lines = "\n".join(f"- {escape.markdown(w.removeprefix('Link: '))}" for w in warnings)
        st.warning(f"Some settings in this link could not be used:\n{lines}")


def write_link(spec: ExperimentSpec) -> str:
    """Make the URL say spec (and keep hide= and run=); returns the query string."""
    return write_params(urls.to_params(spec), KEPT_PARAMS, "url.written")


def write_params(params: dict[str, str], kept: Iterable[str], written: str) -> str:
    """Make the URL hold params plus the kept keys it already has; the result is remembered
    in session_state[written] (so the page does not read its own link back as a new one)."""
    current = st.query_params.to_dict()
    wanted = params | {k: current[k] for k in kept if k in current}
    if current != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[written] = wanted
    return urlencode(wanted, safe=":,")


def share_link(query: str) -> None:
    """A "Copy link" popover with the page's full URL in a box that has a copy button: the
    setup only; and, when the page shows a run, a second link that opens that run read-only."""
    url = urlsplit(st.context.url or "http://localhost:8501/")
    params = parse_qsl(query, keep_blank_values=True)
    setup = urlencode([(k, v) for k, v in params if k != "run"], safe=":,")
    run_id = dict(params).get("run")
    with st.popover("Copy link", icon=":material/link:", key="share"):
        st.caption("This link reopens exactly this setup. Copy it with the copy button at the "
                   "box's top right.")
        st.code(urlunsplit((url.scheme, url.netloc, url.path or "/", setup, "")), language=None,
                wrap_lines=True)
        if run_id:
            st.caption("Share this run: whoever opens this link watches the run as it is, "
                       "but cannot pause, step or stop it.")
            st.code(urlunsplit((url.scheme, url.netloc, url.path or "/", query, "")),
                    language=None, wrap_lines=True)


def code_panel(spec: ExperimentSpec, title: str = "", key: str = "code",
               changes: Iterable = (), origin: dict | None = None) -> None:
    """spec as a standalone PyTorch script: shown (with st.code's copy button) and as a .py;
    changes (a run's settings changed while it trained) are made at their steps; a branch's
    (origin) replays its parent up to the step it branched from."""
    from nnplay import codegen

    try:
        base, replayed, switches = branch.exported(spec, list(changes), origin)
        text = codegen.script(base, title, replayed, switches)
    except SpecError as e:
        st.info(str(e))
        return
    st.caption("Plain PyTorch, no nnplay: run it with `python`. On CPU it prints the same "
               "losses as this run, evaluation by evaluation.")  # fmt: skip
    st.download_button("Download .py", text, file_name=f"nnplay_{spec.data.name}.py",
                       mime="text/x-python", key=f"{key}.download", on_click="ignore",
                       icon=":material/download:")  # fmt: skip
    st.code(text, language="python")


# --- teacher mode and polling groups of runs ----------------------------------------------------

# A hide= name that stands for several widgets (prefixes end in "."); any other name is a key.
HIDE_GROUPS: dict[str, tuple[str, ...]] = {
    "layers": ("layer.", "up.", "down.", "del.", "add.", "ff."),
    "presets": ("preset", "load_preset"),
    "data": ("data.",),
    "optimizer": ("optimizer.",),
    "train": ("train.",),
}
MAX_HIDDEN = 64


def hidden() -> frozenset[str]:
    """Control names a teacher's link hides (?hide=optimizer.lr,layers), kept for the session."""
    if "hide" in st.query_params:
        _, _, extras = urls.parse({"hide": st.query_params["hide"]})
        st.session_state["hidden"] = frozenset(extras.get("hide", ())[:MAX_HIDDEN])
    return st.session_state.get("hidden", frozenset())


def _css_class(key: str) -> str:
    """The class Streamlit gives an element with this key (st-key-<key>, other chars as '-')."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def hide_controls(names: Iterable[str]) -> None:
    """Hide the widgets named (keys or HIDE_GROUPS names); they keep their values."""
    selectors = []
    for name in names:
        for key in HIDE_GROUPS.get(name, (name,)):
            cls = _css_class(key)
            selectors.append(f'[class*="{cls}"]' if key.endswith(".") else f".{cls}")
    if selectors:
        st.html(f"<style>{', '.join(selectors)} {{ display: none !important; }}</style>")


def poll(done: Callable[[], bool], draw: Callable[[], None]) -> None:
    """Call draw() now and, until done() (several runs, e.g. a race), about once a second."""
    was_active = not done()

    @st.fragment(run_every=REFRESH_SECONDS if was_active else None)
    def group_panel() -> None:
        draw()
        if was_active and done():
            st.rerun(scope="app")  # stop polling; re-enable the controls

    group_panel()

