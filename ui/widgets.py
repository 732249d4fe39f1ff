"""The settings' widgets, each keyed by its dotted path in the spec: the data, the loss, the
optimiser (the Playground's and each of Compare's contenders') and training."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st

import ui.draw
from nnplay import concepts, escape, tabular
from nnplay.spec import (
    DATASETS,
    DEFAULT_INPUTS,
    DEVICES,
    INPUTS,
    OPTIMIZERS,
    ExperimentSpec,
    losses_for,
)
from ui.layout import scale
from ui.upload import csv_widgets

LR_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


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
        ui.draw.panel(widget_classes(), scale())
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
