"""The page's layout: presentation mode for a projector, the settings beside the run, charts
side by side, and the controls a teacher's link hides (?hide=)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

import streamlit as st

from nnplay import urls


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


# A hide= name that stands for several widgets (prefixes end in "."); any other name is a key.
HIDE_GROUPS: dict[str, tuple[str, ...]] = {
    "layers": ("layer.", "up.", "down.", "del.", "add.", "ff."),
    "presets": ("preset", "load_preset"),
    "data": ("data.",),
    "optimizer": ("optimizer.",),
    "train": ("train.",),
}
MAX_HIDDEN = 64


T = TypeVar("T")


def boxes(n: int, key: str, title: str, widgets: Callable[[int], T]) -> list[T]:
    """n bordered boxes three to a row (keys key-0, key-1, ...), each titled "title i" and
    filled by widgets(i); what each widgets(i) returned, in order."""
    out = []
    for row in range(0, n, 3):
        cols = st.columns(3)
        for i in range(row, min(row + 3, n)):
            with cols[i - row].container(border=True, key=f"{key}-{i}"):
                st.markdown(f"**{title} {i + 1}**")
                out.append(widgets(i))
    return out


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
