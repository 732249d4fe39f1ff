"""Tests for nnplay.figures: graph-object style updates over plain dicts."""

from __future__ import annotations

import pytest
from plotly.subplots import make_subplots

from nnplay.figures import Figure, _subplot_skeleton, merged, plotly_figure, trace


def test_subplot_cells_use_make_subplots_axes() -> None:
    fig = Figure.subplots(2, 3, horizontal_spacing=0.1)
    reference = make_subplots(rows=2, cols=3, horizontal_spacing=0.1)
    reference.add_scatter(x=[1], y=[1], row=2, col=3)
    fig.add_trace(trace("scatter", x=[1], y=[1]), row=2, col=3)
    assert (fig.data[0]["xaxis"], fig.data[0]["yaxis"]) == (reference.data[0].xaxis,
                                                            reference.data[0].yaxis) == ("x6", "y6")
    assert fig.layout["xaxis6"]["domain"] == list(reference.layout.xaxis6.domain)
    assert fig.layout["yaxis6"]["anchor"] == "x6"


def test_subplots_are_copies_of_the_cached_skeleton() -> None:
    one = Figure.subplots(1, 2, subplot_titles=("a", "b"))
    one.update_annotations(font=dict(size=30))
    one.update_xaxes(row=1, col=2, type="log")
    two = Figure.subplots(1, 2, subplot_titles=("a", "b"))
    assert [a.get("font") for a in two.layout["annotations"]] != [dict(size=30)] * 2
    assert "type" not in two.layout["xaxis2"]


def test_subplot_titles_are_make_subplots_own_whatever_the_cache_holds() -> None:
    for titles in [("a", "", "c → <b>d</b>", "e"), ("f", "", "g", "h"), ("", "i", "", "")]:
        fig = Figure.subplots(2, 2, subplot_titles=titles, vertical_spacing=0.2)
        reference = make_subplots(rows=2, cols=2, subplot_titles=titles, vertical_spacing=0.2)
        expected = reference.to_dict()["layout"]
        expected.pop("template", None)
        assert fig.layout == expected


def test_changing_titles_reuse_one_skeleton() -> None:
    Figure.subplots(1, 3, subplot_titles=("warm", "the", "cache"))
    before = _subplot_skeleton.cache_info()
    Figure.subplots(1, 3, subplot_titles=("other", "titles", "now"))
    after = _subplot_skeleton.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


def test_axis_updates_by_cell_and_for_all() -> None:
    fig = Figure.subplots(1, 2)
    fig.update_yaxes(row=1, col=2, title=dict(text="right"))
    assert fig.layout["yaxis2"]["title"] == {"text": "right"} and "title" not in fig.layout["yaxis"]
    fig.update_yaxes(title=dict(font=dict(size=9)), tickformat=".0%")
    assert fig.layout["yaxis2"]["title"] == {"text": "right", "font": {"size": 9}}
    assert fig.layout["yaxis"]["tickformat"] == fig.layout["yaxis2"]["tickformat"] == ".0%"
    plain = Figure().update_xaxes(type="log")  # no axes yet: the one default axis
    assert plain.layout == {"xaxis": {"type": "log"}}


def test_lines_and_bands_are_shapes() -> None:
    fig = Figure().add_hline(0.5, line=dict(dash="dot"), annotation=dict(text="half"))
    fig.add_vline(3, line=dict(color="red")).add_vrect(1, 2, fillcolor="#999")
    hline, vline, band = fig.layout["shapes"]
    assert (hline["y0"], hline["y1"], hline["xref"]) == (0.5, 0.5, "x domain")
    assert (vline["x0"], vline["yref"]) == (3, "y domain") and band["type"] == "rect"
    assert fig.layout["annotations"][0]["text"] == "half"


def test_merged_is_recursive_and_leaves_its_inputs() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    assert merged(base, {"a": {"c": 5}, "e": 6}) == {"a": {"b": 1, "c": 5}, "d": 3, "e": 6}
    assert base == {"a": {"b": 1, "c": 2}, "d": 3}


def test_plotly_figure_returns_plotly_figures() -> None:
    chart = plotly_figure(lambda title: Figure().update_layout(title=dict(text=title)))
    fig = chart("hello")
    assert fig.layout.title.text == "hello" and fig.to_dict()["layout"]["title"]["text"] == "hello"
    assert plotly_figure(lambda: None)() is None


@pytest.mark.parametrize("bad", [
    trace("bar", x=[1], marker=dict(colour="red")),  # not a property, nested
    trace("scatter", x=[1], colour="red"),  # not a property
    trace("scatter", x=[1], mode="dots"),  # not a value
])
def test_the_suite_fails_a_figure_plotly_would_not_accept(bad: dict) -> None:
    """tests/conftest.py rebuilds every figure through plotly's validating classes."""
    with pytest.raises((AssertionError, ValueError)):
        Figure().add_trace(bad).to_plotly()
