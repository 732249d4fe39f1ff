"""Checks shared by the whole suite."""

from __future__ import annotations

import json
import os

import plotly.graph_objects as go
import plotly.io
import pytest
from hypothesis import settings

from nnplay import figures

# Property tests explore new inputs on every local run; CI replays a fixed set, so that a red CI
# run means the change broke something, not that the search happened on a new case today.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def validated_json(fig: go.Figure) -> tuple[dict, dict]:
    """(the figure's JSON, the JSON of the same figure rebuilt through plotly's validating
    classes). Rebuilding raises ValueError on a property or value plotly does not know."""
    raw = json.loads(plotly.io.to_json(fig, validate=False))
    checked = go.Figure(fig.to_dict())  # validates every trace and layout property
    return raw, json.loads(plotly.io.to_json(checked, validate=False))


def differences(a: object, b: object, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths with both values (at most a few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}.{k}: {a.get(k)!r:.80} != {b.get(k)!r:.80}" for k in a.keys() ^ b.keys()]
        for k in a.keys() & b.keys():
            found += differences(a[k], b[k], f"{path}.{k}")
        return found[:5]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")][:5]
    return [] if a == b else [f"{path}: {a!r:.80} != {b!r:.80}"]


@pytest.fixture(autouse=True)
def every_figure_is_valid_plotly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts hand Plotly their figures unvalidated (nnplay.figures). In the tests every
    figure they build is rebuilt through plotly's own classes, which must accept it unchanged:
    a misspelt property, a magic-underscore name or a bad value fails the test that drew it."""
    build = figures.Figure.to_plotly

    def checked(self: figures.Figure) -> go.Figure:
        fig = build(self)
        raw, valid = validated_json(fig)
        assert raw == valid, f"plotly's validation changes this figure: {differences(raw, valid)}"
        assert figures.to_json(fig) == plotly.io.to_json(fig, validate=False)  # the page's JSON
        return fig

    monkeypatch.setattr(figures.Figure, "to_plotly", checked)
