"""The page's URL (the experiment, nnplay.urls; hide= and run= belong to other features and are
kept), opening a link or a preset on its page, and the Copy link box."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import streamlit as st

from nnplay import escape, pages, presets, urls
from nnplay.spec import ExperimentSpec, SpecError
from ui.state import load_spec

KEPT_PARAMS = ("hide", "run")
# Each page's file and URL path by its title (Preset.page names a preset's page by title).
PRESET_PAGES = {page.title: (page.file, page.url) for page in pages.PAGES}
# The Preset box and its Load button on the pages that edit a spec.
PRESET_BOXES = {"Playground": ("preset", "load_preset"),
                "Sequences": ("seq.preset", "seq.load_preset")}


def preset_picker(page: str, names: Iterable[str]):
    """page's Preset box and Load preset button, then what the last load (or link) said; returns
    the slot beside them (where the Copy link box goes)."""
    box, load = PRESET_BOXES[page]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        choice = st.selectbox("Preset", ("", *names), key=box,
                              format_func=lambda n: presets.load(n).title if n else "— choose —")
        if st.button("Load preset", key=load, disabled=not choice):
            try:
                preset = presets.load(choice)
                load_spec(preset.spec)
                st.session_state["notice"] = f"Loaded **{preset.title}**: {preset.goal}"
            except SpecError as e:
                st.session_state["notice_error"] = str(e)
            st.rerun()
        slot = st.container()
    if "notice" in st.session_state:  # also the preset a link opened (open_link)
        st.info(st.session_state.pop("notice"))
    if "notice_error" in st.session_state:
        st.error(st.session_state.pop("notice_error"))
    link_warnings()
    return slot


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
            st.session_state[PRESET_BOXES[page][0]] = extras["preset"]
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
