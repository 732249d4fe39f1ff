"""The Compare page's third mode: optimisers' paths over a 2D loss surface.

Widgets -> a SurfaceSpec -> a PathJob (the paths are stepped in a worker thread) -> a figure
redrawn as the points arrive. The mode has its own link (?surface=...) and its own presets
(nnplay/presets/surfaces), and a code panel with the same paths as a standalone script.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import ui
from nnplay import paths, surface_charts, surfaces
from nnplay.spec import OptimizerSpec, SpecError
from nnplay.surfaces import SurfaceSpec

MODE = "Paths on a surface"
PREFIX = "s"  # the contender widgets' keys: s0.name, s0.lr, ...
POLL_SECONDS = 0.3
FIRST_POINTS_SECONDS = 0.5  # how long a change waits for the first points before drawing
CONDITIONS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
OWN = ""  # the preset selectbox's "no preset" entry
KEPT_PARAMS = ("hide",)


def load(spec: SurfaceSpec) -> None:
    """Write a setup into this mode's widgets (they show it on the next run)."""
    state = st.session_state
    state["surface.name"], state["surface.steps"] = spec.surface, spec.steps
    state["surface.condition"], state["surface.angle"] = spec.condition, spec.angle
    state["surface.x0"], state["surface.y0"] = spec.start
    state["surface.n"] = len(spec.contenders)
    for i, opt in enumerate(spec.contenders):
        for key, value in opt.model_dump().items():
            state[f"{PREFIX}{i}.{key}"] = value


def _load_preset(name: str) -> None:
    preset = surfaces.load_preset(name)
    load(preset.spec)
    st.session_state["surface.preset"] = name
    st.session_state["surface.notice"] = f"**{preset.title}**: {preset.goal}"


def open_link(mode_key: str) -> None:
    """Before the page's mode radio: a surface preset (from the gallery or ?preset=) or a
    surface link (?surface=...) opens this mode with its setup, once."""
    state, params = st.session_state, st.query_params.to_dict()
    wanted = state.get("compare.open") or params.get("preset")
    if wanted in surfaces.preset_names() and wanted != state.get("compare.opened"):
        state.pop("compare.open", None)
        state["compare.opened"] = wanted
        _load_preset(wanted)
        state[mode_key] = MODE
    elif "surface" in params and params != state.get("surface.url.written"):
        spec, warnings = surfaces.from_params(params)
        load(spec)
        state["surface.preset"] = OWN
        state["surface.url.written"] = params
        state["surface.warnings"] = warnings
        state[mode_key] = MODE


def leave() -> None:
    """Another mode is showing: the URL no longer describes a surface."""
    if "surface" in st.query_params:
        for key in surfaces.PARAM_KEYS:
            st.query_params.pop(key, None)


def _surface_changed() -> None:
    """Another surface starts from its own start point."""
    start = surfaces.SURFACES[st.session_state["surface.name"]].start
    st.session_state["surface.x0"], st.session_state["surface.y0"] = start
    st.session_state["surface.preset"] = OWN


def _preset_chosen() -> None:
    name = st.session_state["surface.preset"]
    if name:
        _load_preset(name)


def _defaults() -> None:
    """Widget values for a first visit (the default setup) or after another mode, whose run
    forgot these widgets' values (the last setup)."""
    if "surface.name" not in st.session_state:  # first visit, or back from another mode
        load(st.session_state.get("surface.spec") or SurfaceSpec())
        st.session_state.setdefault("surface.preset", OWN)


def settings_widgets(top: list) -> None:
    """The preset, the surface and its settings, the start point and the number of steps."""
    names = (OWN, *surfaces.preset_names())
    top[1].selectbox("Surface preset", names, key="surface.preset", on_change=_preset_chosen,
                     format_func=lambda n: surfaces.load_preset(n).title if n else "(none)")
    top[2].number_input("Steps", 10, surfaces.MAX_STEPS, step=10, key="surface.steps")
    cols = st.columns([2, 1, 1, 2, 2], vertical_alignment="bottom")
    cols[0].selectbox("Surface", tuple(surfaces.SURFACES), key="surface.name",
                      on_change=_surface_changed,
                      format_func=lambda n: surfaces.SURFACES[n].label)  # fmt: skip
    cols[1].number_input("Start x", -1000.0, 1000.0, step=0.1, key="surface.x0", format="%.3f")
    cols[2].number_input("Start y", -1000.0, 1000.0, step=0.1, key="surface.y0", format="%.3f")
    if "condition" in surfaces.SURFACES[st.session_state["surface.name"]].settings:
        value = float(st.session_state["surface.condition"])
        cols[3].select_slider("Condition number", sorted({*CONDITIONS, value}),
                              key="surface.condition", format_func=lambda v: f"{v:g}",
                              help="How many times steeper the bowl is across its valley "
                                   "than along it.")  # fmt: skip
        cols[4].slider("Valley angle (degrees)", 0.0, 90.0, step=5.0, key="surface.angle",
                       help="0: the valley lies along x, so each parameter has its own "
                            "curvature; 45: both parameters share both curvatures.")


def spec_from_widgets(contenders: list[dict]) -> tuple[SurfaceSpec | None, str | None]:
    """(the setup the widgets describe, None) or (None, a sentence)."""
    state = st.session_state
    try:
        opts = []
        for i, c in enumerate(contenders, start=1):
            try:
                opts.append(OptimizerSpec(**c))
            except ValueError as e:
                raise SpecError(f"optimiser {i}: {_sentence(e)}") from None
        return surfaces.parse({
            "surface": state["surface.name"], "condition": state["surface.condition"],
            "angle": state["surface.angle"], "start": (state["surface.x0"], state["surface.y0"]),
            "steps": state["surface.steps"], "contenders": [o.model_dump() for o in opts],
        }), None  # fmt: skip
    except SpecError as e:
        return None, str(e)


def _sentence(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        return "; ".join(e["msg"].removeprefix("Value error, ") for e in errors())
    return str(error)


def job_for(spec: SurfaceSpec) -> paths.PathJob:
    """The job computing spec's paths: this session's current one, or a new one (the old one
    is cancelled), which gets a moment to deliver its first points."""
    job: paths.PathJob | None = st.session_state.get("surface.job")
    if job is None or job.spec != spec:
        if job is not None:
            job.cancel()
        job = st.session_state["surface.job"] = paths.PathJob(spec)
        job.wait(FIRST_POINTS_SECONDS)
    return job


def _pick(key: str) -> None:
    """A click on the contour plot (a callback, before the page's run): the start point moves
    to the point it selected."""
    points = ((st.session_state.get(key) or {}).get("selection") or {}).get("points") or []
    info = surfaces.SURFACES[st.session_state["surface.name"]]
    (x_lo, x_hi), (y_lo, y_hi) = info.x_range, info.y_range
    for point in points:
        x, y = point.get("x"), point.get("y")
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and x_lo <= x <= x_hi and y_lo <= y <= y_hi:  # fmt: skip
            st.session_state["surface.x0"] = round(x, 3)
            st.session_state["surface.y0"] = round(y, 3)
            st.session_state["surface.preset"] = OWN
            # a new key: the chart forgets this selection, so that a later click on the same
            # point is a new selection (plotly sends none for a point already selected)
            st.session_state["surface.clicks"] = st.session_state.get("surface.clicks", 0) + 1
            return


def _panel(job: paths.PathJob, snap: dict, final: bool, redraw: int = 0) -> None:
    """The figure and the table of one snapshot; the final one (complete paths) takes clicks
    and has the widgets' keys, the ones before it are drawn over each other."""
    if snap["error"]:
        st.error(f"The paths could not be computed: {snap['error']}")
    fig = surface_charts.path_figure(job.spec, snap, scale=ui.scale(), stacked=ui.presenting(),
                                     pickable=final)  # fmt: skip
    config = {"displaylogo": False}
    with st.container(key="surface-figure" if final else None):
        if final:  # the one chart of this mode drawn with on_select rather than ui.figure
            key = f"surface.figure.{st.session_state.get('surface.clicks', 0)}"
            st.plotly_chart(fig, key=key, width="stretch", on_select=lambda: _pick(key),
                            selection_mode="points", config=config)  # fmt: skip
        else:  # a key per redraw: one run draws the live chart several times
            ui.figure(fig, f"surface.live.{redraw}")
    st.dataframe(surface_charts.status_rows(job.spec, snap), hide_index=True,
                 key="surface.table" if final else None, width="stretch", column_config={
                     "ends at x": st.column_config.NumberColumn(format="%.4f"),
                     "y": st.column_config.NumberColumn(format="%.4f"),
                     "loss": st.column_config.NumberColumn(format="%.4g")})  # fmt: skip


def draw(job: paths.PathJob) -> None:
    """The figure and the table, redrawn in this run as the worker's points arrive (a run
    takes about a second; a widget changed meanwhile interrupts it at the next redraw).

    Not a polling fragment: its st.rerun(scope="app") when the paths were complete could leave
    the page's widgets showing their defaults (Streamlit issue 11266), and the next change then
    sent those defaults back (the learning-rate slider at its floor)."""
    # the complete figure gets a slot of its own: a chart that takes clicks must be mounted as
    # one, not be a live chart updated into one
    note, live, final = st.empty(), st.empty(), st.empty()
    drawn = -1
    while True:
        seen, snap = job.chunks, job.snapshot()
        if snap["done"]:
            note.empty()
            live.empty()
            with final.container():
                _panel(job, snap, final=True)
            return
        if seen != drawn:  # a figure drawn twice in one run would clash
            with live.container():
                _panel(job, snap, final=False, redraw=seen)
            drawn = seen
        step = max((len(p) for p in snap["paths"]), default=1) - 1
        # also the point where a widget changed meanwhile interrupts this run
        note.caption(f"Computing the paths: step {max(step, 0):,} of {job.spec.steps:,}")
        job.wait_past(seen, POLL_SECONDS)


def write_link(spec: SurfaceSpec) -> str:
    """Make the URL say spec (keeping hide=); returns the query string."""
    return ui.write_params(surfaces.to_params(spec), KEPT_PARAMS, "surface.url.written")


def page(top: list, contender_widgets: Callable[..., dict]) -> None:
    """The whole mode, under the page's mode radio (top: the row the radio sits in)."""
    _defaults()
    settings_widgets(top)
    notes = st.container()  # always there, so that what follows keeps its place between runs
    for w in st.session_state.pop("surface.warnings", None) or ():
        notes.warning(f"This link's {w}")
    notice = st.session_state.pop("surface.notice", None)
    if notice:
        notes.info(notice)
    info = surfaces.SURFACES[st.session_state["surface.name"]]
    st.caption(f"{info.lesson} Each optimiser steps its own `torch.nn.Parameter` of two values "
               "from the same start with the real `torch.optim` class.")  # fmt: skip
    stage = st.container()  # the figure, drawn above the optimisers' widgets once they are read
    st.subheader("Optimisers")
    st.columns(4)[0].number_input("Optimisers", 1, surfaces.MAX_CONTENDERS, step=1,
                                  key="surface.n")  # fmt: skip
    n = st.session_state["surface.n"]
    contenders = ui.boxes(n, "surface-box", "Optimiser", lambda i: contender_widgets(i, PREFIX))
    spec, problem = spec_from_widgets(contenders)
    if problem:
        stage.error(f"These paths cannot be drawn: {problem}")
        return
    st.session_state["surface.spec"] = spec
    query = write_link(spec)
    with stage:
        draw(job_for(spec))
    ui.share_link(query)
    title = ""
    if st.session_state.get("surface.preset"):
        title = surfaces.load_preset(st.session_state["surface.preset"]).title
    with st.expander("PyTorch code", icon=":material/code:"):
        text = paths.script(spec, title)
        st.caption("Plain PyTorch: run it with `python`; it prints where each path ends, the "
                   "same numbers as this page.")  # fmt: skip
        st.download_button("Download .py", text, file_name=f"paths_{spec.surface}.py",
                           mime="text/x-python", key="surface.download", on_click="ignore",
                           icon=":material/download:")  # fmt: skip
        st.code(text, language="python")
