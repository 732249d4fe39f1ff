"""Engineered inputs on an uploaded CSV under AppTest: a table with two input columns shows the
Inputs toggles (and says which column is x₁ and which x₂), they edit the spec, the model and the
link, and a run trains with them; a wider table shows none."""

from __future__ import annotations

from nnplay import tabular
from tests.pages.training import finished
from tests.test_csv_inputs import ring


def csv_link(file: str, **more: str) -> dict[str, str]:
    return {"data.name": "csv", "data.file": file, "data.target": "inside",
            "data.task": "classification", "data.classes": "2", **more}


def test_two_columns_show_the_toggles_and_a_run_trains_with_them(app, poll):
    up = tabular.save_upload(ring())
    app.query_params.update(csv_link(up.file))
    at = app.run()
    assert not at.exception and not at.error and not at.warning
    pills = at.pills(key="data.inputs")
    assert pills.value == ["x1", "x2"]
    assert any("x₁ is a and x₂ is b, standardised" in c.value for c in at.caption)
    pills.set_value(["x1^2", "x2^2"]).run()
    assert not at.exception and not at.error
    assert at.session_state["spec"].data.inputs == ("x1^2", "x2^2")
    assert at.query_params["data.inputs"] == "x1^2,x2^2"
    code = "\n".join(c.value for c in at.code)
    assert "(features): Features(x1^2, x2^2)" in code
    at.number_input(key="train.epochs").set_value(3).run()
    at.button(key="train").click().run()
    at = poll(at, finished)
    assert not at.exception and not at.error


def test_a_link_with_inputs_sets_the_toggles(app):
    up = tabular.save_upload(ring())
    app.query_params.update(csv_link(up.file, **{"data.inputs": "x1,x1*x2"}))
    at = app.run()
    assert not at.exception and not at.error and not at.warning
    assert at.pills(key="data.inputs").value == ["x1", "x1*x2"]
    assert at.session_state["spec"].data.inputs == ("x1", "x1*x2")


def test_a_wider_table_shows_no_toggles(app):
    up = tabular.save_upload(ring(extra=True))
    app.query_params.update(csv_link(up.file))
    at = app.run()
    assert not at.exception and not at.error
    assert not [p for p in at.get("button_group") if p.key == "data.inputs"]
    assert at.session_state["spec"].data.inputs == ("x1", "x2")
