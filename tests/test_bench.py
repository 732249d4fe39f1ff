"""The bench runs end to end on small generated files and reports its ratios; no timings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from nnplay import bench, train
from nnplay.__main__ import main

SMALL = ["--steps", "20", "--repeats", "1", "--train-samples", "640", "--live-steps", "3000",
         "--small-steps", "0"]
TINY = ["--steps", "5", "--repeats", "1", "--train-samples", "320", "--live-steps", "0",
        "--small-steps", "40", "--class-runs", "3"]


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


def test_the_small_and_class_cases_report_their_ratio_and_finish_times(capsys):
    assert main(["bench", *TINY, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    small = result["small"]
    median = {k: v["median"] for k, v in small["steps_per_s"].items()}
    assert set(median) == set(bench.SMALL_VARIANTS) and small["steps"] == 40
    assert small["ratio_vs_bare"] == pytest.approx(median["nnplay"] / median["bare"])
    assert small["ratio_core_vs_bare"] == pytest.approx(median["core"] / median["bare"])
    c = result["class"]
    assert c["runs"] == 3 and c["steps"] == 40
    assert 0 < c["first_s"] <= c["median_s"] <= c["p90_s"] <= c["last_s"]
    assert c["steps_per_s"] == pytest.approx(3 * 40 / c["last_s"])
    assert c["refresh_ms"] is None or c["refresh_ms"] >= 0
    text = bench.report(result)
    for label, _ in bench.SMALL_VARIANTS.values():
        assert label in text
    assert "d/b, nnplay with the live page vs the bare eager loop:" in text
    assert "class: 3 spiral runs of 40 steps started at once" in text


def test_the_small_bare_loop_trains_what_nnplay_trains():
    """The bare loop's batches and weights are nnplay's: its losses are the run's, so the
    small case compares the same work."""
    s = bench.Small(Path("unused"), steps=30)  # one epoch: 500 points
    spec = s.spec()
    ds, model, _ = train.prepare(spec)
    expected = []
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.optimizer.lr)
    order = torch.Generator().manual_seed(spec.seed)
    perm = torch.randperm(len(ds.x_train), generator=order)
    for i in range(0, 30 * 16, 16):
        idx = perm[i:i + 16]
        loss = torch.nn.functional.cross_entropy(model(ds.x_train[idx]), ds.y_train[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        expected.append(loss.item())
    losses = []

    class Rec(train.Callback):
        def on_flush(self, chunk: dict) -> None:
            losses.extend(chunk["loss"])

    assert train.run_spec(spec, [Rec()]).status == "finished"
    assert losses == expected
