"""Tests for nnplay.executors: CPU runs in worker processes supervised by a thread of the server
give the losses, keyframes and checkpoint of the same run in a thread, bit for bit; Pause, Step,
Stop and setting changes reach the worker; a worker that dies fails its run with a sentence and
the server carries on; closing the manager leaves no worker process behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
import torch

from nnplay import executors, keyframes, settings, train
from nnplay.runs import Run, RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store

torch.set_num_threads(1)

SHORT = {"data.n_samples": 200, "train.batch_size": 16, "train.max_steps": 300,
         "train.eval_every": 25}  # fmt: skip
LONG = {"train.max_steps": 20_000, "train.epochs": 500}  # a run that only ends when stopped
WAIT = 90.0  # seconds a short run may take on a loaded machine (a worker's first start too)


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch):
    """One torch thread per run, as tests/test_runs.py does on a shared 2-core machine."""
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    yield
    torch.set_num_threads(1)


def spec(**changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({**SHORT, **changes})


def ended(run: Run, status: str = "finished") -> dict:
    assert run.wait(WAIT), f"run still {run.status} after {WAIT} s"
    snap = run.snapshot()
    assert snap["status"] == status, snap["message"]
    return snap


def until(condition, what: str, timeout: float = WAIT) -> None:
    """Wait for condition() (polled), failing with what when it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def worker_of(manager: RunManager, run: Run):
    """The worker process training run."""
    process = manager._executors["process"]
    until(lambda: any(w.name.endswith(run.id[:8]) for w in process.workers()), "a worker")
    return next(w for w in process.workers() if w.name.endswith(run.id[:8]))


def tensors_in(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, dict):
        return any(tensors_in(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(tensors_in(v) for v in value)
    return False


def test_the_setting_chooses_the_executor_and_processes_are_the_default() -> None:
    assert settings.value("NNPLAY_EXECUTOR", {}) == "process"
    assert settings.value("NNPLAY_EXECUTOR", {"NNPLAY_EXECUTOR": "thread"}) == "thread"
    assert settings.value("NNPLAY_EXECUTOR", {"NNPLAY_EXECUTOR": "ray"}) == "process"
    assert settings.problems({"NNPLAY_EXECUTOR": "ray"}) == [
        "NNPLAY_EXECUTOR='ray' is not one of process or thread, so the default (process) is "
        "used."]
    assert set(executors.EXECUTORS) == {"thread", "process"}


def test_a_process_run_equals_the_same_run_in_a_thread_bit_for_bit(tmp_path,
                                                                   monkeypatch) -> None:
    received: list[tuple] = []
    receive = Run.receive
    monkeypatch.setattr(Run, "receive", lambda run, m: received.append(m) or receive(run, m))
    snaps, frames, weights = {}, {}, {}
    for name in ("thread", "process"):
        store = Store(tmp_path / name)
        manager = RunManager(store=store, executor=name)
        assert manager.ready(WAIT)
        try:
            run = manager.start(spec(seed=3), owner="me")
            snaps[name] = ended(run)
            frames[name] = {s: store.load_keyframe(run.id, s) for s in run.frames()}
            weights[name] = torch.load(store.checkpoints / f"{run.id}.pt", weights_only=True)
            assert run.thread is not None and run.thread.name == f"run-{run.id[:8]}"
        finally:
            manager.close()
    thread, process = snaps["thread"], snaps["process"]
    for key in thread["steps"]:
        assert np.array_equal(thread["steps"][key], process["steps"][key]), key
    assert thread["evals"] == process["evals"] and thread["record"] == process["record"]
    assert thread["message"] == process["message"]
    del thread["info"]["device"], process["info"]["device"]  # this test patches the core count
    assert thread["info"] == process["info"]
    # activations and gradient norms are sampled by the clock (and at every evaluation), so a
    # loaded machine samples other steps: at the steps both sampled they are the same
    for what, key in (("activations", "mean"), ("grads", "norm")):
        rows = [dict(zip(snap[what]["step"], snap[what][key])) for snap in (thread, process)]
        common = rows[0].keys() & rows[1].keys()
        assert set(range(25, 300, 25)) <= common, what
        assert all(np.array_equal(rows[0][s], rows[1][s]) for s in common), what
    assert thread["view"].keys() == process["view"].keys()  # the data points drawn under it
    assert frames["thread"] == frames["process"] and len(frames["process"]) > 2
    assert weights["thread"].keys() == weights["process"].keys()
    assert all(torch.equal(weights["thread"][k], weights["process"][k]) for k in weights["thread"])
    kinds = {m[0] for m in received}
    assert {"points", "start", "flush", "eval", "keyframe", "end"} <= kinds
    assert not any(tensors_in(m) for m in received)  # plain data: numpy, lists, bytes


def test_pause_step_change_and_stop_reach_the_worker(tmp_path) -> None:
    before = set(multiprocessing.active_children())
    manager = RunManager(store=Store(tmp_path), executor="process")
    assert manager.ready(WAIT)  # else a first run trains in a thread
    try:
        run = manager.start(spec(**LONG), owner="me", paused=True)
        until(lambda: run.info, "the worker's start")
        assert run.snapshot()["status"] == "paused" and run.progress["step"] == 0
        for _ in range(3):
            assert manager.control(run.id, "me", "step")
        until(lambda: run.progress["step"] == 3, "three single steps")
        assert manager.change(run.id, "me", "optimizer.lr", 0.05) is None
        assert manager.control(run.id, "me", "resume")
        until(lambda: run.changes and run.progress["step"] > 50, "the change, then training")
        assert run.changes[0].setting == "optimizer.lr" and run.changes[0].value == 0.05
        assert run.changes[0].step == 4  # the first step after the three taken paused
        assert run.current_spec().optimizer.lr == 0.05
        assert manager.control(run.id, "me", "pause")
        assert run.snapshot()["status"] == "paused"  # shown at once, as for a thread run
        run.wait(0.5)  # the worker, paused, blocks until Stop (it counts the time it waited)
        assert manager.control(run.id, "me", "stop")
        snap = ended(run, "stopped")
        assert snap["message"] == f"Stopped at step {snap['progress']['step']:,}."
        assert run.control.waited > 0  # the worker's, sent with its last flush
        assert snap["changes"][0]["value"] == 0.05
    finally:
        manager.close()
    assert not alive_since(before)


def test_a_killed_worker_fails_its_run_with_a_sentence_and_the_server_goes_on(tmp_path) -> None:
    manager = RunManager(store=Store(tmp_path), executor="process")
    assert manager.ready(WAIT)  # else a first run trains in a thread
    try:
        run = manager.start(spec(**LONG), owner="me")
        worker = worker_of(manager, run)
        assert run.wait_for_data(WAIT)
        os.kill(worker.pid, signal.SIGKILL)
        snap = ended(run, "failed")
        assert snap["message"] == (
            "The run's worker process was killed by SIGKILL (the server may have run out of "
            "memory) before the run ended; start it again, perhaps with a smaller model or "
            "batch.")
        assert manager.running() == 0 and not worker.is_alive()
        stored = manager.store.run(run.id)
        assert stored["status"] == "failed" and stored["checkpoint"] is None
        ended(manager.start(spec(), owner="me"))  # the next run trains as before
    finally:
        manager.close()


def alive_since(before: set) -> list:
    """Child processes alive now that were not before (other tests' managers may still hold
    theirs: a suite shares this process)."""
    return [p for p in multiprocessing.active_children() if p not in before]


def test_a_crashing_worker_is_a_failed_run_not_a_crashed_server() -> None:
    run = Run(spec())
    run.remote_ended(3, None)
    assert run.done and run.status == "failed"
    assert run.message == ("The run's worker process ended unexpectedly (exit code 3) before "
                           "the run ended; start it again.")


def test_close_and_delete_end_every_worker_process(tmp_path) -> None:
    before = set(multiprocessing.active_children())
    manager = RunManager(max_runs=3, store=Store(tmp_path), executor="process")
    assert manager.ready(WAIT)  # else a first run trains in a thread
    started = [manager.start(spec(**LONG, seed=s), owner="me") for s in range(3)]
    workers = [worker_of(manager, run) for run in started]
    assert all(w.is_alive() for w in workers)
    manager.delete(started[0].id, "me")
    until(lambda: not workers[0].is_alive(), "the deleted run's worker to end")
    manager.close()
    assert all(run.done for run in started) and started[1].status == "stopped"
    assert not any(w.is_alive() for w in workers)
    assert not alive_since(before)


def test_a_branch_goes_on_in_a_worker_from_its_keyframe_exactly(tmp_path) -> None:
    manager = RunManager(store=Store(tmp_path), executor="process")
    assert manager.ready(WAIT)  # else a first run trains in a thread
    try:
        parent = manager.start(spec(), owner="me")
        whole = ended(parent)
        step = [s for s in parent.frames() if 50 < s < 250][0]
        child = manager.branch(parent.id, step, "me", parent.spec)
        branch = ended(child)
        k = int(np.searchsorted(whole["steps"]["step"], step, side="right"))
        assert np.array_equal(branch["steps"]["step"], whole["steps"]["step"][k:])
        assert np.array_equal(branch["steps"]["loss"], whole["steps"]["loss"][k:])
        assert keyframes.deserialise(manager.store.load_keyframe(child.id, step))["step"] == step
    finally:
        manager.close()


def own_setup(s: ExperimentSpec, device):
    """A setup of the run's own, as a race passes one to share its data: a worker cannot."""
    return train.prepare(s, device)


def test_runs_with_their_own_setup_and_unavailable_devices_stay_in_threads(tmp_path) -> None:
    manager = RunManager(max_runs=4, store=Store(tmp_path), executor="process")
    assert manager.ready(WAIT)  # else a first run trains in a thread
    try:
        mine = manager.start(spec(), owner="me", setup=own_setup)
        assert isinstance(manager._executor_for(mine), executors.ThreadExecutor)
        ended(mine)
        assert mine.thread.name == f"run-{mine.id[:8]}"
        plain = manager.start(spec(), owner="me")
        assert isinstance(manager._executor_for(plain), executors.ProcessExecutor)
        ended(plain)
        if not torch.cuda.is_available():
            gpu = manager.start(spec(**{"train.device": "cuda"}), owner="me")
            assert isinstance(manager._executor_for(gpu), executors.ThreadExecutor)
            assert "not available" in ended(gpu, "failed")["message"]
    finally:
        manager.close()


def test_a_run_started_before_the_worker_server_is_up_trains_in_a_thread(tmp_path,
                                                                          monkeypatch) -> None:
    """A first Train right after a cold start does not wait seconds for the fork server."""
    manager = RunManager(store=Store(tmp_path), executor="process")
    launched: list = []
    monkeypatch.setattr(executors.ProcessExecutor, "ready", lambda self, timeout=None: False)
    monkeypatch.setattr(executors.ProcessExecutor, "launch", lambda *a: launched.append(a))
    try:
        assert ended(manager.start(spec()))["progress"]["step"] == 300
        assert not launched
    finally:
        manager.close()
