"""The Sequences page under AppTest: loads, its widgets build a recurrent spec, print(model) and
the shapes of one batch, a short run to the end with its charts, Try it, and its own experiment
apart from the Playground's."""

from __future__ import annotations

from tests.pages.drawn import plotly_charts

PAGE = "views/2_Sequences.py"


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def finished(at) -> bool:
    return any(s in t for t in texts(at.success) + texts(at.info) for s in ("Finished", "Stopped"))


def shapes(at) -> dict[str, str]:
    """The shape table under print(model): stage -> shape."""
    table = at.dataframe[0].value
    return dict(zip(table["stage"], table["shape"]))


def open_page(app):
    app.run()  # st.navigation registers the pages on the first run
    return app.switch_page(PAGE).run()


def test_loads_with_the_sentiment_preset(app):
    at = open_page(app)
    assert not at.exception and not at.error
    assert at.title[0].value == "Sequences"
    assert at.selectbox(key="data.name").value == "sentiment"
    assert set(at.selectbox(key="data.name").options) == {
        "Sine forecast (sequence)", "Sentiment (short sentences)", "Parity of bits (memory)",
        "Adding problem (memory)"}
    code = "\n".join(texts(at.code))
    assert "(rnn): LSTM(16, 32, batch_first=True, bidirectional=True)" in code
    assert "Trainable parameters: 13,826" in code
    # the PyTorch code panel: the standalone script, with the model as the reference writes it
    assert "self.rnn = nn.LSTM(16, 32, bidirectional=True, batch_first=True)" in code
    assert "pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)" in code
    rows = shapes(at)
    assert rows["h_n"] == "(2, 32, 32)" and rows["head input"] == "(32, 64)"
    assert "packed" in rows


def test_widgets_change_the_model_and_its_shapes(app):
    at = open_page(app)
    at.selectbox(key="model.recurrent.cell").set_value("GRU").run()
    at.number_input(key="model.recurrent.num_layers").set_value(2).run()
    at.checkbox(key="model.recurrent.batch_first").uncheck().run()
    assert not at.exception and not at.error
    code = "\n".join(texts(at.code))
    assert "(rnn): GRU(16, 32, num_layers=2, bidirectional=True)" in code
    rows = shapes(at)
    assert rows["rnn input"] == "(12, 32, 16)" and rows["h_n"] == "(4, 32, 32)"
    assert "c_n" not in rows


def test_task_switch_resets_length_and_the_loss_follows(app):
    at = open_page(app)
    at.selectbox(key="data.name").set_value("sine-forecast").run()
    assert not at.exception
    assert at.slider(key="data.seq_len").value == 30
    assert at.selectbox(key="loss.name").value == "MSELoss"
    at.radio(key="data.per_step").set_value(True).run()
    errors = texts(at.error)
    assert any("bidirectional" in e and "last valid setup is kept" in e for e in errors), errors
    at.checkbox(key="model.recurrent.bidirectional").uncheck().run()
    assert not at.error
    rows = shapes(at)
    assert rows["output"] == "(32, 30, 1)"


def test_train_then_try_a_sentence(app, poll):
    at = open_page(app)
    at.number_input(key="train.epochs").set_value(2).run()
    at.slider(key="data.n_samples").set_value(400).run()
    at.button(key="train").click().run()
    poll(at, finished)
    assert not at.exception and not at.error
    assert len(plotly_charts(at)) >= 7
    at.text_input(key="tryit.text").set_value("the plot was not good zebra").run()
    at.button(key="tryit.go").click().run()
    assert not at.exception
    assert any("zebra" in w for w in texts(at.warning))
    assert any(t.startswith("Prediction:") and "the plot was not good" in t
               for t in texts(at.success))
    at.text_input(key="tryit.text").set_value("qwerty asdf").run()
    at.button(key="tryit.go").click().run()
    assert any("None of these words" in e for e in texts(at.error))


def test_playground_keeps_its_own_experiment(app):
    at = app.run()  # the Playground first
    at.selectbox(key="data.name").set_value("xor").run()
    at.switch_page(PAGE).run()
    assert at.selectbox(key="data.name").value == "sentiment"
    at.switch_page("views/1_Playground.py").run()
    assert not at.exception
    assert at.selectbox(key="data.name").value == "xor"
    assert "sentiment" not in at.selectbox(key="data.name").options


def charts_with(at, text: str) -> list[str]:
    return [c.proto.spec for c in plotly_charts(at) if text in c.proto.spec]


def group_finished(at) -> bool:
    return any(c.value == "Finished." for c in at.caption)


def test_compare_bag_of_words_and_lstms_on_the_negation_subset(app, poll):
    at = open_page(app)
    at.slider(key="data.n_samples").set_value(200).run()
    at.number_input(key="train.epochs").set_value(1).run()
    at.button(key="cmp.start").click().run()
    poll(at, group_finished)
    assert not at.exception and not at.error
    (spec,) = charts_with(at, "negation subset")
    assert all(name in spec for name in ("Bag of words", "LSTM", "bidirectional LSTM"))


def test_compare_cells_as_parity_strings_grow(app, poll):
    at = open_page(app)
    at.selectbox(key="data.name").set_value("parity").run()
    at.slider(key="data.n_samples").set_value(100).run()
    at.number_input(key="train.epochs").set_value(1).run()
    at.multiselect(key="cmp.lengths").set_value([5, 10]).run()
    at.button(key="cmp.start").click().run()
    poll(at, group_finished)
    assert not at.exception and not at.error
    (spec,) = charts_with(at, "as sequences grow")
    assert all(f'"name":"{cell}"' in spec.replace(" ", "") for cell in ("RNN", "LSTM", "GRU"))


def test_a_comparison_a_limit_refuses_shows_why_and_leaves_no_run_behind(app, monkeypatch):
    import ui
    from nnplay.limits import Limits

    at = open_page(app)
    manager = ui.manager()
    before = {r.id for r in manager.runs()}
    monkeypatch.setattr(manager, "limits", Limits(max_session_runs=2))  # the third is refused
    at.button(key="cmp.start").click().run()
    assert not at.exception
    assert any("2 runs queued or training" in e.value for e in at.error)
    assert {r.id for r in manager.runs()} == before  # the two started were deleted
    assert not any(c.value == "Finished." for c in at.caption)  # no group to chart
