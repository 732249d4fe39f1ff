"""The Playground's first-layer tiles under AppTest: after training on digits, the first layer's
weights are drawn as one image of one tile per unit; 2D data gets none."""

from __future__ import annotations

import json

from tests.pages.drawn import plotly_charts
from tests.pages.training import finished, train_to_end


def tiles_spec(at) -> dict | None:
    for c in plotly_charts(at):
        spec = json.loads(c.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").startswith("What fc1 learned"):
            return spec
    return None


def test_the_first_layer_tiles_appear_after_training_digits(app, poll):
    at = app.run()
    at.selectbox(key="data.name").set_value("digits").run()
    at.number_input(key="train.epochs").set_value(1).run()
    assert tiles_spec(at) is None  # no run yet
    at.button(key="train").click().run()
    poll(at, finished)
    assert not at.exception and not at.error
    fig = tiles_spec(at)
    assert fig is not None
    images = [t for t in fig["data"] if t["type"] == "image"]
    assert len(images) == 1 and images[0]["source"].startswith("data:image/png;base64,")
    units = next(t for t in fig["data"] if t.get("name") == "units")
    assert len(units["text"]) == 16 and units["text"][3].startswith("unit 3 of fc1")


def test_2d_data_has_no_tiles(app, poll):
    at = train_to_end(app, poll, "xor", 1)
    assert not at.exception and tiles_spec(at) is None
