"""Scrubbing on the Sequences page under AppTest: a finished run offers its keyframes on a
slider; at an earlier one the hidden-state, gate and influence charts are redrawn from that
keyframe's model and the loss and accuracy charts show a cursor at its step."""

from __future__ import annotations

import ui
from tests.pages.drawn import plotly_charts

PAGE = "views/2_Sequences.py"


def finished(at) -> bool:
    return any("Finished" in e.value for e in at.success)


def chart(at, key: str) -> str:
    """The figure JSON of the chart drawn under key."""
    (spec,) = [c.proto.spec for c in plotly_charts(at) if c.proto.id.endswith(key)]
    return spec


def test_scrubbing_a_finished_sequence_run_redraws_its_insides_at_a_keyframe(app, poll):
    app.run()
    at = app.switch_page(PAGE).run()
    at.slider(key="data.n_samples").set_value(200).run()
    at.number_input(key="train.epochs").set_value(3).run()
    at.button(key="train").click().run()
    poll(at, finished)
    run = ui.manager().get(at.session_state["run_id"])
    poll(at, lambda a: len(run.frames()) >= 5 and run.frames()[-1] == run.progress["step"])
    steps = run.frames()
    slider = at.select_slider(key="seq.branch.step")
    assert slider.value == steps[-1] and list(map(int, slider.options)) == steps
    hidden, gates, loss = chart(at, "seq.hidden"), chart(at, "seq.gates"), chart(at, "seq.loss")
    assert "showing step" not in loss and "at step" not in hidden
    step = steps[len(steps) // 3]
    slider.set_value(step).run()
    assert not at.exception and not at.error
    for key in ("seq.loss", "seq.accuracy"):  # a cursor at that step
        assert f"showing step {step:,}" in chart(at, key), key
    assert f"at step {step:,}" in chart(at, "seq.hidden") and chart(at, "seq.hidden") != hidden
    assert f"at step {step:,}" in chart(at, "seq.gates") and chart(at, "seq.gates") != gates
    first = chart(at, "seq.hidden")
    at.selectbox(key="seq.example").set_value(2).run()  # another example, at the same step
    assert f"at step {step:,}" in chart(at, "seq.hidden") and chart(at, "seq.hidden") != first
    at.select_slider(key="seq.branch.step").set_value(steps[-1]).run()  # back to the end
    assert "showing step" not in chart(at, "seq.loss")
    assert "at step" not in chart(at, "seq.hidden")
    at.select_slider(key="seq.branch.step").set_value(step).run()
    at.button(key="seq.branch").click().run()  # Branch from here, with the page's settings
    assert not at.exception
    child = ui.manager().get(at.session_state["run_id"])
    assert child.id != run.id and child.origin["parent"] == run.id
    assert child.origin["step"] == step and child.spec == run.spec
    poll(at, lambda a: child.done)
    assert child.status == "finished" and min(child.steps["step"]) == step + 1
