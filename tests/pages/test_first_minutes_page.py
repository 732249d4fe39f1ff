"""The Playground shows the state of the click just made: the page a click reruns already has
the buttons, the status and the losses that follow from it (no second interaction needed)."""

from __future__ import annotations

from nnplay import charts


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def buttons(at) -> dict[str, bool]:
    """Which run controls can be pressed."""
    return {k: not at.button(key=k).disabled for k in ("train", "pause", "resume", "step", "stop")}


def test_pause_step_resume_are_right_on_the_rerun_of_the_click(app):
    at = app.run()
    at.number_input(key="train.epochs").set_value(400).run()
    at.button(key="train").click().run()
    assert buttons(at) == {"train": False, "pause": True, "resume": False, "step": False,
                           "stop": True}
    at.button(key="pause").click().run()  # one rerun, no polling
    assert buttons(at) == {"train": False, "pause": False, "resume": True, "step": True,
                           "stop": True}
    assert any(t.startswith("Paused.") for t in texts(at.info))
    at.button(key="step").click().run()
    assert buttons(at)["resume"] and any(t.startswith("Paused.") for t in texts(at.info))
    at.button(key="resume").click().run()
    assert buttons(at) == {"train": False, "pause": True, "resume": False, "step": False,
                           "stop": True}
    assert not any(t.startswith("Paused.") for t in texts(at.info))
    at.button(key="stop").click().run()
    assert not at.exception


def test_a_bce_loss_then_three_classes_switches_the_loss_without_an_error(app):
    at = app.run()
    at.selectbox(key="loss.name").set_value("BCEWithLogitsLoss").run()
    at.selectbox(key="data.classes").set_value(3).run()
    assert not at.error and at.button(key="train").disabled is False
    assert at.selectbox(key="loss.name").value == "CrossEntropyLoss"
    assert not {"BCELoss", "BCEWithLogitsLoss"} & set(at.selectbox(key="loss.name").options)
    assert any("(classification, 3 classes); switched to CrossEntropyLoss" in t
               for t in texts(at.info))
    at.selectbox(key="data.name").set_value("moons").run()  # 2 classes only: back to default
    assert not at.error and at.button(key="train").disabled is False


def test_sine_says_regression_in_its_notice(app):
    at = app.run()
    at.selectbox(key="data.name").set_value("sine").run()
    assert any("(regression); switched to MSELoss" in t for t in texts(at.info))


def test_your_csv_before_an_upload_is_a_hint_not_an_error(app):
    at = app.run()
    at.selectbox(key="data.name").set_value("csv").run()
    assert not at.error
    assert any("Upload a CSV file" in t for t in texts(at.info))


def test_a_preset_link_names_its_preset_in_the_box(app):
    app.query_params["preset"] = "circle"
    at = app.run()
    assert at.selectbox(key="preset").value == "circle"


def test_no_time_left_once_a_run_is_not_training():
    progress = {"step": 10, "total_steps": 100, "eta_s": 12.0, "elapsed_s": 3.0}
    assert charts.progress_text({"status": "running", "progress": progress}).endswith("12 s left")
    for status in ("paused", "finished", "stopped", "diverged"):
        text = charts.progress_text({"status": status, "progress": progress})
        assert "left" not in text and text.endswith("3 s elapsed"), text
