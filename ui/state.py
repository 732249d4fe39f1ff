"""The page's experiment as widget state: every scalar setting is a widget whose key is its
dotted path in the spec ("optimizer.lr"), so loading a spec is writing its values into
session_state, and reading one is the reverse; the layer stack is a list of rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import streamlit as st

import ui.serving
from nnplay.spec import ExperimentSpec, SpecError, flatten, parse, unflatten

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
    st.session_state["layers"] = [layer_row(layer.model_dump()) for layer in spec.model.layers]
    st.session_state["widget.warnings"] = ui.serving.fit_to_widgets(st.session_state,
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
    st.session_state.setdefault("layers", [layer_row(x.model_dump()) for x in spec.model.layers])


def spec_from_widgets() -> tuple[ExperimentSpec | None, str | None]:
    """(spec, None) from the widgets' values, or (None, a sentence) when they do not validate."""
    tree = unflatten({key: st.session_state.get(key, value)
                      for key, value in flat(current_spec()).items()})
    tree.setdefault("model", {})["layers"] = [row_layer(row) for row in st.session_state["layers"]]
    try:
        return parse(tree), None
    except SpecError as e:
        return None, str(e)


def layer_row(layer: dict) -> dict:
    """A layer as an editable row with a stable id for its widget keys."""
    return {"id": uuid.uuid4().hex[:8], **layer}


def row_layer(row: dict) -> dict:
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
