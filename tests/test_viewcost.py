"""Tests for nnplay.viewcost: the refresh it times with the view really carries the view's
figures (the network and its close-up, or the first layer's tiles) and the one without does
not, on real runs; the report and the command line read."""

from __future__ import annotations

import pytest
import torch

from nnplay import viewcost

torch.set_num_threads(1)


def test_spiral_with_the_view_adds_the_network_and_its_close_up():
    r = viewcost.measure("spiral", repeats=2, steps=20)
    assert r["steps"] == 20 and r["repeats"] == 2
    assert r["bytes"]["with"] > r["bytes"]["without"] > 0 and r["view_bytes"] > 10_000
    for part in ("without", "with", "training"):
        assert 0 < r["ms"][part]["min"] <= r["ms"][part]["median"] <= r["ms"][part]["max"]
    assert r["view_ms_least"] <= r["view_ms_paired"]
    assert r["server_ms_per_refresh"] == pytest.approx(
        r["view_ms"] + r["ms"]["training"]["median"])
    text = viewcost.report(r)
    assert "spiral (spiral, 20 steps, 2 interleaved repeats)" in text
    assert "of server CPU" in text


def test_the_view_s_figures_are_the_network_s_for_2d_and_the_tiles_for_images(tmp_path):
    spec = viewcost.presets.load("spiral").spec.with_changes(
        {"train.max_steps": 5, "train.device": "cpu"})
    snap = viewcost._trained(spec)
    view = viewcost.view_json(snap)
    assert len(view) == 2 and not set(view) & set(viewcost.panel_json(snap))
    assert snap["network"] is not None and snap.get("tiles") is None
    with viewcost.generated_fashion(300, 100) as root:
        assert (root / "FashionMNIST" / "raw").is_dir()
        fashion = viewcost.presets.load("fashion-mnist-ffnn").spec.with_changes(
            {"train.max_steps": 3, "train.device": "cpu", "data.subset": 300})
        snap = viewcost._trained(fashion)
    assert snap["tiles"] is not None and snap.get("network") is None
    view = viewcost.view_json(snap)
    assert len(view) == 1 and '"image"' in view[0]  # the tiles: one image trace


def test_the_command_line_refuses_an_unknown_case(capsys):
    with pytest.raises(SystemExit):
        viewcost.main(["mnist"])
    assert "'mnist' is not a case; choose from spiral, fashion" in capsys.readouterr().err
