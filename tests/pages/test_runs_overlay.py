"""The Runs page's overlay under AppTest: a ?compare= link of two stored runs (started in another
browser) draws their curves on shared axes and a settings table with the differences marked;
runs on other data overlay only their losses; unknown ids get one warning."""

from __future__ import annotations

import json
import re

import ui
from nnplay import escape
from nnplay.spec import ExperimentSpec
from tests.pages.drawn import plotly_charts

STRANGER = "e" * 32
SHORT = ExperimentSpec().with_changes({"data.name": "xor", "data.n_samples": 100,
                                       "train.epochs": 2})  # fmt: skip
NAME = "<b>fast</b> [x](http://evil.example)"


def stored(spec: ExperimentSpec, name: str = "") -> str:
    """A finished run of another browser, in the app's store: its id."""
    run = ui.manager().start(spec, owner=STRANGER)
    assert run.wait(60) and run.status == "finished"
    if name:
        ui.manager().rename(run.id, name, STRANGER)
    return run.id


def compare_page(app, *ids: str):
    at = app.run()
    at.query_params["compare"] = ",".join(ids)
    at = at.switch_page("views/5_Runs.py").run()
    assert not at.exception
    return at


def settings_table(at):
    return next(d for d in at.dataframe if d.value.index.name == "Setting")


def test_a_compare_link_overlays_two_runs_and_marks_the_settings_that_differ(app) -> None:
    app.run()
    a = stored(SHORT, NAME)
    b = stored(SHORT.with_changes({"optimizer.lr": 0.1, "seed": 4}))
    at = compare_page(app, a, b)
    assert at.multiselect(key="runs.compare").value == [a, b]
    figures = [json.loads(c.proto.spec) for c in plotly_charts(at)]
    assert len(figures) == 2  # loss and accuracy
    names = [t["name"] for t in figures[0]["data"] if t.get("showlegend", True)]
    assert names == [escape.label(NAME), at.multiselect(key="runs.compare").options[1]]
    assert "accuracy" in figures[1]["layout"]["title"]["text"]
    assert len(figures[1]["data"]) == 4  # test and train accuracy of each run
    table = settings_table(at)
    frame = table.value
    assert list(frame.index[:2]) == ["optimizer.lr", "seed"]  # what differs comes first
    assert frame.loc["optimizer.lr"].tolist() == ["0.01", "0.1"]
    assert frame.loc["data.name"].tolist() == ["xor", "xor"]
    styles = table.proto.arrow_data.styler.styles
    marked = re.findall(r"_row(\d+)_col\d+", styles.split("{ background-color: #FFE9A8 }")[0])
    assert sorted(marked) == ["0", "0", "1", "1"]  # both cells of the two rows that differ
    captions = " ".join(c.value for c in at.caption)
    assert "the 2 that differ are highlighted" in captions
    assert not any("different data" in i.value for i in at.info)
    assert ui.manager().get(a).owner == STRANGER  # seeing it did not make it this browser's


def test_runs_on_other_data_overlay_only_losses_and_unknown_ids_are_named(app) -> None:
    app.run()
    a = stored(SHORT)
    b = stored(SHORT.with_changes({"data.noise": 0.3}))
    gone = "0" * 32
    at = compare_page(app, a, b, gone, "not-an-id")
    assert len(plotly_charts(at)) == 1  # the loss only
    assert any("different data" in i.value for i in at.info)
    warnings = " ".join(w.value for w in at.warning)
    assert "1 run(s) of the compare link are not on this server" in warnings and gone in warnings
    assert "not run ids" in warnings
    assert "data.noise" in settings_table(at).value.index[:1]


def test_unpicking_a_run_takes_it_out_of_the_link(app) -> None:
    app.run()
    a, b = stored(SHORT), stored(SHORT.with_changes({"optimizer.lr": 0.1}))
    at = compare_page(app, a, b)
    at.multiselect(key="runs.compare").unselect(b).run()
    assert not at.exception
    assert "compare" not in at.query_params or at.query_params["compare"] in (a, [a])
    assert not plotly_charts(at)  # one run: nothing to overlay
