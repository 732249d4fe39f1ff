"""The Plotly charts an AppTest page drew, read as st.plotly_chart elements read: each with
proto.id (holding its key) and proto.spec (the figure's JSON). Most are ui.figure's chart
component; a chart that takes clicks by selection (the drawing canvas, the surface plot) is a
plain st.plotly_chart."""

from __future__ import annotations

import json
from types import SimpleNamespace

from streamlit.testing.v1 import AppTest


def plotly_charts(at: AppTest) -> list[SimpleNamespace]:
    """Every chart on the page: the component's in page order, then the plain ones."""
    found = []
    for element in at.get("bidi_component"):
        data = json.loads(element.proto.bytes or element.proto.json or "{}")
        if "figure" in data:
            spec = json.dumps(data["figure"])
            found.append(SimpleNamespace(proto=SimpleNamespace(id=element.proto.id, spec=spec)))
    return found + list(at.get("plotly_chart"))
