"""A hostile student asks for runs that pass every size limit but would hold a slot for hours,
or fills the queue from fresh cookies: the budget and the queue bound hold."""

from __future__ import annotations

import pytest
import torch

from nnplay import budget, presets
from nnplay.limits import LimitExceeded, Limits
from nnplay.runs import RunManager
from nnplay.sizes import estimated_train_size
from nnplay.spec import Activation, ExperimentSpec, Linear

torch.set_num_threads(1)
SLOW = budget.Speed(flops_per_s=2e10, step_s=2e-4)  # a fixed machine, for exact sentences
FAST = budget.Speed(flops_per_s=1e18, step_s=0.0)  # estimates pass; the running cap must act

WIDE_MLP = ExperimentSpec().with_changes({  # 16 x Linear(1024) at batch 4096, 500 epochs
    "data.name": "fashion-mnist", "loss.name": "CrossEntropyLoss", "train.batch_size": 4096,
    "train.epochs": 500, "model.layers": [Linear(units=1024), Activation(name="ReLU")] * 16})
BIG_LSTM = ExperimentSpec().with_changes({  # 4 bidirectional LSTM layers of 512 over 200 steps
    "data.name": "sine-forecast", "data.seq_len": 200, "loss.name": "MSELoss",
    "model.layers": [], "model.recurrent": {"cell": "LSTM", "hidden_size": 512, "num_layers": 4,
                                            "bidirectional": True}})  # fmt: skip


@pytest.mark.parametrize("spec", [WIDE_MLP, BIG_LSTM], ids=["wide-mlp", "big-lstm"])
def test_runs_of_hours_pass_the_size_limits_but_not_the_budget(spec) -> None:
    Limits().check(spec, estimated_train_size(spec))  # every size limit lets them through
    with pytest.raises(LimitExceeded) as e:
        budget.check(spec, Limits(), SLOW)
    text = str(e.value)
    assert " h" in text and "15 min" in text and "NNPLAY_MAX_RUN_SECONDS" in text
    assert text.count(".") <= 2  # one sentence


def test_the_manager_refuses_them_at_this_machines_measured_speed() -> None:
    manager = RunManager(max_runs=1, threads=1, limits=Limits())
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_RUN_SECONDS"):
        manager.start(WIDE_MLP, owner="a" * 32)
    assert manager.runs() == []  # nothing was queued
    manager.close()


def test_every_preset_fits_the_default_budget_here() -> None:
    speed = budget.measured(1)
    for preset in presets.all_presets():
        assert budget.estimate_seconds(preset.spec, speed) < Limits().max_run_seconds, preset.name


def test_the_estimate_grows_with_the_work() -> None:
    base = ExperimentSpec().with_changes({"train.epochs": 20})
    t = budget.estimate_seconds(base, SLOW)
    assert budget.estimate_seconds(base.with_changes({"train.epochs": 40}), SLOW) > 1.9 * t
    wide = base.with_changes({"model.layers": [Linear(units=1024)] * 4})
    assert budget.estimate_seconds(wide, SLOW) > 10 * t


def test_a_run_that_trains_past_its_budget_is_stopped() -> None:
    manager = RunManager(max_runs=1, threads=1, speed=FAST,
                         limits=Limits(max_run_seconds=1, max_steps=10**6))  # fmt: skip
    long = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 500,
                                          "train.max_steps": 10**6})  # fmt: skip
    run = manager.start(long, owner="a" * 32)
    assert run.wait(120)
    assert run.status == "stopped" and "Stopped: time budget" in run.message, run.message
    manager.close()


def test_time_spent_paused_is_not_training_time() -> None:
    manager = RunManager(max_runs=1, threads=1, speed=FAST, limits=Limits(max_run_seconds=10))
    run = manager.start(ExperimentSpec(), owner="a" * 32, paused=True)
    chunk = {"step": [], "loss": [], "penalty": [], "l1": [], "l2": [], "activations": None,
             "grads": None, "view": None,
             "progress": dict(run.progress, elapsed_s=30.0)}  # fmt: skip
    run.control.waited = 25.0  # 30 s since it started, 25 of them paused: 5 s of training
    run.on_flush(chunk)
    assert not run.control.stopping
    run.control.waited = 15.0
    run.on_flush(chunk)
    assert run.control.stopping and "time budget" in run.stop_note
    manager.close()


def test_the_queue_is_bounded_for_every_cookie() -> None:
    manager = RunManager(max_runs=1, threads=1, speed=FAST, limits=Limits(max_queue=2))
    spec = ExperimentSpec()
    started = [manager.start(spec, owner=f"{i:032x}", paused=True) for i in range(3)]
    assert [r.status for r in started] == ["paused", "queued", "queued"]
    with pytest.raises(LimitExceeded, match="queue is full.*NNPLAY_MAX_QUEUE"):
        manager.start(spec, owner="f" * 32)  # a fresh cookie is no way round it
    manager.close()


def test_the_default_queue_holds_a_class_racing_three_optimisers() -> None:
    assert Limits().max_queue >= 30 * 3


def test_a_busy_minute_at_calibration_does_not_make_the_budget_stricter(monkeypatch) -> None:
    busy = budget.Speed(flops_per_s=1e6, step_s=0.5)  # what a loaded machine may measure
    monkeypatch.setattr(budget, "_measure", lambda threads: busy)
    speed = budget.measured.__wrapped__(1)
    assert speed == budget.FLOOR
    for preset in presets.all_presets():
        assert budget.estimate_seconds(preset.spec, speed) < Limits().max_run_seconds, preset.name
