"""The layer-stack editor (a row per layer, moved, removed, added or filled from the
feed-forward template) and the model it makes, printed as print(model) does."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import ui.serving
from nnplay.spec import ACTIVATIONS, ExperimentSpec
from ui.state import LAYER_FIELDS, layer_row

LAYER_WIDGETS: dict[str, Callable[[str], object]] = {
    "linear": lambda key: st.number_input("Linear: out features", 1, 4096, step=1, key=key),
    "activation": lambda key: st.selectbox("Activation", ACTIVATIONS, key=key),
    "dropout": lambda key: st.slider("Dropout: p", *ui.serving.WIDGET_RANGES["dropout.p"],
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
    st.session_state["layers"].append(layer_row({"type": kind, field: default}))


def _template() -> None:
    n = st.session_state.get("ff.num_hidden", 2)
    width = st.session_state.get("ff.hidden_dim", 64)
    p = st.session_state.get("ff.dropout", 0.2)
    from nnplay.spec import feed_forward

    stack = feed_forward(n, width, p).layers
    st.session_state["layers"] = [layer_row(x.model_dump()) for x in stack]


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

    text = models.spec_printout(spec, spec.data.info.features, spec.data.n_classes)
    st.code(text, language="text", wrap_lines=True)  # a column is narrower than its longest line
