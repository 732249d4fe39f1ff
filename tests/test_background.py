"""A process that exits while runs train ends cleanly: the threads inside torch are stopped and
waited for (nnplay.background) instead of being cut off, which aborts the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nnplay import background, keyframes

ROOT = Path(__file__).resolve().parents[1]

# Starts two long runs, waits until both train, and exits with them mid-step.
EXIT_WHILE_TRAINING = textwrap.dedent("""
    import sys, time
    from nnplay import runs
    from nnplay.presets import load
    from nnplay.store import Store
    manager = runs.RunManager(max_runs=2, executor=sys.argv[1], store=Store(sys.argv[2]))
    assert manager.ready(120)  # processes, not the threads a first run falls back to
    spec = load("spiral").spec.with_changes({"train.max_steps": 1_000_000})
    started = [manager.start(spec) for _ in range(2)]
    while not all(run.steps["loss"] for run in started):
        time.sleep(0.05)
    print(" ".join(run.id for run in started), flush=True)
""")


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_exiting_while_runs_train_stops_them_and_exits_cleanly(tmp_path, executor) -> None:
    db = tmp_path / "runs.db"
    done = subprocess.run([sys.executable, "-c", EXIT_WHILE_TRAINING, executor, str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]  # 134 (abort) before
    assert "terminate called" not in done.stderr
    from nnplay.store import Store
    store = Store(db)
    try:
        assert {store.run(run_id)["status"] for run_id in done.stdout.split()} == {"stopped"}
    finally:
        store.close()


def test_finish_stops_then_waits_for_every_thread_alive() -> None:
    stop = threading.Event()
    worker = background.start(stop.wait, name="test-waits")
    background.on_exit(stop.set)
    try:
        started = time.monotonic()
        background.finish(seconds=10)
        assert not worker.is_alive() and time.monotonic() - started < 5
    finally:
        background._stoppers.remove(stop.set)


def test_the_keyframe_writer_ends_when_idle_and_comes_back_for_the_next() -> None:
    stored: list[int] = []
    writer = keyframes.Writer()
    writer.IDLE_SECONDS = 0.05
    copied = {"step": 1, "model": {}, "optimizer": {}, "rng": None}
    for step in (1, 2):
        writer.put(copied | {"step": step}, lambda s, data: stored.append(s), pytest.fail)
        writer.drain()
        deadline = time.monotonic() + 5
        while writer._thread is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer._thread is None
    assert stored == [1, 2]
