"""The PyTorch code panel: a spec (and its run's changes) as a standalone script."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from nnplay import branch
from nnplay.spec import ExperimentSpec, SpecError


def code_panel(spec: ExperimentSpec, title: str = "", key: str = "code",
               changes: Iterable = (), origin: dict | None = None) -> None:
    """spec as a standalone PyTorch script: shown (with st.code's copy button) and as a .py;
    changes (a run's settings changed while it trained) are made at their steps; a branch's
    (origin) replays its parent up to the step it branched from."""
    from nnplay import codegen

    try:
        base, replayed, switches = branch.exported(spec, list(changes), origin)
        text = codegen.script(base, title, replayed, switches)
    except SpecError as e:
        st.info(str(e))
        return
    st.caption("Plain PyTorch, no nnplay: run it with `python`. On CPU it prints the same "
               "losses as this run, evaluation by evaluation.")  # fmt: skip
    st.download_button("Download .py", text, file_name=f"nnplay_{spec.data.name}.py",
                       mime="text/x-python", key=f"{key}.download", on_click="ignore",
                       icon=":material/download:")  # fmt: skip
    st.code(text, language="python")
