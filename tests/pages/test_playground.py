"""The Playground page under AppTest: loads, widgets set by key, Train runs to the end."""

from __future__ import annotations

from tests.pages.drawn import plotly_charts
from tests.pages.training import train_to_end


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def finished(at) -> bool:
    return any(s in t for t in texts(at.success) + texts(at.info) for s in ("Finished", "Stopped"))


def test_loads_without_exception(app):
    at = app.run()
    assert not at.exception
    assert at.title[0].value == "Playground"
    assert at.selectbox(key="data.name").value == "spiral"
    assert at.button(key="train").disabled is False
    code = "\n".join(c.value for c in at.code)
    assert "Linear(in_features=2, out_features=16" in code and "Trainable parameters" in code


def test_the_data_is_drawn_before_train(app):
    at = app.run()
    shown = plotly_charts(at)
    assert len(shown) == 1 and '"the data"' in shown[0].proto.spec  # spiral's points
    at.selectbox(key="data.name").set_value("digits").run()
    assert not at.exception and not plotly_charts(at)  # images: nothing to preview


def test_train_xor_to_the_end_and_find_the_charts(app, poll):
    at = train_to_end(app, poll, "xor", 3)
    assert not at.exception
    assert not at.error
    keys = {c.proto.id for c in plotly_charts(at)}
    assert len(plotly_charts(at)) >= 5, keys
    assert at.button(key="train").disabled is False  # ready for the next run


def test_bad_combination_is_a_sentence_and_keeps_the_last_spec(app):
    at = app.run()
    at.selectbox(key="optimizer.name").set_value("SGD").run()
    at.checkbox(key="optimizer.nesterov").check().run()  # momentum is 0: not allowed
    assert not at.exception
    errors = texts(at.error)
    assert any("Nesterov" in e and "last valid setup is kept" in e for e in errors), errors
    assert at.button(key="train").disabled is True


def test_loss_follows_the_task(app):
    at = app.run()
    at.selectbox(key="data.name").set_value("sine").run()
    assert not at.exception
    assert at.selectbox(key="loss.name").value == "MSELoss"
    assert "CrossEntropyLoss" not in at.selectbox(key="loss.name").options
    assert any("switched to MSELoss" in t for t in texts(at.info))


def test_layer_editor_adds_moves_and_removes(app):
    at = app.run()
    before = [r["type"] for r in at.session_state["layers"]]
    n = len(before)
    at.button(key="add.dropout").click().run()
    rows = at.session_state["layers"]
    assert len(rows) == n + 1 and rows[-1]["type"] == "dropout"
    at.button(key=f"up.{rows[-1]['id']}").click().run()
    assert at.session_state["layers"][-2]["type"] == "dropout"
    at.button(key=f"del.{at.session_state['layers'][-2]['id']}").click().run()
    assert [r["type"] for r in at.session_state["layers"]] == before
    assert not at.exception


def test_feed_forward_template_fills_the_reference_stack(app):
    at = app.run()
    at.number_input(key="ff.num_hidden").set_value(3).run()
    at.number_input(key="ff.hidden_dim").set_value(32).run()
    at.button(key="ff.apply").click().run()
    kinds = [r["type"] for r in at.session_state["layers"]]
    assert kinds == ["linear", "dropout", "activation"] * 3
    assert not at.exception


def test_preset_loads_its_values(app):
    at = app.run()
    at.selectbox(key="preset").set_value("digits-mlp").run()
    at.button(key="load_preset").click().run()
    assert not at.exception
    assert at.selectbox(key="data.name").value == "digits"
    assert at.select_slider(key="optimizer.lr").value == 0.001
    assert any("Handwritten digits" in t for t in texts(at.info))


def test_pause_step_resume_stop(app, poll):
    at = app.run()
    at.number_input(key="train.epochs").set_value(400).run()
    at.button(key="train").click().run()
    at.button(key="pause").click().run()
    poll(at, lambda a: a.button(key="resume").disabled is False)
    run = at.session_state["run_id"]
    at.button(key="step").click().run()
    at.button(key="resume").click().run()
    at.button(key="stop").click().run()
    poll(at, finished)
    assert run == at.session_state["run_id"]
    assert any("Stopped" in t for t in texts(at.info))


def test_regenerate_draws_new_samples(app):
    at = app.run()
    seed = at.number_input(key="seed").value
    at.button(key="regenerate").click().run()
    assert at.number_input(key="seed").value == seed + 1
    assert not at.exception


def test_the_widgets_settings_are_the_specs_one_flatten_without_the_stack():
    import ui
    from nnplay import presets
    from nnplay.spec import flatten, parse, unflatten

    for name in presets.names():
        spec = presets.load(name).spec
        widgets = ui.flat(spec)
        assert widgets == {k: v for k, v in flatten(spec.model_dump()).items()
                           if k not in ("model.layers", "model.recurrent")}
        tree = unflatten(widgets)
        tree.setdefault("model", {})["layers"] = [x.model_dump() for x in spec.model.layers]
        assert parse(tree) == spec, name  # what the widgets hold rebuilds the spec
