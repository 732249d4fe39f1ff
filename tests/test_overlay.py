"""Runs side by side: compare links, settings flattened to dotted paths and which differ, the
same-data check, and the overlaid charts (one legend entry per run, names escaped)."""

from __future__ import annotations

import numpy as np

from nnplay import overlay
from nnplay.overlay_chart import overlay_accuracy_chart, overlay_loss_chart
from nnplay.spec import ExperimentSpec, flatten

A, B, C = "a" * 32, "0123456789abcdef" * 2, "f" * 32


def test_a_link_keeps_valid_ids_in_order_once_each_and_names_what_it_ignored():
    link = overlay.parse_link(f" {A}, {B.upper()},{A},,nope,{'g' * 32},{C}")
    assert link.ids == (A, B, C)
    assert link.invalid == ("nope", "g" * 32) and link.dropped == 0
    problem = link.problem()
    assert problem is not None and "2 part(s)" in problem and "nope" in problem
    assert overlay.parse_link(f"{A},{B}").problem() is None
    assert overlay.parse_link(None) == overlay.Link()
    assert overlay.parse_link(A + "0").invalid == (A + "0",)  # 33 characters: not an id


def test_a_link_keeps_at_most_eight_runs():
    ids = [f"{i:032x}" for i in range(11)]
    link = overlay.parse_link(",".join(ids))
    assert link.ids == tuple(ids[:8]) and link.dropped == 3
    assert "3 run(s) past the first 8" in (link.problem() or "")
    assert overlay.link_value(ids) == ",".join(ids[:8])


def test_flatten_gives_dotted_paths_with_list_items_by_index():
    spec = ExperimentSpec.model_validate(
        {"model": {"layers": [{"type": "linear", "units": 5}, {"type": "activation"}]}})
    flat = flatten(spec.model_dump(), items=True)
    assert flat["model.layers.0.units"] == 5 and flat["model.layers.1.name"] == "ReLU"
    assert flat["optimizer.lr"] == 0.01 and flat["data.name"] == "spiral"
    assert flat["model.recurrent"] is None
    assert flatten({"model": {"layers": []}}, items=True) == {"model.layers": []}


def test_differing_names_exactly_the_settings_that_differ_including_missing_ones():
    one = ExperimentSpec()
    two = ExperimentSpec.model_validate({"optimizer": {"lr": 0.1}, "seed": 3})
    three = ExperimentSpec.model_validate({"model": {"layers": []}, "seed": 3})
    flats = [flatten(s.model_dump(), items=True) for s in (one, two, three)]
    layers = {p for p in flats[0] if p.startswith("model.layers")}
    assert set(overlay.differing(flats[:2])) == {"optimizer.lr", "seed"}
    assert set(overlay.differing(flats)) == {"optimizer.lr", "seed", "model.layers"} | layers
    assert overlay.differing(flats[:1]) == [] and overlay.differing([flats[0], flats[0]]) == []
    rows = {p: (values, differ) for p, values, differ in overlay.settings_rows(flats[:2])}
    assert rows["optimizer.lr"] == (["0.01", "0.1"], True)
    assert rows["optimizer.name"] == (["Adam", "Adam"], False)
    rows3 = {p: values for p, values, _ in overlay.settings_rows(flats)}
    assert rows3["model.layers"] == [overlay.MISSING, overlay.MISSING, "none"]
    first = str(flats[0]["model.layers.0.units"])
    assert rows3["model.layers.0.units"] == [first, first, overlay.MISSING]


def test_same_data_means_same_dataset_and_data_settings():
    base = ExperimentSpec().model_dump()
    other_model = ExperimentSpec.model_validate({"optimizer": {"lr": 0.5}, "seed": 9})
    noisier = ExperimentSpec.model_validate({"data": {"noise": 0.3}})
    xor = ExperimentSpec.model_validate({"data": {"name": "xor"}})
    assert overlay.same_data([base, other_model.model_dump()])
    assert not overlay.same_data([base, noisier.model_dump()])
    assert not overlay.same_data([base, other_model.model_dump(), xor.model_dump()])
    assert overlay.same_data([base])


def test_labels_are_names_else_summaries_and_made_distinct():
    got = overlay.labels(["mine", "", "", "  "], ["s1", "s2", "s2", "s3"], [A, B, C, "9" * 32])
    assert got == ["mine", f"s2 ({B[:6]})", f"s2 ({C[:6]})", "s3"]


def snap(steps: int, acc: float, task: str = "classification") -> dict:
    """A finished run's snapshot as the charts read it."""
    x = np.arange(1, steps + 1)
    ev = [steps // 2, steps]
    return {"task": task, "status": "finished",
            "steps": {"step": x, "loss": 1.0 / x, "penalty": np.zeros(steps)},
            "evals": {"step": ev, "test_loss": [0.5, 0.3], "train_loss": [0.4, 0.2],
                      "test_acc": [acc / 2, acc], "train_acc": [acc / 2, acc]}}


def test_the_loss_overlay_has_one_legend_entry_per_run_in_its_colour_with_escaped_names():
    names = ["<b>bold</b>", "plain"]
    fig = overlay_loss_chart([snap(50, 0.9), snap(80, 0.7)], names)
    assert len(fig.data) == 4  # per run: smoothed training loss and test loss
    groups = [t.legendgroup for t in fig.data]
    assert groups == ["run0", "run0", "run1", "run1"]
    assert [t.name for t in fig.data if t.showlegend is not False] == ["&lt;b&gt;bold&lt;/b&gt;",
                                                                        "plain"]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert all("<b>" not in (t.hovertemplate or "") for t in fig.data)
    assert np.isclose(fig.data[1].y[-1], 0.3) and len(fig.data[2].x) == 80


def test_the_accuracy_overlay_skips_regression_runs_and_keeps_each_runs_colour():
    fig = overlay_accuracy_chart([snap(20, 0.8, "regression"), snap(20, 0.6)], ["r", "c"])
    assert [t.legendgroup for t in fig.data] == ["run1", "run1"]
    loss = overlay_loss_chart([snap(20, 0.8, "regression"), snap(20, 0.6)], ["r", "c"])
    assert fig.data[0].line.color == loss.data[2].line.color
    assert overlay_accuracy_chart([snap(20, 0.1, "regression")] * 2, ["a", "b"]) is None


def test_empty_runs_draw_a_waiting_message_rather_than_raising():
    fig = overlay_loss_chart([{}, {"steps": {}}], ["a", "b"])
    assert not fig.data and fig.layout.annotations
    fig = overlay_accuracy_chart([{}, {}], ["a", "b"])
    assert not fig.data and fig.layout.annotations
