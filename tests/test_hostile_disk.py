"""The disk fills up or the home folder is read-only (a student's uploads, or everyone's runs):
one sentence, the app keeps serving, nothing stuck "queued" or "running", and what was buffered
is stored once space returns."""

from __future__ import annotations

import sqlite3

import pytest
import torch

from nnplay import tabular
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store, open_store

torch.set_num_threads(1)
OWNER = "a" * 32
SMALL = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 30})


def fill(store: Store) -> None:
    """Make SQLite report the disk full: cap the writer's database at its size and fill it."""
    db = store._writer_db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    fillers = ("INSERT INTO opened VALUES (?, ?, 0)",
               "INSERT INTO runs (id, spec, status, created) VALUES (?, ?, 'finished', 0)")
    for sql in fillers:  # each table's pages, big rows then smaller ones into what is left
        for size in (2000, 200, 20, 1):
            with pytest.raises(sqlite3.OperationalError, match="full"):
                for i in range(10_000):
                    with db:
                        db.execute(sql, (f"{size}.{i}.{sql[12]}", "x" * size))


def make_room(store: Store) -> None:
    """Space comes back."""
    store._writer_db.execute("PRAGMA max_page_count = 1073741823")


def test_buffered_steps_are_kept_once_space_returns(tmp_path) -> None:
    store = Store(tmp_path)
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    run = manager.start(SMALL, owner=OWNER, paused=True)  # recorded while there is room
    fill(store)
    run.control.resume()
    assert run.wait(120) and run.status == "finished"
    assert store.run(run.id)["status"] != "finished"  # its end is waiting for space, not lost
    make_room(store)
    store.flush()
    row = store.run(run.id)
    assert row["status"] == "finished"
    assert len(store.history(run.id)["step"]) == len(run.steps["step"]) > 0
    manager.close()


def test_a_run_started_on_a_full_disk_trains_and_is_not_left_queued(tmp_path) -> None:
    store = Store(tmp_path)
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    fill(store)
    run = manager.start(SMALL, owner=OWNER)
    assert run.wait(120) and run.status == "finished"
    assert "not being kept" in run.message
    assert manager.active(OWNER) == 0  # nothing counts against the browser's cap
    make_room(store)
    store.flush()
    assert store.run(run.id) is None  # no row left behind as "queued"
    manager.close()


def test_weights_that_cannot_be_written_still_record_the_end(tmp_path) -> None:
    store = Store(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store.checkpoints = blocker  # every checkpoint write now fails with an OSError
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    run = manager.start(SMALL.with_changes({"train.epochs": 2}), owner=OWNER)
    assert run.wait(120) and run.status == "finished"
    assert "weights could not be saved" in run.message
    assert store.run(run.id)["status"] == "finished"  # not left "running"
    manager.close()


def test_a_home_that_cannot_be_written_still_trains(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NNPLAY_HOME", str(blocker / "home"))
    store, problem = open_store()
    assert store is None and "not being kept" in problem and problem.count(". ") == 0
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    run = manager.start(SMALL.with_changes({"train.epochs": 2}), owner=OWNER)
    assert run.wait(120) and run.status == "finished"
    with pytest.raises(tabular.CsvError, match="cannot keep uploads"):
        tabular.save_upload(b"a,b\n" + b"1,2\n" * 20)
    manager.close()


def test_pruning_takes_the_oldest_finished_checkpoints_first(tmp_path) -> None:
    store = Store(tmp_path)
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    done = []
    for seed in range(3):
        run = manager.start(SMALL.with_changes({"train.epochs": 1, "seed": seed}), owner=OWNER)
        assert run.wait(120) and run.status == "finished"
        done.append(run.id)
    running = manager.start(SMALL.with_changes({"train.epochs": 400}), owner=OWNER, paused=True)
    store.checkpoints.joinpath(f"{running.id}.pt").write_bytes(b"0" * 10_000)  # its own files
    size = store.checkpoints.joinpath(f"{done[0]}.pt").stat().st_size
    base = sum(f.stat().st_size for f in tmp_path.glob("runs.sqlite*"))
    files = sum(f.stat().st_size for f in store.checkpoints.iterdir())
    pruned = store.prune(base + files - size)  # room for all but about one checkpoint
    assert pruned[0] == done[0] and running.id not in pruned
    assert store.checkpoint_path(done[0]) is None and store.checkpoint_path(done[-1]) is not None
    assert store.prune(0) == done[1:]  # never the running run's, however small the limit
    assert store.checkpoints.joinpath(f"{running.id}.pt").exists()
    manager.close()
