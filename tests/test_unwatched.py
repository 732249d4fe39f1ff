"""What a paused run may hold: its training slot while a page shows it, not after its tab closed."""

from __future__ import annotations

import time

from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec

BASE = ExperimentSpec().with_changes({"data.n_samples": 300, "train.epochs": 3})


def paused_run(manager: RunManager):
    """A run started paused, once its thread holds a slot."""
    run = manager.start(BASE, owner="a", paused=True)
    deadline = time.monotonic() + 60
    while run.status != "paused" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.status == "paused" and manager.running() == 1
    return run


def test_a_paused_run_that_a_page_shows_keeps_its_slot():
    manager = RunManager(max_runs=1, threads=1, limits=Limits(max_unwatched_minutes=1))
    run = paused_run(manager)
    run.snapshot()  # its page polls it
    assert manager.get(run.id) is run and not run.control.stopping
    assert run.snapshot()["status"] == "paused"
    manager.close()


def test_a_paused_run_no_page_shows_is_stopped_and_frees_its_slot():
    manager = RunManager(max_runs=1, threads=1, limits=Limits(max_unwatched_minutes=1))
    run = paused_run(manager)
    run.seen -= 61  # as if its tab had closed a minute ago: no snapshot read since
    other = manager.start(BASE, owner="b")  # no queue had formed; the next start reaps it
    assert run.wait(30) and run.status == "stopped"
    assert "left paused with no page showing it for 1 minute," in run.message
    assert other.wait(60) and other.status == "finished"  # it got the freed slot
    manager.close()


def test_a_running_run_is_not_reaped_when_unwatched():
    manager = RunManager(max_runs=1, threads=1, limits=Limits(max_unwatched_minutes=1))
    run = manager.start(BASE.with_changes({"train.epochs": 2}), owner="a")
    run.seen -= 3600  # it trains on with no page open, as runs that survive a refresh do
    manager.get(run.id)
    assert run.wait(60) and run.status == "finished"
    manager.close()
