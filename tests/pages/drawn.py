"""The Plotly charts an AppTest page drew (ui.figure's chart component), read as st.plotly_chart
elements read: each with proto.id (holding its key) and proto.spec (the figure's JSON)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from streamlit.testing.v1 import AppTest


def plotly_charts(at: AppTest) -> list[SimpleNamespace]:
    """Every chart on the page, in page order."""
    found = []
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.bytes or element.proto.json or "{}")
        if "figure" in data:
            spec = json.dumps(data["figure"])
            found.append(SimpleNamespace(proto=SimpleNamespace(id=element.proto.id, spec=spec)))
    return found
