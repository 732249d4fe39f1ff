"""The Playground's network view: the chart of units and weights, a unit looked at closely, and
TensorFlow Playground's + and − for units and layers (editing the Model tab's layer stack)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import streamlit as st

from nnplay import network_chart
from ui.chart import chart

MAX_UNITS = 4096  # spec.Linear's bound
NEW_LAYER_UNITS = 4


def panel(snap: dict, key: str = "network", scale: float = 1.0,
          reset: Callable[[], None] | None = None) -> None:
    """The network chart of a run's snapshot (nothing when it has none); click a unit, or
    choose it from the list, to see its picture enlarged with the data on top. With reset
    (the page that edits the experiment), + and − for layers and units, and Reset."""
    if st.session_state.pop("net.edited", False):
        st.rerun(scope="app")  # the Model tab and the spec follow the edit
    network = snap.get("network")
    if not network:
        return
    if reset is not None:
        editor(reset)
    choices = network_chart.node_list(network)
    labels = [label for _, _, label in choices]
    pick = f"{key}.unit"
    if st.session_state.get(pick) not in labels:
        first = len(network["inputs"])  # the first unit after the inputs (x₁, x₂, x₁², ...)
        st.session_state[pick] = labels[min(first, len(labels) - 1)]
    where = {label: (c, r) for c, r, label in choices}
    fig = network_chart.network_chart(snap, scale=scale, selected=where[st.session_state[pick]])
    clicked = _clicked(fig, chart(fig, key, clicks=True), labels)
    if clicked is not None:
        st.session_state[pick] = clicked
    left, right = st.columns([1, 2]) if scale == 1.0 else (st.container(), st.container())
    with left:
        st.selectbox("Look closer at", labels, key=pick,
                     help="Or click a unit in the network above.")
        st.caption("Each square is one unit's output over the input plane (orange negative, "
                   "blue positive, on a scale shared by its layer). Links are weights: blue "
                   "positive, orange negative, thicker for larger |weight|.")
    with right:
        column, row = where[st.session_state[pick]]
        chart(network_chart.unit_chart(snap, column, row, scale=scale), f"{key}.closer")


def _clicked(fig, point: dict | None, labels: list[str]) -> str | None:
    """The label of the unit a click landed on, if the click was on a unit."""
    units = [i for i, t in enumerate(fig.data) if t.name == "units" and t.type == "scatter"]
    if not point or not units or point.get("curve") != units[0]:
        return None
    index = point.get("index")
    return labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None


# --- + and − : editing the layer stack of the Model tab -----------------------------------------
# The rows are ui's layer rows ({"id", "type", field}); each row's widget key is
# layer.<id>.<field>, so an edit sets both, as the Model tab's own buttons do.


def _rows() -> list[dict]:
    """The layer rows with their widgets' current values copied in."""
    rows = st.session_state.get("layers", [])
    for row in rows:
        for field in ("units", "name", "p"):
            value = st.session_state.get(f"layer.{row['id']}.{field}")
            if field in row and value is not None:
                row[field] = value
    return rows


def _set(row: dict, field: str, value: object) -> None:
    row[field] = value
    st.session_state[f"layer.{row['id']}.{field}"] = value


def _units(i: int, delta: int) -> None:
    """Add delta units to the i-th Linear layer."""
    st.session_state["net.edited"] = True
    linears = [r for r in _rows() if r["type"] == "linear"]
    row = linears[i]
    _set(row, "units", max(1, min(MAX_UNITS, int(row["units"]) + delta)))


def _add_layer() -> None:
    """A hidden layer after the last one: Linear with the last one's width, and its activation."""
    st.session_state["net.edited"] = True
    rows = _rows()
    linears = [r for r in rows if r["type"] == "linear"]
    acts = [r for r in rows if r["type"] == "activation"]
    units = int(linears[-1]["units"]) if linears else NEW_LAYER_UNITS
    name = acts[-1]["name"] if acts else "ReLU"
    rows.append({"id": uuid.uuid4().hex[:8], "type": "linear", "units": units})
    rows.append({"id": uuid.uuid4().hex[:8], "type": "activation", "name": name})


def _remove_layer() -> None:
    """Remove the last hidden layer: its Linear and what follows it (activation, dropout)."""
    st.session_state["net.edited"] = True
    rows = _rows()
    last = max((i for i, r in enumerate(rows) if r["type"] == "linear"), default=None)
    if last is not None:
        del rows[last:]


def _reset(reset: Callable[[], None]) -> None:
    st.session_state["net.edited"] = True
    reset()


def editor(reset: Callable[[], None]) -> None:
    """+ and − for hidden layers and for each layer's units (they apply to the next run), and
    Reset (start over from the initial weights)."""
    rows = st.session_state.get("layers", [])
    linears = [r for r in rows if r["type"] == "linear"]
    with st.container(horizontal=True, vertical_alignment="center", key="net-edit"):
        st.markdown(f"**{len(linears)} hidden layer{'s' if len(linears) != 1 else ''}**")
        st.button("−", key="net.layer.remove", on_click=_remove_layer, disabled=not linears,
                  help="Remove the last hidden layer")
        st.button("+", key="net.layer.add", on_click=_add_layer, disabled=len(rows) >= 62,
                  help="Add a hidden layer after the last one")
        for i, row in enumerate(linears):
            units = st.session_state.get(f"layer.{row['id']}.units", row["units"])
            st.markdown(f"fc{rows.index(row) + 1}: **{units}**")
            st.button("−", key=f"net.units.{i}.minus", on_click=_units, args=(i, -1),
                      disabled=units <= 1, help=f"One unit fewer in fc{rows.index(row) + 1}")
            st.button("+", key=f"net.units.{i}.plus", on_click=_units, args=(i, 1),
                      help=f"One unit more in fc{rows.index(row) + 1}")
        st.button("Reset", key="net.reset", on_click=_reset, args=(reset,),
                  icon=":material/restart_alt:",
                  help="Start over with the current settings: the seed's initial weights, "
                       "paused at step 0 (Regenerate on the Data tab for new ones)")
