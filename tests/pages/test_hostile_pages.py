"""The pages under a hostile student's links and names: what they typed is shown escaped, and
a run opened by someone else's link is read-only."""

from __future__ import annotations

import ui
from nnplay.spec import ExperimentSpec

# --- the pages ----------------------------------------------------------------------------------

MD = "![x](http://evil.example/p.png) [log in](http://evil.example)"


def test_an_unknown_compare_preset_is_shown_escaped(app) -> None:
    at = app.run()
    at.query_params["preset"] = MD
    at = at.switch_page("views/3_Compare.py").run()
    assert not at.exception
    shown = [w.value for w in at.warning if "no preset called" in w.value]
    assert shown and "](" not in shown[0] and "\\!\\[x\\]" in shown[0]


def test_unknown_link_keys_are_shown_escaped(app) -> None:
    at = app
    at.query_params[MD] = "1"
    at.query_params["optimizer.lr"] = "0_1"
    at = at.run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "could not be used" in text and "](" not in text and "\\!\\[x\\]" in text
    assert "optimizer.lr" in text and "underscores" in text  # 0_1 is not read as 1


def test_a_run_name_is_shown_escaped_on_the_runs_page(app, tmp_path) -> None:
    at = app.run()
    spec = ExperimentSpec().with_changes({"data.n_samples": 100, "train.epochs": 1})
    owner = at.session_state["owner"]
    run = ui.manager().start(spec, owner=owner)
    run.wait(60)
    ui.manager().rename(run.id, MD, owner)
    at.query_params["run"] = run.id
    at = at.switch_page("views/5_Runs.py").run()
    assert not at.exception
    heading = at.subheader[0].value
    assert "](" not in heading and "\\!\\[x\\]" in heading


def test_a_bad_setting_is_a_sentence_in_the_limits_panel(app, monkeypatch) -> None:
    monkeypatch.setenv("NNPLAY_MAX_UPLOAD_MB", "nan")
    monkeypatch.setenv("NNPLAY_MAX_QUEU", "5")
    at = app.run()
    at = at.switch_page("views/5_Runs.py").run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "NNPLAY\\_MAX\\_UPLOAD\\_MB" in text and "not a number of at least 1" in text
    assert "NNPLAY\\_MAX\\_QUEU is not a setting" in text
    assert any(e.proto.expanded for e in at.expander if e.label == "Limits on this server")


def test_streamlits_own_upload_limit_follows_nnplays(app) -> None:
    from streamlit import config

    import ui.serving
    from nnplay.limits import Limits

    at = app.run()
    assert not at.exception
    assert config.get_option("server.maxUploadSize") == ui.serving.upload_mb(ui.manager().limits)
    assert config.get_option("server.maxUploadSize") < 200  # Streamlit's default
    ui.serving.apply_upload_limit(Limits(max_upload_mb=2.5))
    assert config.get_option("server.maxUploadSize") == 3
    at.session_state["data.name"] = "csv"
    at.run()
    up = at.get("file_uploader")[0]
    assert up.proto.max_upload_size_mb == ui.serving.upload_mb(ui.manager().limits)
    assert "NNPLAY_MAX_UPLOAD_MB" in up.proto.help


STRANGER = "f" * 32  # the browser that started the run, not this one
LONG = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 400,
                                      "train.max_steps": 10_000})  # fmt: skip


def st_run_id(at) -> str:
    return at.session_state["run_id"] if "run_id" in at.session_state else ""


def test_a_run_opened_from_anothers_link_is_read_only(app) -> None:
    at = app.run()
    run = ui.manager().start(LONG, owner=STRANGER, paused=True)
    try:
        at.query_params["run"] = run.id
        at.run()
        assert not at.exception
        for key in ("pause", "resume", "stop"):
            assert at.button(key=key).disabled, key
        assert at.button(key="train").disabled is False  # they can run the setup themselves
        assert any("started in another browser" in c.value for c in at.caption)
        at.button(key="step").click().run()  # Step starts their own run, paused
        assert not at.exception and st_run_id(at) != run.id
        assert run.control.paused and not run.done
    finally:
        ui.manager().stop(run.id)


def test_a_runs_link_in_a_browser_with_no_runs_shows_the_run(app) -> None:
    at = app.run()
    run = ui.manager().start(LONG.with_changes({"train.max_steps": 5}), owner=STRANGER)
    run.wait(60)
    at.query_params["run"] = run.id
    at = at.switch_page("views/5_Runs.py").run()
    assert not at.exception
    assert not any("No runs yet" in i.value for i in at.info)
    assert any("Started in another browser" in c.value for c in at.caption)
    assert not any(b.label == "Stop" for b in at.button)


def test_a_home_that_cannot_be_written_is_one_sentence_and_training_works(app, tmp_path,
                                                                         monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NNPLAY_HOME", str(blocker / "home"))
    ui.manager.clear()  # a server started on that home
    try:
        at = app
        at.session_state["spec"] = ExperimentSpec().with_changes(
            {"data.n_samples": 100, "train.epochs": 2})
        at.run()
        assert not at.exception
        assert any("Runs are not kept on this server" in w.value for w in at.sidebar.warning)
        at.button(key="train").click().run()
        assert not at.exception and not at.error
        run = ui.manager().get(at.session_state["run_id"])
        assert run is not None and run.wait(60) and run.status == "finished"
    finally:
        ui.manager.clear()


def test_link_values_beyond_a_controls_range_are_brought_inside_with_a_line_each(app) -> None:
    app.query_params.update({"optimizer.name": "SGD", "optimizer.momentum": "0.995",
                             "layers": "linear:8,relu,dropout:0.99"})  # fmt: skip
    at = app.run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "optimizer.momentum\\=0.995" not in text  # escaped '=' is not needed: plain text
    assert "optimizer.momentum=0.995 is beyond" in text and "using 0.99" in text
    assert "layer 3 dropout=0.99 is beyond" in text and "using 0.95" in text
    assert at.slider(key="optimizer.momentum").value == 0.99
    assert at.session_state["spec"].optimizer.momentum == 0.99


def test_a_sequence_link_beyond_the_old_slider_is_shown(app) -> None:
    at = app.run()
    at.query_params.update({"data.name": "sine-forecast", "data.seq_len": "150",
                            "loss.name": "MSELoss", "recurrent.cell": "LSTM",
                            "recurrent.num_layers": "2", "recurrent.dropout": "0.95"})
    at = at.switch_page("views/2_Sequences.py").run()
    assert not at.exception
    assert at.slider(key="data.seq_len").value == 150  # the slider reaches the spec's 200
    text = " ".join(w.value for w in at.warning)
    assert "model.recurrent.dropout=0.95 is beyond" in text


def test_a_playground_link_opened_on_the_sequences_page_is_no_traceback(app) -> None:
    at = app.run()
    at.query_params.update({"data.name": "moons", "layers": "linear:8,relu"})
    at = at.switch_page("views/2_Sequences.py").run()
    assert not at.exception
