"""The Compare page under AppTest: a race and a sweep run to the end, bad contenders are
sentences, presets and teacher links are honoured."""

from __future__ import annotations

from nnplay.spec import ExperimentSpec

PAGE = "views/3_Compare.py"
# Small enough that three contenders finish in a few seconds on one CPU thread.
SMALL = ExperimentSpec().with_changes({"data.name": "xor", "data.n_samples": 200,
                                       "loss.name": "CrossEntropyLoss", "train.epochs": 4})


def open_compare(at, spec: ExperimentSpec | None = SMALL, params: dict | None = None):
    at.run()
    if spec is not None:
        at.session_state["spec"] = spec  # the Playground's current setup is the base
    at.query_params.update(params or {})  # as if the Compare link carried them
    return at.switch_page(PAGE).run()


def race_done(at) -> bool:
    frames = at.dataframe
    return bool(frames) and at.button(key="race.train").disabled is False


def test_loads_with_three_default_contenders(app):
    at = open_compare(app)
    assert not at.exception
    assert at.title[0].value == "Compare optimisers"
    assert at.number_input(key="compare.n").value == 3
    assert [at.selectbox(key=f"c{i}.name").value for i in range(3)] == ["SGD", "SGD", "Adam"]
    assert at.button(key="race.train").disabled is False
    assert at.button(key="race.stop").disabled is True


def test_three_optimiser_race_runs_to_a_ranking(app, poll):
    at = open_compare(app)
    at.button(key="race.train").click().run()
    assert not at.exception
    at = poll(at, race_done)
    table = at.dataframe[0].value
    assert len(table) == 3 and list(table["rank"]) == [1, 2, 3]
    assert set(table["status"]) == {"finished"}
    assert set(table["contender"]) == {"SGD lr=0.1", "SGD lr=0.1 momentum=0.9", "Adam lr=0.01"}
    assert table["final test loss"].notna().all() and (table["wall time (s)"] > 0).all()
    assert at.get("download_button")  # the CSV download


def test_a_bad_contender_is_a_sentence_and_blocks_the_race(app):
    at = open_compare(app)
    at.checkbox(key="c0.nesterov").check().run()  # SGD with momentum 0
    assert not at.exception
    assert any("Nesterov momentum needs SGD with momentum above 0" in e.value for e in at.error)
    assert any("contender 1" in e.value for e in at.error)
    assert at.button(key="race.train").disabled is True


def test_a_race_over_the_servers_limits_is_a_sentence(app):
    at = open_compare(app, SMALL.with_changes({"train.epochs": 900}))  # the default limit: 500
    at.button(key="race.train").click().run()
    assert not at.exception
    assert any("900 epochs is more than this server allows" in e.value for e in at.error)
    assert at.button(key="race.train").disabled is False  # nothing started; try again
    assert not at.dataframe


def test_learning_rate_sweep(app, poll):
    at = open_compare(app)
    at.radio(key="compare.mode").set_value("Learning-rate sweep").run()
    at.slider(key="sweep.n").set_value(3).run()
    at.select_slider(key="sweep.range").set_value((0.01, 1.0)).run()
    at.button(key="race.train").click().run()
    at = poll(at, race_done)
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["contender"]) == {"lr=0.01", "lr=0.1", "lr=1"}


def test_preset_link_loads_the_race_and_hide_hides_controls(app):
    at = open_compare(app, spec=None, params={"preset": "sgd-vs-adam-digits",
                                              "hide": "compare.mode,compare.base"})
    assert not at.exception
    assert at.selectbox(key="compare.base").value == "sgd-vs-adam-digits"
    assert [at.selectbox(key=f"c{i}.name").value for i in range(3)] == ["SGD", "SGD", "Adam"]
    assert at.select_slider(key="c2.lr").value == 0.003
    assert at.slider(key="c1.momentum").value == 0.9
    css = " ".join(h.proto.body for h in at.get("html"))
    assert ".st-key-compare-mode" in css and ".st-key-compare-base" in css


def test_unknown_preset_is_one_line(app):
    at = open_compare(app, spec=None, params={"preset": "no-such-thing"})
    assert not at.exception
    assert any("no preset called 'no-such-thing'" in w.value for w in at.warning)
