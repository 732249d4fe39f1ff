"""The Activations page under AppTest: every activation draws, parameters reach nn.*, softmax
input errors are sentences."""

from __future__ import annotations

from nnplay.spec import ACTIVATIONS
from tests.pages.drawn import plotly_charts

PAGE = "views/4_Activations.py"


def open_page(at):
    at.run()
    return at.switch_page(PAGE).run()


def test_every_activation_draws_with_its_note(app):
    at = open_page(app)
    assert not at.exception
    assert at.title[0].value == "Activations"
    for name in ACTIVATIONS:
        at.selectbox(key="act.name").set_value(name).run()
        assert not at.exception
        assert at.code[0].value.startswith(f"nn.{name}(")
        assert len(plotly_charts(at)) == 2  # f/f' and softmax


def test_parameters_and_saturation_caption(app):
    at = open_page(app)
    at.selectbox(key="act.name").set_value("LeakyReLU").run()
    at.slider(key="act.LeakyReLU.negative_slope").set_value(0.2).run()
    assert at.code[0].value == "nn.LeakyReLU(negative_slope=0.2)"
    assert "< 0.05: **0%**" in at.caption[-2].value  # slope 0.2: nowhere flat
    at.selectbox(key="act.name").set_value("ReLU").run()
    assert "< 0.05: **50%**" in at.caption[-2].value  # the whole negative half is dead


def test_softmax_vector_and_temperature(app):
    at = open_page(app)
    at.text_input(key="softmax.z").input("1, 1, 1, 1").run()
    assert "25.0%" in at.caption[-1].value
    at.text_input(key="softmax.z").input("3, 0").run()
    at.select_slider(key="softmax.t").set_value(0.1).run()
    assert "100.0%" in at.caption[-1].value
    at.text_input(key="softmax.z").input("1, banana").run()
    assert not at.exception
    assert at.error[0].value == "'banana' is not a number."
