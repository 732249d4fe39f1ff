"""The bench runs end to end on small generated files and reports its ratios; no timings."""

from __future__ import annotations

import json
import os

import pytest
import torch

from nnplay import bench
from nnplay.__main__ import main

SMALL = ["--steps", "20", "--repeats", "1", "--train-samples", "640", "--live-steps", "3000"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """A private NNPLAY_HOME, and torch's thread count restored after the bench changes it."""
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path / "home"))
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_bench_prints_the_three_variants_and_both_ratios(capsys):
    before = os.environ.get("NNPLAY_DATA_DIR")
    assert main(["bench", *SMALL]) == 0
    out = capsys.readouterr().out
    for label, _ in bench.VARIANTS.values():
        assert label in out
    assert "c/a, nnplay vs the reference loop:" in out
    assert "c/b, nnplay vs the bare loop:" in out
    assert "generated FashionMNIST-format files (640 train" in out
    assert "live page, a run with 3,000 steps" in out
    assert "no measurement yet" in out
    assert os.environ.get("NNPLAY_DATA_DIR") == before  # the bench put it back


def test_bench_json_has_the_ratios_and_the_browser_record(capsys):
    record = {"when": "2026-01-01 12:00", "preset": "spiral", "device": "cpu",
              "first_point_s": 1.25, "refresh_bytes": 40_000}
    path = bench.browser_record_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    assert main(["bench", *SMALL, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("ratio_vs_reference", "ratio_vs_bare"):
        assert result[key] > 0
    median = {k: v["median"] for k, v in result["samples_per_s"].items()}
    assert result["ratio_vs_bare"] == pytest.approx(median["nnplay"] / median["bare"])
    assert result["ratio_vs_reference"] == pytest.approx(median["nnplay"] / median["reference"])
    assert set(median) == {"reference", "bare", "nnplay"} and result["device_type"] == "cpu"
    assert result["browser"] == record
    assert bench.report(result).count("Train to the first loss point 1.25 s") == 1


def test_a_refresh_of_a_100k_step_run_sends_at_most_2000_points_per_trace():
    live = bench.live_page(repeats=1, steps=100_000)
    assert live["steps"] == 100_000 and live["charts"] >= 5
    assert 1000 < live["max_points_per_trace"] <= 2000


def test_bad_arguments_are_a_sentence(capsys):
    assert main(["bench", "--steps", "0"]) == 2
    assert "must be at least 1" in capsys.readouterr().err
