"""Branch from here under AppTest: a finished Playground run offers its keyframes on a slider;
the branch trains with the page's lower learning rate from the chosen step, its loss chart
draws the parent's curve up to that step, and other layers or data are refused in a sentence.
The Runs page branches a run it shows with the settings typed beside the button."""

from __future__ import annotations

import ui
from tests.pages.drawn import plotly_charts
from tests.pages.training import finished, train_to_end


def texts(elements) -> list[str]:
    return [e.value for e in elements]



def train_xor(app, poll):
    at = train_to_end(app, poll, "xor", 3)
    poll(at, lambda a: len(ui.manager().get(a.session_state["run_id"]).frames()) >= 5)
    return at, at.session_state["run_id"]


def charts_json(at) -> str:
    return " ".join(c.proto.spec for c in plotly_charts(at))


def test_branch_from_a_past_step_with_a_lower_rate(app, poll):
    at, parent = train_xor(app, poll)
    slider = at.select_slider(key="branch.step")
    steps = ui.manager().get(parent).frames()
    step = steps[len(steps) // 2]
    slider.set_value(step).run()
    lr = at.session_state["optimizer.lr"]
    lower = max(v for v in at.select_slider(key="optimizer.lr").options if float(v) < lr)
    at.select_slider(key="optimizer.lr").set_value(float(lower)).run()
    at.button(key="branch").click().run()
    assert not at.exception
    child = at.session_state["run_id"]
    assert child != parent and at.query_params["run"] in (child, [child])
    assert any(f"Branched from step {step:,}" in t for t in texts(at.info))
    poll(at, finished)
    run = ui.manager().get(child)
    assert run.origin["parent"] == parent and run.origin["step"] == step
    assert run.spec.optimizer.lr == float(lower) and min(run.steps["step"]) == step + 1
    assert "parent (smoothed)" in charts_json(at) and f"branched at step {step:,}" in \
        charts_json(at)


def test_a_branch_with_other_data_is_refused_in_a_sentence(app, poll):
    at, parent = train_xor(app, poll)
    at.selectbox(key="data.name").set_value("circle").run()
    at.button(key="branch").click().run()
    assert not at.exception
    assert at.session_state["run_id"] == parent
    assert any("layers and data stay" in e for e in texts(at.error))


def test_the_runs_page_branches_the_run_it_shows(app, poll):
    at, parent = train_xor(app, poll)
    at.switch_page("views/5_Runs.py").run()
    at.query_params["run"] = parent
    at.run()
    assert not at.exception
    steps = ui.manager().get(parent).frames()
    at.select_slider(key="runs.branch.step").set_value(steps[len(steps) // 2])
    at.selectbox(key="runs.branch.optimizer").set_value("SGD")
    at.number_input(key="runs.branch.lr").set_value(0.05)
    at.button(key="runs.branch").click().run()
    assert not at.exception
    child = at.query_params["run"]
    child = child[0] if isinstance(child, list) else child
    assert child != parent
    run = ui.manager().get(child)
    assert run.spec.optimizer.name == "SGD" and run.origin["parent"] == parent
    assert any("A branch of run" in c for c in texts(at.caption))
    poll(at, lambda a: ui.manager().get(child).done)
    assert ui.manager().get(child).status == "finished"


def test_scrubbing_redraws_the_run_at_a_keyframe_and_play_starts_from_the_first(app, poll):
    at, parent = train_xor(app, poll)
    steps = ui.manager().get(parent).frames()
    assert at.select_slider(key="branch.step").value == steps[-1]  # the run as it ended
    assert "showing step" not in charts_json(at)
    boundary = plotly_charts(at)[0].proto.spec  # the view: the decision boundary
    at.select_slider(key="branch.step").set_value(steps[3]).run()
    assert not at.exception
    assert f"showing step {steps[3]:,}" in charts_json(at)
    assert plotly_charts(at)[0].proto.spec != boundary  # redrawn from those weights
    at.button(key="branch.play").click().run()  # plays on from the step shown
    assert not at.exception
    assert at.session_state["branch.playing"] and at.button(key="branch.play").label == "Hold"
    assert at.select_slider(key="branch.step").value == steps[3]
    at.button(key="branch.play").click().run()
    assert not at.session_state["branch.playing"]
    at.select_slider(key="branch.step").set_value(steps[-1]).run()
    at.button(key="branch.play").click().run()  # from the end, it starts over
    assert at.select_slider(key="branch.step").value == steps[0]
    assert "showing step 0" in charts_json(at)
