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

    import serving
    from nnplay.limits import Limits

    at = app.run()
    assert not at.exception
    assert config.get_option("server.maxUploadSize") == serving.upload_mb(ui.manager().limits)
    assert config.get_option("server.maxUploadSize") < 200  # Streamlit's default
    serving.apply_upload_limit(Limits(max_upload_mb=2.5))
    assert config.get_option("server.maxUploadSize") == 3
    at.session_state["data.name"] = "csv"
    at.run()
    up = at.get("file_uploader")[0]
    assert up.proto.max_upload_size_mb == serving.upload_mb(ui.manager().limits)
    assert "NNPLAY_MAX_UPLOAD_MB" in up.proto.help
