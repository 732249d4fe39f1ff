"""Tests for nnplay.runs: runs in real background threads, snapshots, the run cap and its FIFO
queue, stopping, and failures that end a run rather than raise."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch

from nnplay import data, instruments, runs
from nnplay.runs import Run, RunManager
from nnplay.spec import ExperimentSpec

torch.set_num_threads(1)

TINY = {"data.n_samples": 100, "train.batch_size": 16, "train.max_steps": 40,
        "train.eval_every": 10}  # fmt: skip
WAIT = 60.0  # seconds a tiny run may take on a loaded machine before a test gives up


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch):
    """One torch thread per run (the manager gives each run cores // max_runs), so tests stay
    quick on a shared 2-core machine; torch's thread count is put back after each test."""
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    yield
    torch.set_num_threads(1)


def tiny(**changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({**TINY, **changes})


def finished(run: Run) -> dict:
    assert run.wait(WAIT), f"run still {run.status} after {WAIT} s"
    snap = run.snapshot()
    assert snap["status"] == "finished", snap["message"]
    return snap


def test_a_run_trains_in_its_own_thread_and_finishes() -> None:
    manager = RunManager(max_runs=2)
    run = manager.start(tiny())
    assert manager.get(run.id) is run and manager.runs() == [run]
    assert run.thread is not None and run.thread.name.startswith("run-")
    snap = finished(run)
    run.thread.join(WAIT)
    assert not run.thread.is_alive() and run.done
    assert snap["message"] == "" and snap["record"]["step"] == 40
    assert snap["progress"]["step"] == 40 and snap["progress"]["total_steps"] == 40


def test_snapshot_keys_and_shapes_for_a_2d_classifier() -> None:
    spec = tiny(**{"data.classes": 3})
    run = RunManager(max_runs=1).start(spec)
    snap = finished(run)
    assert {"id", "status", "message", "task", "spec", "info", "device", "progress", "steps",
            "evals", "activations", "grads", "view", "record", "created"} <= set(snap)
    assert snap["spec"] == spec.model_dump() and snap["task"] == "classification"
    assert snap["device"].startswith("CPU")

    steps = snap["steps"]
    assert steps["step"].tolist() == list(range(1, 41))
    assert steps["loss"].shape == steps["penalty"].shape == (40,)
    assert np.isfinite(steps["loss"]).all()

    evals = snap["evals"]
    assert set(evals) == {"step", "epoch", "train_loss", "test_loss", "train_acc", "test_acc"}
    assert evals["step"] == [10, 20, 30, 40]
    assert all(len(v) == 4 for v in evals.values())

    acts = snap["activations"]
    assert acts["names"] == ["relu2 (ReLU)", "relu4 (ReLU)"]
    assert acts["kinds"] == ["relu", "relu"]
    k = len(acts["step"])
    assert k >= 1
    for key in ("mean", "std", "dead", "saturated"):
        assert acts[key].shape == (k, 2)  # (samples, layers)
    assert np.isnan(acts["saturated"]).all()  # ReLU layers do not saturate
    assert ((acts["dead"] >= 0) & (acts["dead"] <= 1)).all()
    assert len(acts["hist"]) == 2

    grads = snap["grads"]
    assert grads["names"] == ["fc1", "fc3", "out"]
    assert grads["norm"].shape == (len(grads["step"]), 3) and len(grads["step"]) >= 1

    view = snap["view"]
    assert view["kind"] == "boundary" and view["cls"].shape == (100, 100)
    x_train, y_train = view["train"]
    x_test, y_test = view["test"]
    assert x_train.shape == (50, 2) and y_train.shape == (50,)
    assert x_test.shape == (50, 2) and y_test.shape == (50,)
    assert set(np.concatenate([y_train, y_test]).tolist()) == {0, 1, 2}


def test_snapshot_of_a_regression_run() -> None:
    run = RunManager(max_runs=1).start(tiny(**{"data.name": "sine", "loss.name": "MSELoss"}))
    snap = finished(run)
    assert snap["task"] == "regression"
    assert set(snap["evals"]) == {"step", "epoch", "train_loss", "test_loss"}
    view = snap["view"]
    assert view["kind"] == "curve" and view["train"][0].shape == view["train"][1].shape == (50,)


def test_snapshot_of_a_digits_run_has_misclassified_images() -> None:
    spec = ExperimentSpec().with_changes({
        "data.name": "digits", "train.max_steps": 20, "train.batch_size": 32,
        "train.eval_every": 10, "optimizer.lr": 0.001,
        "model.layers": [{"type": "linear", "units": 8}, {"type": "activation", "name": "ReLU"}],
    })  # fmt: skip
    snap = finished(RunManager(max_runs=1).start(spec))
    n_test = len(data.build(spec.data, spec.seed).y_test)
    view = snap["view"]
    assert view["kind"] == "images"
    assert view["confusion"].shape == (10, 10) and view["confusion"].sum() == n_test
    k = len(view["true"])
    assert 1 <= k <= 16  # 20 steps of a tiny net leave digits it gets wrong
    assert view["images"].shape == (k, 8, 8)
    assert len(view["pred"]) == k
    assert all(t != p for t, p in zip(view["true"], view["pred"]))
    assert view["class_names"] == [str(c) for c in range(10)]
    assert 0.0 <= view["images"].min() and view["images"].max() <= 1.0
    assert snap["activations"]["dead"].shape[1] == 1  # one ReLU layer


def test_a_snapshot_of_an_images_view_does_no_torch_work(monkeypatch) -> None:
    """The misclassified images are gathered in the training thread when the evaluation
    arrives: a torch op in the page's thread starts a second OpenMP team there, which slowed a
    two-thread run by ~25 % on two cores (the bench's c/b fell from ~0.95 to 0.75)."""
    spec = ExperimentSpec().with_changes({"data.name": "digits"})
    ds = data.build(spec.data, spec.seed)
    run = Run(spec)
    run.points = runs._points(ds)
    wrong = torch.zeros_like(ds.y_test)  # predicts 0 for every digit
    run.on_eval({"step": 10, "epoch": 1, "train_loss": 2.0, "test_loss": 2.0,
                 "view": instruments.confusion(wrong, ds.y_test, 10)})
    monkeypatch.setattr(runs, "_image_view", lambda *_: pytest.fail("gathered by the page"))
    view = run.snapshot()["view"]
    assert isinstance(view["images"], np.ndarray) and view["images"].shape == (16, 8, 8)
    assert view["pred"] == [0] * 16 and 0 not in view["true"]


def test_cap_of_one_runs_three_runs_one_at_a_time_in_order() -> None:
    manager = RunManager(max_runs=1)
    runs = [manager.start(tiny(seed=i, **{"train.max_steps": 150})) for i in range(3)]
    assert runs[2].ahead == 1
    seen_running: list[int] = []
    finish_order: list[int] = []
    deadline = time.monotonic() + 3 * WAIT
    while len(finish_order) < 3 and time.monotonic() < deadline:
        statuses = [r.status for r in runs]
        active = [i for i, s in enumerate(statuses) if s in ("running", "paused")]
        assert len(active) <= 1, statuses
        assert manager.running() <= 1
        if active and (not seen_running or seen_running[-1] != active[0]):
            seen_running.append(active[0])
        for i, s in enumerate(statuses):
            if s not in ("queued", "running", "paused") and i not in finish_order:
                finish_order.append(i)
        # FIFO: everything before the running run is done, everything after it still waits
        if active:
            i = active[0]
            assert all(r.done for r in runs[:i]), statuses
            assert all(s == "queued" for s in statuses[i + 1:]), statuses
        time.sleep(0.002)
    assert finish_order == [0, 1, 2]
    assert [r.status for r in runs] == ["finished"] * 3
    assert seen_running == sorted(seen_running)  # never back to an earlier run
    assert all(r.wait(WAIT) for r in runs)
    assert manager.running() == 0  # done means the slot is free too


def test_a_done_run_no_longer_holds_a_slot_or_counts_for_its_owner() -> None:
    """The end of a run is one step: the moment wait() returns, the manager has retired it."""
    manager = RunManager(max_runs=1)
    for i in range(5):
        run = manager.start(tiny(seed=i, **{"train.max_steps": 3}), owner="me")
        assert run.wait(WAIT) and run.done
        assert manager.running() == 0 and manager.active("me") == 0, i
    first = manager.start(tiny(**{"train.max_steps": 0, "train.epochs": 500}), owner="me")
    queued = manager.start(tiny(), owner="me")
    manager.stop(queued.id)
    assert queued.done and manager.active("me") == 1  # only the first still counts
    manager.stop(first.id)
    assert first.wait(WAIT) and manager.running() == 0 and manager.active("me") == 0


def test_stop_a_queued_run_and_a_running_one() -> None:
    manager = RunManager(max_runs=1)
    first = manager.start(tiny(**{"train.max_steps": 0, "train.epochs": 500}))
    queued = manager.start(tiny())
    assert queued.status == "queued" and queued.ahead == 0
    manager.stop(queued.id)
    assert queued.wait(1.0)
    assert queued.status == "stopped" and queued.message == "Stopped before it started."
    assert queued.ahead is None
    assert queued.snapshot()["steps"]["step"].size == 0
    manager.stop(first.id)
    assert first.wait(WAIT)
    assert first.status == "stopped" and first.message.startswith("Stopped at step ")
    assert queued.thread is None  # never started
    manager.stop("no-such-run")  # unknown ids are ignored


def test_a_paused_start_waits_until_resumed() -> None:
    manager = RunManager(max_runs=1)
    run = manager.start(tiny(), paused=True)
    deadline = time.monotonic() + WAIT
    while run.snapshot()["info"] == {} and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    snap = run.snapshot()
    assert snap["status"] == "paused" and snap["steps"]["step"].size == 0
    run.control.step()
    deadline = time.monotonic() + WAIT
    while run.snapshot()["steps"]["step"].size < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.snapshot()["steps"]["step"].tolist() == [1]
    run.control.resume()
    finished(run)


def test_a_run_whose_data_is_unavailable_fails_with_a_sentence(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MNIST files that exist (so nothing is downloaded) but cannot be read
    data.write_idx_files(tmp_path, "mnist", 20, 10)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    monkeypatch.setenv("NNPLAY_DATA_DIR", str(tmp_path))
    spec = ExperimentSpec().with_changes({"data.name": "mnist", "data.subset": 20,
                                          "train.max_steps": 5})  # fmt: skip
    run = RunManager(max_runs=1).start(spec)
    assert run.wait(WAIT)
    snap = run.snapshot()
    assert snap["status"] == "failed"
    message = snap["message"]
    assert "MNIST files in" in message and "could not be read" in message
    assert "Traceback" not in message and "\n" not in message
    assert snap["record"] is None and snap["steps"]["step"].size == 0


def test_a_setup_error_ends_the_run_failed() -> None:
    def broken(spec, device):
        raise RuntimeError("no model for you")

    run = RunManager(max_runs=1).start(tiny(), setup=broken)
    assert run.wait(WAIT)
    assert (run.status, run.message) == ("failed", "RuntimeError: no model for you")


def test_wait_for_data_returns_with_the_first_losses_or_at_the_end() -> None:
    manager = RunManager(max_runs=1)
    run = manager.start(tiny(**{"train.max_steps": 100_000, "data.n_samples": 1000}))
    assert run.wait_for_data(WAIT)
    assert run.snapshot()["steps"]["step"].size > 0 and not run.done  # data, mid-run
    manager.stop(run.id)

    def broken(spec, device):
        raise RuntimeError("no model for you")

    failed = manager.start(tiny(), setup=broken)
    assert failed.wait_for_data(WAIT) and failed.wait(WAIT)  # no data ever: the end releases it
    queued = RunManager(max_runs=1)
    long = {"train.max_steps": 100_000, "data.n_samples": 1000}  # thousands of steps
    first, second = queued.start(tiny(**long)), queued.start(tiny())
    assert second.status == "queued" and not second.wait_for_data(0.05)
    queued.stop(first.id)
    queued.stop(second.id)
