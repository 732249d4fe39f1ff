"""The keyframe cost measure (nnplay.keyframe_cost): paired ratios, and one run of each kind,
one after the other and at the same time, on a small spec."""

from __future__ import annotations

import math

import pytest
import torch

from nnplay import keyframe_cost
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store

torch.set_num_threads(1)
SPEC = ExperimentSpec().with_changes({"data.n_samples": 120, "train.max_steps": 60})


def test_paired_ratios_and_their_interval() -> None:
    p = keyframe_cost.paired([1.1, 2.2, 3.3], [1.0, 2.0, 3.0])
    assert p["median"] == pytest.approx(1.1) and p["mean"] == pytest.approx(1.1)
    assert p["low"] == pytest.approx(1.1) and p["high"] == pytest.approx(1.1)  # no spread
    q = keyframe_cost.paired([1.0, 1.2], [1.0, 1.0])
    assert q["mean"] == pytest.approx(math.sqrt(1.2)) and q["low"] < q["mean"] < q["high"]


def test_runs_with_keyframes_on_and_off(tmp_path) -> None:
    manager = RunManager(max_runs=2, threads=1, store=Store(tmp_path), limits=Limits())
    try:
        on = keyframe_cost.one_run(manager, SPEC, True)
        off = keyframe_cost.one_run(manager, SPEC, False)
        assert on["steps"] == off["steps"] == 60
        assert on["keyframes"] > 2 and off["keyframes"] == 0
        assert on["cpu_s"] > 0 and off["wall_s"] > 0
        both = keyframe_cost.together(manager, SPEC, first=False)
        assert set(both) == {True, False} and min(both.values()) > 0
    finally:
        manager.close()
