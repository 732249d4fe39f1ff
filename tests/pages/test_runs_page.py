"""The Runs page under AppTest: a finished Playground run is listed, opens with its charts and
downloads, renames and deletes; a run named in the URL re-attaches on the Playground."""

from __future__ import annotations

import ui
from tests.pages.drawn import plotly_charts
from tests.pages.training import finished, train_to_end


def runs_table(at):
    """The Runs page's table of runs (the limits table is the other dataframe)."""
    return next(d for d in at.dataframe if d.key == "runs.table").value


def texts(elements) -> list[str]:
    return [e.value for e in elements]



def train_one(app, poll):
    at = train_to_end(app, poll, "xor", 2)
    return at, at.session_state["run_id"]


def test_runs_page_lists_opens_renames_and_deletes(app, poll):
    at, run_id = train_one(app, poll)
    assert at.query_params["run"] in (run_id, [run_id])  # in the URL: a reload re-attaches
    at.switch_page("views/5_Runs.py").run()
    assert not at.exception
    table = runs_table(at)
    assert len(table) == 1 and table["Status"][0] == "finished"
    assert table["Setup"][0].startswith("XOR · ")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Metrics (.csv)", "Checkpoint (.pt)", "PyTorch script (.py)"]
    assert len(plotly_charts(at)) >= 4
    at.text_input(key=f"name.{run_id}").set_value("first try")
    at.button(key=f"rename.{run_id}").click().run()
    assert runs_table(at)["Name"][0] == "first try"
    at.button(key=f"delete.{run_id}").click().run()
    assert not at.exception
    assert any("No runs yet" in t for t in texts(at.info))
    assert ui.manager().get(run_id) is None


def test_a_run_in_the_url_reattaches_and_another_browser_does_not_list_it(app, poll):
    at, run_id = train_one(app, poll)
    from streamlit.testing.v1 import AppTest

    other = AppTest.from_file(app._script_path, default_timeout=60)
    other.query_params["run"] = run_id
    other.run()  # a new session (a reload, or the link in another browser) with ?run=
    assert not other.exception
    assert other.session_state["run_id"] == run_id
    assert finished(other) and len(plotly_charts(other)) >= 4
    other.switch_page("views/5_Runs.py").run()
    table = runs_table(other)
    assert table["Name"][0] == "(from a link)"  # opened by link: listed, marked as not mine

    third = AppTest.from_file(app._script_path, default_timeout=60)
    third.run().switch_page("views/5_Runs.py").run()
    assert any("No runs yet" in t for t in texts(third.info))
