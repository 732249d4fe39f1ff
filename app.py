"""nnplay: the entry point. Page config, navigation over views/ (a file a page), the sidebar."""

import streamlit as st

from nnplay import pages
from nnplay.limits import Limits

st.set_page_config(page_title="nnplay", page_icon="🧠", layout="wide")

NAVIGATION = [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url or None,
                      default=not p.url) for p in pages.PAGES]  # fmt: skip
PLAYGROUND = NAVIGATION[0]  # the default page, served at the app's root


def to_playground() -> None:
    """/playground, which a person may type: the Playground at the root, link and all."""
    st.switch_page(PLAYGROUND, query_params=st.query_params.to_dict())


NAVIGATION.append(st.Page(to_playground, title="Playground", url_path="playground",
                          visibility="hidden"))
page = st.navigation(NAVIGATION)
# Presentation mode: ui.scale() enlarges the charts, ui.presentation_style() the text and the
# layout, on every page.
st.sidebar.toggle("Presentation mode", key="presentation",
                  help="Larger charts and text for a projector.")
# The page draws its settings before anything imports torch (tests/test_cold_start.py); on a cold
# server the run controls, charts and code follow when it is in, and a line says so meanwhile.
# The slot is there on every run, so that the page's elements keep their places (a live fragment
# addresses them by place).
from nnplay import warmup  # noqa: E402  (threading only)

starting = st.empty()
if not warmup.ready():
    starting.caption(":material/hourglass_top: Starting PyTorch on this server (a few seconds, "
                     "on its first page only): the settings work meanwhile.")
import ui  # noqa: E402  (no torch: tests/test_cold_start.py)
import ui.chart  # noqa: E402
import ui.serving  # noqa: E402

# before any upload: Streamlit's own 200 MB limit would buffer files far past nnplay's
ui.serving.apply_upload_limit(Limits.from_env())  # the run manager's, which waits for torch
with st.sidebar:
    ui.chart.preload()  # plotly.js loads while torch does, on a cold server
    ui.owner()  # on a browser's first visit this sets the cookie that keeps its Runs list
    kept = st.container()  # the storage notice, once the run manager is up
ui.base_style()  # first, so that presentation mode's rules override it
if ui.presenting():
    ui.presentation_style()
# Live charts redraw about once a second; without this Streamlit fades each one while its next
# frame is on the way, so a busy server makes the whole panel flicker.
st.html("<style>.stElementContainer[data-stale='true'] { opacity: 1 !important; "
        "transition: none !important; }</style>")
try:
    page.run()
finally:  # also when the page stops or reruns early
    starting.empty()
    with kept:
        ui.serving.storage_notice(ui.manager())
