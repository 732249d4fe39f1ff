"""The "Draw your own" dataset under AppTest: it opens with points to train on, a click (the
canvas's selection) adds a point of the chosen class or erases the nearest, Clear and Start
from replace the drawing, the limit is a sentence, the training share splits the drawing (a
handful of points all train, said in a sentence), and a run trains on the drawing."""

from __future__ import annotations

from nnplay import drawn, urls


def finished(at) -> bool:
    return any("Finished" in e.value for e in at.success)


def click(at, x: float, y: float):
    """What the canvas reports for a click on the grid near (x, y)."""
    clicks = at.session_state["draw.clicks"] if "draw.clicks" in at.session_state else 0
    key = f"draw.canvas.{clicks}"
    at.session_state[key] = {"selection": {"points": [{"curve_number": 0, "x": x, "y": y}],
                                           "point_indices": [0], "box": [], "lasso": []}}
    return at.run()


def points(at) -> str:
    return at.session_state["data.points"]


def test_drawing_with_clicks_clear_and_start_from(app):
    at = app.run()
    at.selectbox(key="data.name").set_value("draw").run()
    assert not at.exception and not at.error
    assert sum(drawn.counts(points(at), 2)) == 40  # a first drawing that trains at once
    assert at.session_state["spec"].data.points == points(at)
    assert any("20 train and 20 test" in c.value for c in at.caption)  # the share's default
    at.slider(key="data.train_fraction").set_value(0.75).run()
    assert any("30 train and 10 test" in c.value for c in at.caption)
    assert at.session_state["spec"].data.train_fraction == 0.75
    at = click(at, 0.5, 0.5)
    assert drawn.decode(points(at))[0][-1] == (drawn.cell(0.5), drawn.cell(0.5))
    at = click(at, 0.5, 0.5)  # the same place again (a new canvas key each click)
    assert drawn.counts(points(at), 2) == [22, 20]
    at.radio(key="draw.mode").set_value(1).run()
    at = click(at, -1.0, 1.0)
    assert drawn.counts(points(at), 2) == [22, 21]
    at.radio(key="draw.mode").set_value("erase").run()
    at = click(at, 0.51, 0.49)
    assert drawn.counts(points(at), 2) == [21, 21]
    assert any("42 points" in c.value for c in at.caption)
    at.button(key="draw.clear").click().run()
    assert points(at) == ""
    assert any("draw at least 3 points of each class" in e.value for e in at.error)
    at.selectbox(key="draw.start").set_value("spiral").run()
    at.button(key="draw.use").click().run()
    assert not at.error and sum(drawn.counts(points(at), 2)) == 200
    assert at.session_state["spec"].data.points == points(at)


def test_a_full_drawing_refuses_a_point_with_a_sentence(app):
    at = app.run()
    at.selectbox(key="data.name").set_value("draw").run()
    at.session_state["data.points"] = drawn.encode([[(1, 1)] * 250, [(60, 60)] * 250])
    at = click(at.run(), 0.0, 0.0)
    assert any("at most 500 points" in w.value for w in at.warning)
    assert sum(drawn.counts(points(at), 2)) == 500


def test_a_run_on_a_drawing_and_its_link(app, poll):
    start = drawn.encode([[(5, 5), (6, 5), (5, 6), (7, 7)], [(58, 58), (57, 58), (58, 57)]])
    at = app.run()
    at.selectbox(key="data.name").set_value("draw").run()
    at.session_state["data.points"] = start
    at.number_input(key="train.epochs").set_value(5).run()
    assert at.session_state["spec"].data.points == start
    assert urls.to_params(at.session_state["spec"])["data.points"] == start
    assert any("fewer than 10 points every point trains" in c.value for c in at.caption)
    at.button(key="train").click().run()
    poll(at, finished)
    assert not at.exception and not at.error


def test_a_link_to_draw_without_points_opens_the_spiral_with_one_sentence(app):
    app.query_params["data.name"] = "draw"
    at = app.run()
    assert not at.exception and not at.error
    assert at.session_state["spec"].data.name == "spiral"
    assert at.selectbox(key="data.name").value == "spiral"
    assert len(at.warning) == 1
    assert "the drawing in this link has no points" in at.warning[0].value
    assert "the page shows Spiral instead" in at.warning[0].value


def test_a_link_with_a_drawing_opens_it_with_its_split(app):
    start = drawn.encode([[(5 + k, 5) for k in range(6)], [(58 - k, 58) for k in range(6)]])
    app.query_params.update({"data.name": "draw", "data.points": start,
                             "data.train_fraction": "0.5"})
    at = app.run()
    assert not at.exception and not at.error and not at.warning
    assert points(at) == start and at.session_state["spec"].data.points == start
    assert any("6 train and 6 test" in c.value for c in at.caption)
