"""nnplay: the entry point. Page config, navigation over pages/, and the shared sidebar."""

import streamlit as st

st.set_page_config(page_title="nnplay", page_icon="🧠", layout="wide")

PAGES = [
    st.Page("pages/1_Playground.py", title="Playground", icon="🧪", url_path="playground",
            default=True),
]

st.navigation(PAGES).run()
