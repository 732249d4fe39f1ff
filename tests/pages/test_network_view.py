"""The Playground's network view under AppTest: drawn for the spiral after Train, a unit looked
at closely, + and − editing the layer stack, Reset starting over."""

from __future__ import annotations

import json

from nnplay import presets
from tests.pages.drawn import plotly_charts
from tests.pages.training import finished


def chart(at, key: str) -> dict | None:
    found = [c for c in plotly_charts(at) if c.proto.id and key in c.proto.id]
    return json.loads(found[0].proto.spec) if found else None


def load_spiral(at, steps: int = 60):
    at.selectbox(key="preset").set_value("spiral").run()
    at.button(key="load_preset").click().run()
    at.number_input(key="train.epochs").set_value(1).run()
    return at


def network_spec(at) -> dict | None:
    for c in plotly_charts(at):
        spec = json.loads(c.proto.spec)
        if spec["layout"].get("title", {}).get("text") == "the network":
            return spec
    return None


def test_the_network_view_renders_for_the_spiral_after_train(app, poll):
    at = load_spiral(app.run())
    assert network_spec(at) is None  # no run yet
    at.button(key="train").click().run()
    poll(at, finished)
    assert not at.exception and not at.error
    fig = network_spec(at)
    assert fig is not None
    images = [t for t in fig["data"] if t["type"] == "image"]
    assert len(images) == 1 and images[0]["source"].startswith("data:image/png;base64,")
    units = [t for t in fig["data"] if t.get("name") == "units" and t["type"] == "scatter"]
    assert len(units[0]["text"]) == 2 + 16 + 16 + 2  # inputs, two hidden layers, 2 classes
    assert any("fc1 · ReLU" in (a.get("text") or "") for a in fig["layout"]["annotations"])
    lines = [t for t in fig["data"] if t.get("mode") == "lines"]
    assert 1 <= len(lines) <= 8
    # the first hidden unit is looked at closely; choosing another redraws it
    closer = at.selectbox(key="network.unit")
    assert closer.value.startswith("fc1 · ReLU, unit 0")
    closer.set_value("output, unit 1").run()
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in plotly_charts(at)]
    assert "output: P(class 1)" in titles


def test_plus_and_minus_edit_the_layer_stack(app, poll):
    at = load_spiral(app.run())
    at.button(key="train").click().run()
    poll(at, finished)
    before = presets.load("spiral").spec.model.layers
    assert len(before) == 4
    at.button(key="net.units.0.plus").click().run()
    at.button(key="net.layer.add").click().run()
    assert not at.exception
    layers = at.session_state["spec"].model.layers
    assert [getattr(x, "units", None) for x in layers if x.type == "linear"] == [17, 16, 16]
    code = "\n".join(c.value for c in at.code)
    assert "Linear(in_features=2, out_features=17" in code  # the Model tab followed
    at.button(key="net.layer.remove").click().run()
    at.button(key="net.layer.remove").click().run()
    layers = at.session_state["spec"].model.layers
    assert [x.type for x in layers] == ["linear", "activation"]


def test_reset_starts_over_paused_at_step_0_with_the_network_drawn(app, poll):
    at = load_spiral(app.run())
    at.button(key="train").click().run()
    poll(at, finished)
    first = at.query_params["run"]
    at.button(key="net.reset").click().run()
    assert not at.exception
    poll(at, lambda a: network_spec(a) is not None and a.button(key="resume").disabled is False)
    assert at.query_params["run"] != first


def loss_annotations(at) -> list[str]:
    for c in plotly_charts(at):
        spec = json.loads(c.proto.spec)
        if spec["layout"].get("title", {}).get("text") == "loss":
            return [a.get("text", "") for a in spec["layout"].get("annotations", [])]
    return []


def test_a_learning_rate_change_mid_run_shows_on_the_loss_chart(app, poll):
    at = load_spiral(app.run())
    at.number_input(key="train.epochs").set_value(50).run()
    at.button(key="step").click().run()  # starts paused, one step taken
    poll(at, lambda a: a.button(key="resume").disabled is False)
    at.select_slider(key="optimizer.lr").set_value(0.001).run()
    assert not at.exception
    at.selectbox(key="loss.name").set_value("NLLLoss").run()  # not a live setting
    assert any("apply to the next run" in c.value for c in at.caption)
    at.button(key="step").click().run()
    poll(at, lambda a: "lr → 0.001" in loss_annotations(a))
    run_id = at.query_params["run"]
    code = "\n".join(c.value for c in at.code)
    assert "CHANGES = {2: [('lr', 0.001)]}" in code  # the exported script replays it
    at.button(key="stop").click().run()
    poll(at, lambda a: any("Stopped" in i.value for i in a.info))
    assert at.query_params["run"] == run_id
