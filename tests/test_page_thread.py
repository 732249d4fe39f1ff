"""The page's thread runs no torch function while a run trains.

A torch op in a second thread starts a second OpenMP team there; on two cores that slowed a
two-thread training run by ~25 % (the bench's c/b fell from ~0.95 to 0.75). So a snapshot and
every chart the live panel draws from it must be plain Python and numpy.
"""

from __future__ import annotations

import time

import pytest
import torch
from torch.overrides import TorchFunctionMode

from nnplay import bench, presets
from nnplay.runs import RunManager

torch.set_num_threads(1)


class Calls(TorchFunctionMode):
    """Records every torch function called in this thread while active (modes are per thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("preset", ["spiral", "sine-regression", "digits-mlp"])
def test_a_live_refresh_calls_no_torch_function(preset, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    spec = presets.load(preset).spec.with_changes(  # long enough to be mid-run when drawn
        {"train.device": "cpu", "train.epochs": 500, "train.max_steps": 20_000})
    manager = RunManager(max_runs=1)
    run = manager.start(spec)
    try:
        deadline = time.monotonic() + 60
        while not (run.snapshot()["evals"]["step"] and run.snapshot()["view"]):
            assert time.monotonic() < deadline and not run.done, run.message
            time.sleep(0.05)
        with Calls() as calls:
            sent = bench.render(run.snapshot())
        assert len(sent) >= 6 and not run.done  # drawn mid-run, from live state
        assert calls.names == []
    finally:
        run.control.stop()
        manager.close()
