"""Gallery: class presets as cards, each with its teaching goal; a card opens on its page."""

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st

import ui
from nnplay import presets, surfaces
from nnplay.spec import DATASETS

ROOT = Path(__file__).resolve().parents[1]
PAGES = ui.PRESET_PAGES
HIDE_CHOICES = ("presets", "data", "layers", "optimizer", "train", "data.name", "data.noise",
                "optimizer.name", "optimizer.lr", "loss.name", "seed")  # fmt: skip


def openable(preset: presets.Preset) -> bool:
    """True when the preset's page exists in this app."""
    page = PAGES.get(preset.page)
    return page is not None and (ROOT / page[0]).is_file()


def open_preset(preset: presets.Preset) -> None:
    """Load the preset where its page reads it, then go there (with ?preset= for the URL)."""
    if preset.page == "Playground":
        ui.load_spec(preset.spec)
        st.session_state["notice"] = f"Loaded **{preset.title}**: {preset.goal}"
    elif preset.page == "Compare":
        st.session_state["compare.open"] = preset.name
    else:
        st.session_state["open_preset"] = preset.name
    st.switch_page(PAGES[preset.page][0], query_params={"preset": preset.name})


def card(preset: presets.Preset) -> None:
    """One preset: title, goal, what it runs, and Open."""
    with st.container(border=True, height="stretch", key=f"card-{preset.name}"):
        st.markdown(f"#### {preset.title}")
        st.markdown(preset.goal)
        spec = preset.spec
        what = f"{preset.page} · {DATASETS[spec.data.name].label}"
        if preset.race:
            what += f" · {len(preset.race.get('contenders', []))} optimisers race"
        st.caption(what)
        if st.button("Open", key=f"open.{preset.name}", type="primary",
                     disabled=not openable(preset)):
            open_preset(preset)


st.title("Class presets")
st.caption("Each card is one idea to show a class. **Open** loads it on its page; press Train "
           "there. The presentation switch in the sidebar makes charts and text larger for a "
           "projector.")  # fmt: skip

try:
    gallery = presets.all_presets()
except Exception as e:  # a broken preset file: say so, show nothing half-loaded
    st.error(f"The presets could not be loaded: {e}")
    st.stop()
shown = [p for p in gallery if PAGES.get(p.page)]
for row in range(0, len(shown), 3):
    cols = st.columns(3)
    for col, preset in zip(cols, shown[row:row + 3]):
        with col:
            card(preset)

st.subheader("Optimisers' paths")
st.caption("Each opens on the Compare page: optimisers stepping over a 2D loss surface from one "
           "start point, drawn path by path.")  # fmt: skip
shown_paths = surfaces.all_presets()
for row in range(0, len(shown_paths), 3):
    for col, preset in zip(st.columns(3), shown_paths[row:row + 3]):
        with col, st.container(border=True, height="stretch", key=f"card-{preset.name}"):
            st.markdown(f"#### {preset.title}")
            st.markdown(preset.goal)
            st.caption(f"Compare · {preset.spec.info.label} · "
                       f"{len(preset.spec.contenders)} optimisers")  # fmt: skip
            if st.button("Open", key=f"open.{preset.name}", type="primary"):
                open_preset(preset)

st.divider()
st.subheader("Teacher link")
st.markdown("Hand out a link that opens one preset with some controls hidden, so the class "
            "changes only what the lesson is about.")  # fmt: skip
a, b = st.columns([1, 2])
name = a.selectbox("Preset", [p.name for p in shown], key="teach.preset",
                   format_func=lambda n: presets.load(n).title)
hide = b.multiselect("Hide these controls", HIDE_CHOICES, key="teach.hide",
                     help="Group names hide several controls: 'layers' hides the layer editor, "
                     "'optimizer' every optimiser setting.")
if name:
    preset = presets.load(name)
    url = urlsplit(st.context.url or "http://localhost:8501/")
    query = {"preset": name} | ({"hide": ",".join(hide)} if hide else {})
    link = f"{url.scheme}://{url.netloc}/{PAGES[preset.page][1]}?{urlencode(query, safe=',')}"
    st.code(link, language="text")
