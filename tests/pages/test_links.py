"""Shareable links and exported code on the Playground, under AppTest."""

from __future__ import annotations

import pytest

from nnplay import codegen, presets


def layers(at) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "id"} for row in at.session_state["layers"]]


def param(at, key: str) -> str:
    """A query parameter as the page left it (the last value when repeated)."""
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def script(at) -> str:
    return next(c.value for c in at.code if c.value.startswith('"""'))


def test_preset_link_opens_the_preset(app):
    app.query_params["preset"] = "xor"
    at = app.run()
    assert not at.exception and not at.warning
    spec = presets.load("xor").spec
    assert at.selectbox(key="data.name").value == "xor"
    assert any(presets.load("xor").title in i.value for i in at.info)
    assert at.slider(key="data.n_samples").value == spec.data.n_samples
    assert at.number_input(key="train.epochs").value == spec.train.epochs
    assert layers(at) == [layer.model_dump() for layer in spec.model.layers]
    assert param(at, "data.name") == "xor"  # the address bar now spells it out
    assert script(at).strip() == codegen.script(spec).strip()


def test_full_link_restores_every_control(app):
    app.query_params.update({
        "data.name": "moons", "data.noise": "0.2", "layers": "linear:4,relu,dropout:0.1",
        "optimizer.name": "SGD", "optimizer.lr": "0.1", "optimizer.momentum": "0.9",
        "train.batch_size": "8", "seed": "7", "hide": "seed",
    })  # fmt: skip
    at = app.run()
    assert not at.exception
    assert not [w for w in at.warning if "link could not be used" in w.value]
    assert at.selectbox(key="data.name").value == "moons"
    assert at.slider(key="data.noise").value == 0.2
    assert at.selectbox(key="optimizer.name").value == "SGD"
    assert at.select_slider(key="optimizer.lr").value == 0.1
    assert at.slider(key="optimizer.momentum").value == 0.9
    assert at.number_input(key="train.batch_size").value == 8
    assert at.session_state["spec"].seed == 7
    assert layers(at) == [{"type": "linear", "units": 4}, {"type": "activation", "name": "ReLU"},
                          {"type": "dropout", "p": 0.1}]  # fmt: skip
    assert param(at, "hide") == "seed"  # kept for teacher mode


def test_bad_link_says_what_it_ignored_and_runs_the_defaults(app):
    app.query_params.update({"optimizer.lr": "fast", "layers": "linear:0", "bogus": "1",
                             "data.name": "../../etc/passwd"})  # fmt: skip
    at = app.run()
    assert not at.exception and not at.error
    assert len(at.warning) == 1
    text = at.warning[0].value
    for part in ("optimizer.lr=fast", "layers=linear:0", "bogus", "data.name=../../etc/passwd"):
        assert part in text
    assert at.session_state["spec"] == presets.ExperimentSpec()
    assert at.button(key="train").disabled is False
    at.run()
    assert not at.warning  # said once


def test_changing_a_control_updates_the_link_and_the_code(app):
    at = app.run()
    assert dict(at.query_params) == {}
    at.select_slider(key="optimizer.lr").set_value(0.1).run()
    assert param(at, "optimizer.lr") == "0.1"
    assert "lr=0.1)" in script(at)
    at.selectbox(key="data.name").set_value("sine").run()
    assert param(at, "data.name") == "sine"
    assert param(at, "loss.name") == "MSELoss"
    assert at.select_slider(key="optimizer.lr").value == 0.1  # the URL did not reload the page
    share = next(c.value for c in at.code if "://" in c.value)
    assert "data.name=sine" in share and "optimizer.lr=0.1" in share
    assert at.get("download_button")


@pytest.mark.parametrize(("preset", "title"), [
    ("vanishing-rnn", "Sequences"), ("sgd-vs-adam-digits", "Compare optimisers"),
])
def test_a_preset_link_to_the_wrong_page_opens_on_the_presets_own_page(app, preset, title):
    """?preset= of a Sequences or Compare preset on the Playground's address used to load a
    recurrent model into the Playground, which could not run it."""
    app.query_params["preset"] = preset
    at = app.run()
    assert not at.exception and not at.error
    assert at.title[0].value == title
    opened = presets.load(preset).title
    assert any(opened in i.value for i in at.info) or \
        at.selectbox(key="compare.base").value == preset
