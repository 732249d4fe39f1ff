"""The SQLite store: batched writes, histories, checkpoints, and a restart that keeps finished
runs and marks the cut one interrupted."""

from __future__ import annotations

import math
import sqlite3
import time

import numpy as np
import pytest
import torch

from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store, dumps, loads

torch.set_num_threads(1)

SMALL = ExperimentSpec().with_changes({"data.n_samples": 200, "train.max_steps": 60})


def test_json_round_trip_keeps_arrays_and_nan():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [float("nan"), 1.0],
             "c": ("x", 2)}
    back = loads(dumps(value))
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    assert np.array_equal(back["a"], value["a"])
    assert math.isnan(back["b"][0]) and back["c"] == ["x", 2]


def test_batched_rows_reach_the_database(tmp_path):
    store = Store(tmp_path)
    store.create("a" * 32, SMALL.to_json(), "me", time.time())
    store.steps("a" * 32, [1, 2, 3], [0.5, float("nan"), 0.25], [0.0, 0.0, 0.0])
    store.evaluation("a" * 32, {"step": 3, "test_loss": 0.3})
    store.close()
    reopened = Store(tmp_path)
    history = reopened.history("a" * 32)
    assert history["step"] == [1, 2, 3]
    assert history["loss"][0] == 0.5 and math.isnan(history["loss"][1])
    assert history["evals"] == [{"step": 3, "test_loss": 0.3}]
    assert reopened.run("a" * 32)["owner"] == "me"
    reopened.close()


def test_a_store_made_before_the_l1_and_l2_columns_gains_them(tmp_path):
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:  # the steps table as it was
        db.execute("CREATE TABLE steps (run_id TEXT NOT NULL, step INTEGER NOT NULL, loss REAL, "
                   "penalty REAL)")
        db.execute("INSERT INTO steps VALUES ('c', 1, 0.5, 0.25)")
    store = Store(tmp_path)
    store.steps("c", [2], [0.4], [0.3], [0.1], [0.2])
    store.flush()
    history = store.history("c")
    store.close()
    assert history["penalty"] == [0.25, 0.3] and history["l2"][1] == 0.2
    assert math.isnan(history["l1"][0]) and math.isnan(history["l2"][0])


def test_writes_after_close_are_dropped_not_raised(tmp_path):
    store = Store(tmp_path)
    store.close()
    store.steps("b" * 32, [1], [0.1], [0.0])
    store.flush()


def test_finished_run_is_stored_with_checkpoint_and_rebuilt(tmp_path):
    manager = RunManager(max_runs=1, store=Store(tmp_path), threads=1)
    run = manager.start(SMALL, owner="me")
    assert run.wait(60) and run.status == "finished"
    live = run.snapshot()
    manager.close()

    manager = RunManager(max_runs=1, store=Store(tmp_path), threads=1)
    again = manager.get(run.id)
    assert again is not run and again.status == "finished"
    snap = again.snapshot()
    assert np.array_equal(snap["steps"]["loss"], live["steps"]["loss"])
    assert snap["evals"] == live["evals"]
    assert snap["record"] == live["record"]
    assert snap["view"]["kind"] == live["view"]["kind"] == "boundary"
    assert np.array_equal(snap["view"]["train"][0], live["view"]["train"][0])
    assert snap["activations"]["mean"].shape == live["activations"]["mean"].shape
    state = manager.store.load_state_dict(run.id)
    assert set(state) == {"fc1.weight", "fc1.bias", "fc3.weight", "fc3.bias", "out.weight",
                          "out.bias"}
    assert (tmp_path / "checkpoints" / f"{run.id}.json").read_text() == SMALL.to_json()
    manager.close()


def test_restart_keeps_finished_runs_and_marks_the_cut_one_interrupted(tmp_path):
    first = RunManager(max_runs=2, threads=1, store=Store(tmp_path),
                       limits=Limits(max_epochs=1000, max_steps=10**6))
    done = first.start(SMALL, owner="me")
    assert done.wait(60)
    long = first.start(SMALL.with_changes({"train.max_steps": 100_000, "train.epochs": 1000}),
                       owner="me")
    deadline = time.monotonic() + 60
    while len(long.snapshot()["steps"]["step"]) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.store.close()  # the server goes away mid-run: nothing more reaches the file
    cut_steps = first.store.history(long.id)["step"]

    second = RunManager(max_runs=2, threads=1, store=Store(tmp_path))
    try:
        finished = second.get(done.id)
        assert finished.status == "finished"
        assert finished.snapshot()["steps"]["step"].tolist() == list(range(1, 61))
        interrupted = second.get(long.id)
        assert interrupted.status == "interrupted"
        assert "restarted" in interrupted.message
        assert interrupted.snapshot()["steps"]["step"].tolist() == cut_steps
        assert len(cut_steps) >= 50
        listed = {e["id"]: e["status"] for e in second.listing("me")}
        assert listed == {done.id: "finished", long.id: "interrupted"}
    finally:
        long.control.stop()
        long.wait(30)
        second.close()


def test_listing_is_per_owner_and_links_add_to_it(tmp_path):
    manager = RunManager(max_runs=2, threads=1, store=Store(tmp_path), limits=Limits())
    mine = manager.start(SMALL, owner="alice")
    theirs = manager.start(SMALL, owner="bob")
    mine.wait(60), theirs.wait(60)
    assert [e["id"] for e in manager.listing("alice")] == [mine.id]
    assert [e["id"] for e in manager.listing("bob")] == [theirs.id]
    assert manager.open(mine.id, "bob") is mine
    assert {e["id"] for e in manager.listing("bob")} == {mine.id, theirs.id}
    assert not next(e for e in manager.listing("bob") if e["id"] == mine.id)["mine"]
    # bob may not rename or delete alice's run: deleting only takes it off his list
    assert not manager.rename(mine.id, "bob's now", "bob")
    manager.delete(mine.id, "bob")
    assert [e["id"] for e in manager.listing("bob")] == [theirs.id]
    assert manager.rename(mine.id, "  first\ntry  ", "alice")
    assert manager.listing("alice")[0]["name"] == "first try"
    manager.delete(mine.id, "alice")
    assert manager.listing("alice") == [] and manager.get(mine.id) is None
    assert not (tmp_path / "checkpoints" / f"{mine.id}.pt").exists()
    manager.close()


@pytest.mark.parametrize("bad", ["", "x", "../etc/passwd", "A" * 32, "0" * 31, "' OR 1=1 --"])
def test_unknown_or_malformed_ids_are_none(tmp_path, bad):
    manager = RunManager(store=Store(tmp_path))
    assert manager.get(bad) is None
    assert manager.open(bad, "me") is None
    manager.delete(bad, "me")
    manager.close()


def test_finished_runs_leave_memory_but_not_the_store(tmp_path):
    manager = RunManager(max_runs=2, threads=1, store=Store(tmp_path), keep_finished=2)
    runs = [manager.start(SMALL, owner="me") for _ in range(5)]
    for run in runs:
        assert run.wait(60)
    assert len(manager.runs()) == 2  # done means retired: no wait for the manager
    assert all(run.points == {} for run in runs)  # tensors released once stored
    old = manager.get(runs[0].id)
    assert old is not runs[0] and old.snapshot()["record"] == runs[0].snapshot()["record"]
    assert len(manager.listing("me")) == 5
    manager.close()
