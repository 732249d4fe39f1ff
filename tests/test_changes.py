"""Settings changed while a run trains: applied at the recorded step, recorded with the run (and
its store), replayed bit for bit, drawn on the loss chart, refused with a sentence."""

from __future__ import annotations

import json

import plotly.io
import pytest
import torch

from nnplay import charts, runs, train
from nnplay.spec import ExperimentSpec, SettingChange, SpecError, check_change, parse_change
from nnplay.store import Store

torch.set_num_threads(1)
CPU = torch.device("cpu")


def small(**changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({"data.n_samples": 100, "train.max_steps": 20,
                                          "optimizer.name": "SGD", "optimizer.lr": 0.1,
                                          **changes})  # fmt: skip


@pytest.fixture
def seen_groups(monkeypatch) -> list[dict]:
    """The SGD param_groups' settings at every optimizer.step() of the runs in a test."""
    seen: list[dict] = []

    class Watched(torch.optim.SGD):
        def step(self, closure=None):
            g = self.param_groups[0]
            seen.append({k: g[k] for k in ("lr", "momentum", "weight_decay")})
            return super().step(closure)

    monkeypatch.setitem(train.OPTIMIZER_BUILDERS, "SGD", lambda p, o: Watched(
        p, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay))
    return seen


class Changes(train.Callback):
    def __init__(self) -> None:
        self.seen: list[SettingChange] = []

    def on_change(self, change: SettingChange) -> None:
        self.seen.append(change)


def test_scheduled_changes_apply_from_their_step_on(seen_groups):
    changes = [SettingChange(step=7, setting="optimizer.lr", value=0.01),
               SettingChange(step=12, setting="optimizer.momentum", value=0.5),
               SettingChange(step=12, setting="optimizer.weight_decay", value=0.001)]
    cb = Changes()
    result = train.run_spec(small(), [cb], device=CPU, changes=changes)
    assert result.status == "finished"
    assert [g["lr"] for g in seen_groups] == [0.1] * 6 + [0.01] * 14  # step 7 is the first
    assert [g["momentum"] for g in seen_groups] == [0.0] * 11 + [0.5] * 9
    assert [g["weight_decay"] for g in seen_groups] == [0.0] * 11 + [0.001] * 9
    assert cb.seen == changes


def test_l1_and_l2_changes_reach_the_penalty():
    spec = small(**{"train.eval_every": 5})
    a = train.run_spec(spec, device=CPU).history
    b = train.run_spec(spec, device=CPU, changes=[
        SettingChange(step=11, setting="train.l2", value=0.1)]).history
    assert a[:2] == b[:2]  # steps 5 and 10: the same
    assert a[2] != b[2]  # from step 11 the penalty moves the weights


def test_a_live_change_is_recorded_at_the_next_step_and_replays_bit_for_bit(tmp_path,
                                                                            seen_groups):
    spec = small(**{"train.max_steps": 30, "train.eval_every": 5})
    # in a thread: seen_groups watches the optimiser in this process (tests/test_executors.py
    # changes a setting of a run in a worker process)
    manager = runs.RunManager(max_runs=1, store=Store(tmp_path), threads=1, executor="thread")
    try:
        run = manager.start(spec, owner="me", paused=True)
        for _ in range(9):
            run.control.step()
        while run.progress["step"] < 9 or not run.control.must_wait():
            run.wait(0.05)
        assert manager.change(run.id, "someone else", "optimizer.lr", 0.02) is not None
        assert manager.change(run.id, "me", "optimizer.lr", 0.02) is None
        assert run.current_spec().optimizer.lr == 0.02
        assert "no momentum" not in (manager.change(run.id, "me", "optimizer.momentum", 0.3)
                                     or "")
        run.control.resume()
        assert run.wait(60)
        snap = run.snapshot()
        assert snap["status"] == "finished"
        assert snap["changes"] == [
            {"step": 10, "setting": "optimizer.lr", "value": 0.02},
            {"step": 10, "setting": "optimizer.momentum", "value": 0.3},
        ]
        assert [g["lr"] for g in seen_groups] == [0.1] * 9 + [0.02] * 21
        # the run store keeps them: a reload (or the Runs page) sees them
        restored = runs.Run.restore(manager.store.run(run.id), manager.store.history(run.id))
        assert restored.snapshot()["changes"] == snap["changes"]
        # and replaying them at their steps gives the same run, bit for bit
        replay = train.run_spec(spec, device=CPU, changes=restored.changes)
        assert [e["test_loss"] for e in replay.history] == snap["evals"]["test_loss"]
        assert manager.change(run.id, "me", "optimizer.lr", 0.5) == \
            "This run has ended; the change applies to the next run."
    finally:
        manager.close()


def test_changes_are_checked_with_a_sentence():
    spec = ExperimentSpec()  # Adam
    assert parse_change("1500:optimizer.lr=0.001") == SettingChange(
        step=1500, setting="optimizer.lr", value=0.001)
    for text, says in [("1500 optimizer.lr", "is not STEP:setting=value"),
                       ("5:data.noise=0.2", "cannot change while a run trains"),
                       ("5:optimizer.lr=50", "optimizer.lr"),
                       ("5:optimizer.momentum=0.5", "Adam has no momentum"),
                       ("0:optimizer.lr=0.1", "step")]:
        with pytest.raises(SpecError, match=says):
            parse_change(text, spec)
    assert check_change(spec, "train.l1", "0.25") == 0.25


def test_the_loss_chart_marks_each_change():
    snap = {"steps": {"step": [1, 2, 3, 4], "loss": [1.0, 0.9, 0.8, 0.7], "penalty": [0] * 4},
            "evals": {}, "changes": [{"step": 3, "setting": "optimizer.lr", "value": 0.001}]}
    fig = json.loads(plotly.io.to_json(charts.loss_chart(snap), validate=False))
    assert any(s["type"] == "line" and s["x0"] == 3 for s in fig["layout"]["shapes"])
    assert any(a["text"] == "lr → 0.001" for a in fig["layout"]["annotations"])
