"""The Compare page's surface mode under AppTest: paths drawn from the worker's points, redrawn
when a learning rate moves, the link round trip, surface presets, bad input as sentences."""

from __future__ import annotations

import json

from nnplay import surfaces
from tests.pages.drawn import plotly_charts

PAGE = "views/3_Compare.py"
MODE = "Paths on a surface"


def open_paths(at, params: dict | None = None):
    at.run()
    at.query_params.update(params or {})
    at = at.switch_page(PAGE).run()
    if params is None:
        at.radio(key="compare.mode").set_value(MODE).run()
    return at


def finished(at):
    """Poll until the job is done and the figure has its Play frames; the figure's spec."""
    for _ in range(240):
        figures = [json.loads(c.proto.spec) for c in plotly_charts(at)]
        if figures and figures[0].get("frames"):
            return figures[0]
        at.session_state["surface.job"].join(0.5)
        at.run()
    raise AssertionError("the paths never finished")


def path_of(figure: dict, title: str) -> tuple:
    trace = next(t for t in figure["data"] if t.get("name") == title and "customdata" in t)
    return json.dumps(trace["x"]), json.dumps(trace["y"])


def test_the_mode_draws_every_path_and_a_table(app):
    at = open_paths(app)
    assert not at.exception and not at.error
    figure = finished(at)
    names = [t.get("name") for t in figure["data"] if "customdata" in t]
    assert names == ["SGD lr=0.001", "SGD lr=0.001 momentum=0.9", "Adam lr=0.1"]
    assert figure["data"][0]["type"] == "contour" and figure["layout"]["sliders"]
    table = at.dataframe[0].value
    assert list(table["status"]) == ["finished"] * 3 and list(table["steps"]) == [300] * 3
    assert at.query_params["surface"] == "rosenbrock"
    assert at.query_params["c3"] == "Adam,lr=0.1"
    code = at.expander[0].code[0].value if at.expander else ""
    assert "torch.optim.Adam([p], lr=0.1)" in code and "def rosenbrock(x, y):" in code


def test_moving_a_learning_rate_redraws_that_path(app):
    at = open_paths(app)
    before = finished(at)
    at.select_slider(key="s2.lr").set_value(0.01).run()
    assert not at.exception
    after = finished(at)
    assert path_of(after, "Adam lr=0.01") != path_of(before, "Adam lr=0.1")
    assert path_of(after, "SGD lr=0.001") == path_of(before, "SGD lr=0.001")  # the others stay
    assert at.query_params["c3"] == "Adam"  # 0.01: the default lr


def test_a_link_opens_the_mode_with_its_setup_and_says_what_it_could_not_use(app):
    at = open_paths(app, {"surface": "bowl", "condition": "100", "angle": "45",
                          "start": "99,0", "c1": "RMSprop,lr=0.03", "c2": "Nope"})  # fmt: skip
    assert not at.exception
    assert at.radio(key="compare.mode").value == MODE
    assert at.selectbox(key="surface.name").value == "bowl"
    assert at.select_slider(key="surface.condition").value == 100.0
    assert at.slider(key="surface.angle").value == 45.0
    assert (at.number_input(key="surface.x0").value, at.number_input(key="surface.y0").value) \
        == surfaces.SURFACES["bowl"].start  # fmt: skip
    assert at.number_input(key="surface.n").value == 1
    assert at.selectbox(key="s0.name").value == "RMSprop"
    text = " ".join(w.value for w in at.warning)
    assert "start=99,0" in text and "c2=Nope" in text


def test_a_surface_preset_opens_with_its_goal(app):
    at = open_paths(app, {"preset": "saddle-escape"})
    assert not at.exception
    assert at.radio(key="compare.mode").value == MODE
    assert at.selectbox(key="surface.name").value == "saddle"
    assert [at.selectbox(key=f"s{i}.name").value for i in range(4)] == \
        ["SGD", "SGD", "RMSprop", "Adam"]  # fmt: skip
    preset = surfaces.load_preset("saddle-escape")
    assert any(preset.goal in i.value for i in at.info)
    figure = finished(at)
    assert figure["layout"]["yaxis2"]["type"] == "linear"  # no floor: a linear loss axis


def test_a_bad_setting_is_a_sentence_and_no_paths(app):
    at = open_paths(app)
    at.number_input(key="surface.x0").set_value(50.0).run()
    assert not at.exception
    assert any("outside the plot of Rosenbrock's valley" in e.value for e in at.error)
    at.slider(key="s0.momentum").set_value(0.0).run()
    at.checkbox(key="s0.nesterov").check().run()
    assert any("optimiser 1: Nesterov momentum needs SGD" in e.value for e in at.error)
