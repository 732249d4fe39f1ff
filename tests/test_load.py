"""A class at once: 30 small runs started together through one manager with a store. The cap
holds throughout, every run finishes with a complete history, and memory stays bounded."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import pytest
import torch

from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store

torch.set_num_threads(1)
CAP = 3
RUNS = 30
KEEP = 8


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise OSError("no VmRSS")


def specs() -> list[ExperimentSpec]:
    names = ["spiral", "circle", "xor", "moons", "gauss", "sine", "plane"]
    out = []
    for i in range(RUNS):
        name = names[i % len(names)]
        regression = name in ("sine", "plane")
        out.append(ExperimentSpec().with_changes({
            "data.name": name, "data.n_samples": 200, "seed": i,
            "loss.name": "MSELoss" if regression else "CrossEntropyLoss",
            "train.epochs": 20, "train.max_steps": 60 + i,  # 7 steps an epoch: the cap ends it
        }))  # fmt: skip
    return out


@pytest.mark.slow
def test_thirty_runs_at_once(tmp_path):
    try:
        rss_mb()
    except OSError:
        pytest.skip("needs /proc/self/status")
    manager = RunManager(max_runs=CAP, threads=1, store=Store(tmp_path), limits=Limits(),
                         keep_finished=KEEP)
    warm = manager.start(specs()[0])  # the first run pays torch's one-time set-up
    warm.wait(60)
    gc.collect()
    before = rss_mb()

    peak = {"slots": 0, "training": 0}
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            live = list(manager._runs.values())
            peak["slots"] = max(peak["slots"], manager.running())
            peak["training"] = max(peak["training"],
                                   sum(r.status in ("running", "paused") for r in live))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    runs = [manager.start(spec, owner=f"student-{i}") for i, spec in enumerate(specs())]
    queued = [r.ahead for r in runs]
    assert queued[:CAP] == [None] * CAP and queued[CAP:] == list(range(RUNS - CAP))
    for run in runs:
        assert run.wait(120), f"{run.id} did not finish"
    sampling.set()
    sampler.join()

    assert peak["slots"] == CAP and peak["training"] <= CAP
    for run, spec in zip(runs, specs()):
        snap = run.snapshot()
        total = spec.train.max_steps
        assert snap["status"] == "finished", snap["message"]
        assert snap["steps"]["step"].tolist() == list(range(1, total + 1))
        assert snap["evals"]["step"][-1] == total
        stored = manager.store.history(run.id)
        assert stored["step"] == list(range(1, total + 1))
        assert stored["loss"] == snap["steps"]["loss"].tolist()
        assert [e["step"] for e in stored["evals"]] == snap["evals"]["step"]
        assert manager.store.checkpoint_path(run.id) is not None
        assert run.points == {}  # no device tensors held once stored

    assert len(manager.runs()) <= KEEP  # the rest live in the store only
    gc.collect()
    grown = rss_mb() - before
    assert grown < 300, f"memory grew by {grown:.0f} MB for {RUNS} small runs"
    assert {e["status"] for e in manager.listing("student-29")} == {"finished"}
    manager.close()
