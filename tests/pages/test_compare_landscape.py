"""The Compare page's Landscape view under AppTest: after a race on 2D points, a button draws the
contenders' paths over a slice of the loss landscape, with a caption that says what it is."""

from __future__ import annotations

import json

from nnplay.spec import ExperimentSpec
from tests.pages.drawn import plotly_charts
from tests.pages.test_compare_page import PAGE, SMALL, open_compare, race_done


def test_a_finished_race_draws_its_landscape(app, poll):
    at = open_compare(app)
    at.button(key="race.train").click().run()
    at = poll(at, race_done)
    assert not at.exception
    assert at.button(key="landscape.start").disabled is False
    at.button(key="landscape.start").click().run()
    assert not at.exception
    job = at.session_state["landscape.job"]
    assert job.join(240)
    at.run()
    figures = [json.loads(c.proto.spec) for c in plotly_charts(at)]
    landscape = [f for f in figures if "landscape" in f["layout"]["title"]["text"]]
    assert landscape, [f["layout"]["title"]["text"] for f in figures]
    kinds = [t["type"] for t in landscape[0]["data"]]
    assert kinds[0] == "contour" and kinds.count("scatter") == 2 * 3 + 1  # paths, ends, start
    words = " ".join(c.value for c in at.caption)
    assert "2D slice" in words and "explains" in words
    assert at.button(key="landscape.start").disabled is True  # drawn: nothing more to start


def test_a_race_on_other_data_says_it_has_no_landscape(app, poll):
    sine = SMALL.with_changes({"data.name": "sine", "loss.name": "MSELoss"})
    at = open_compare(app, ExperimentSpec.model_validate(sine.model_dump()))
    at.button(key="race.train").click().run()
    at = poll(at, race_done)
    assert not at.exception and PAGE
    words = " ".join(c.value for c in at.caption)
    assert "landscape view is for networks on 2D points" in words
    assert not [b for b in at.button if b.key == "landscape.start"]
