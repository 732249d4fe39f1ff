"""Tests for branching a run from a past step (nnplay.branch and RunManager.branch): the start
state, what a branch may change, ownership, outliving its parent, and the exported script."""

from __future__ import annotations

import pytest
import torch

from nnplay import branch, codegen, keyframes, remedies, train
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec, SettingChange
from nnplay.store import Store
from tests.test_codegen_changes import TOLERANCE, script_evaluations

torch.set_num_threads(1)

SPEC = ExperimentSpec().with_changes({"data.n_samples": 120, "train.batch_size": 16,
                                      "train.max_steps": 160, "train.eval_every": 10})


@pytest.fixture
def manager(tmp_path):
    m = RunManager(max_runs=2, threads=1, store=Store(tmp_path), limits=Limits())
    yield m
    m.close()


def finished(manager: RunManager, spec: ExperimentSpec = SPEC, owner: str = "teacher"):
    run = manager.start(spec, owner=owner)
    assert run.wait(120) and run.status == "finished", run.message
    keyframes.WRITER.drain()
    return run


class Losses(train.Callback):
    """Every step loss of a fit."""

    def __init__(self) -> None:
        self.losses: dict[int, float] = {}

    def on_flush(self, chunk: dict) -> None:
        self.losses.update(zip(chunk["step"], chunk["loss"]))


def losses(run) -> dict[int, float]:
    return dict(zip(run.steps["step"], run.steps["loss"]))


def test_an_unchanged_branch_goes_on_exactly_as_its_parent_did(manager):
    parent = finished(manager)
    step = parent.frames()[len(parent.frames()) // 2]
    child = manager.branch(parent.id, step, "student", parent.spec)
    assert child.wait(120) and child.status == "finished"
    mine, theirs = losses(child), losses(parent)
    assert min(mine) == step + 1  # its first loss is the parent's next
    assert mine == {s: theirs[s] for s in mine}
    assert child.owner == "student" and manager.can_control(child.id, "student", "stop")
    assert not manager.can_control(parent.id, "student", "stop")


def test_a_branch_with_a_lower_rate_differs_and_its_script_replays_the_parent(manager, tmp_path):
    parent = finished(manager)
    step = next(s for s in parent.frames() if s >= 40)
    lower = branch.branch_spec(parent.spec, {"optimizer.lr": parent.spec.optimizer.lr / 10})
    child = manager.branch(parent.id, step, "student", lower)
    assert child.wait(120) and child.status == "finished"
    mine, theirs = losses(child), losses(parent)
    assert mine[step + 1] == theirs[step + 1]  # the step's batch, from the same weights
    assert mine[step + 2] != theirs[step + 2]  # then the lower rate shows
    snap = child.snapshot()
    assert snap["origin"]["step"] == step and snap["origin"]["curve"]["step"][-1] == step

    spec, changes = branch.replay(child.spec, child.origin)
    path = tmp_path / "branch.py"
    path.write_text(codegen.script(spec, changes=changes))
    script = [e for e in script_evaluations(path) if e["step"] > step]
    assert len(script) == len(child.evals) >= 4
    for ours, theirs in zip(script, child.evals):
        assert int(ours["step"]) == theirs["step"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert abs(ours[key] - theirs[key]) <= TOLERANCE, (key, ours, theirs)


def test_optimiser_batch_size_dropout_and_length_can_change(manager):
    parent = finished(manager, SPEC.with_changes({"model.layers": [
        {"type": "linear", "units": 8}, {"type": "activation", "name": "ReLU"},
        {"type": "dropout", "p": 0.2}]}))
    spec = branch.branch_spec(parent.spec, {"optimizer.name": "SGD", "optimizer.lr": 0.05,
                                            "train.batch_size": 8, "dropout": 0.5,
                                            "train.max_steps": 200})
    assert branch.dropout_p(spec) == 0.5
    step = next(s for s in parent.frames() if s >= 40)
    child = manager.branch(parent.id, step, "student", spec)
    assert child.wait(120) and child.status == "finished", child.message
    assert min(losses(child)) == step + 1 and max(losses(child)) == 200
    with pytest.raises(branch.BranchError, match="optimiser itself, batch size|cannot change"):
        branch.replay(child.spec, child.origin)  # the script switches settings at the step:
    base, _, switches = branch.exported(child.spec, child.changes, child.origin)
    assert base == parent.spec and switches == [(step, child.spec)]  # test_branch_scripts.py


@pytest.mark.parametrize("edits, words", [
    ({"model.layers": []}, "layers"),
    ({"data.name": "xor"}, "data"),
    ({"dropout": 0.3}, "no Dropout layer"),
    ({"optimizer.lr": 99.0}, "cannot take these settings"),
])
def test_what_a_branch_cannot_change_is_refused_in_one_sentence(edits, words):
    with pytest.raises(branch.BranchError, match=words) as e:
        branch.branch_spec(SPEC, edits)
    assert str(e.value).count(". ") == 0


def test_the_manager_refuses_other_layers_or_a_missing_keyframe(manager):
    parent = finished(manager)
    wider = SPEC.with_changes({"model.layers": [{"type": "linear", "units": 4}]})
    with pytest.raises(branch.BranchError, match="layers"):
        manager.branch(parent.id, parent.frames()[1], "student", wider)
    missing = next(s for s in range(1, 160) if s not in parent.frames())
    with pytest.raises(branch.BranchError, match=f"no state at step {missing}"):
        manager.branch(parent.id, missing, "student", SPEC)
    with pytest.raises(branch.BranchError, match="train no further"):
        manager.branch(parent.id, parent.frames()[-1], "student", SPEC)  # the final step
    with pytest.raises(branch.BranchError, match="not on this server"):
        manager.branch("0" * 32, 1, "student", SPEC)


def test_a_branch_outlives_its_parent_and_a_restart(tmp_path, manager):
    parent = finished(manager)
    step = parent.frames()[4]
    lower = branch.branch_spec(parent.spec, {"optimizer.lr": 0.001})
    child = manager.branch(parent.id, step, "student", lower)
    assert child.wait(120)
    keyframes.WRITER.drain()
    manager.delete(parent.id, "teacher")
    manager.close()
    again = RunManager(max_runs=1, threads=1, store=Store(tmp_path), limits=Limits())
    try:
        assert again.get(parent.id) is None
        stored = again.get(child.id)
        assert stored.origin["parent"] == parent.id and stored.origin["step"] == step
        assert stored.frames()[0] == step  # the state it started from is its own
        later = next(s for s in stored.frames() if s > step + 10)
        decayed = branch.branch_spec(stored.spec, {"optimizer.weight_decay": 0.01})
        grandchild = again.branch(child.id, later, "student", decayed)
        assert grandchild.wait(120) and grandchild.status == "finished"
        assert grandchild.snapshot()["origin"]["curve"]["step"] == list(range(1, later + 1))
        # replayed from the first parent's spec with both branches' changes: the same losses
        spec, changes, switches = branch.exported(grandchild.spec, grandchild.changes,
                                                  grandchild.origin)
        assert switches == []  # a rate and a decay: changes between two steps suffice
        assert [(c.step, c.setting) for c in changes] == [(step + 1, "optimizer.lr"),
                                                          (later + 1, "optimizer.weight_decay")]
        replayed = Losses()
        train.run_spec(spec, [replayed], device=torch.device("cpu"), changes=changes)
        assert {s: replayed.losses[s] for s in losses(grandchild)} == losses(grandchild)
        assert {s: replayed.losses[s] for s in range(step + 1, later + 1)} == \
            {s: losses(stored)[s] for s in range(step + 1, later + 1)}
    finally:
        again.close()


def test_the_loss_chart_draws_the_parents_curve_up_to_the_branch_step():
    from nnplay import charts

    snap = {"steps": {"step": [11, 12], "loss": [0.5, 0.4]}, "evals": {},
            "origin": {"step": 10, "curve": {"step": list(range(1, 11)), "loss": [1.0] * 10}}}
    fig = charts.loss_chart(snap)
    parent = next(t for t in fig.data if t.name == "parent (smoothed)")
    assert list(parent.x)[-1] == 10
    assert min(next(t for t in fig.data if t.name == "per step").x) == 11
    assert any("branched at step 10" in a.text for a in fig.layout.annotations)


def paused_change(manager: RunManager, run, owner: str, setting: str, value: float) -> int:
    """Pause run (a few steps in), change a setting live, resume; the step it applies from."""
    assert manager.control(run.id, owner, "pause")
    while not run.control.must_wait() and not run.done:
        run.wait(0.05)
    assert not run.done, "the run ended before it could be paused"
    assert manager.change(run.id, owner, setting, value) is None
    assert manager.control(run.id, owner, "resume")
    assert run.wait(120) and run.status == "finished", run.message
    keyframes.WRITER.drain()
    return next(c.step for c in run.changes if c.setting == setting)


def test_a_branch_of_a_branch_trains_with_its_parents_settings_not_its_grandparents(manager,
                                                                                    tmp_path):
    """The grandparent's live rate change came before the child's step; the child set its own
    rate there and changed momentum live later: a branch of the child goes on with the
    child's rate and momentum, and its script reproduces it."""
    sgd = SPEC.with_changes({"optimizer.name": "SGD", "optimizer.lr": 0.1,
                             "train.max_steps": 4000})
    parent = manager.start(sgd, owner="teacher")
    changed = paused_change(manager, parent, "teacher", "optimizer.lr", 0.05)
    step = next(s for s in parent.frames() if s > changed)
    at_step = branch.spec_at(parent.spec, parent.frame(step)["changes"])
    assert at_step.optimizer.lr == 0.05  # what the parent trained with there
    child = manager.branch(parent.id, step, "student",
                           branch.branch_spec(at_step, {"optimizer.lr": 0.01}))
    momentum = paused_change(manager, child, "student", "optimizer.momentum", 0.5)
    later = next(s for s in child.frames() if s > momentum + 10)
    start = branch.spec_at(child.spec, child.frame(later)["changes"])
    assert start == child.current_spec()  # what the child trained with at that step
    assert (start.optimizer.lr, start.optimizer.momentum) == (0.01, 0.5)
    doctor = remedies.start(manager, child.id, later, {"train.l2": 0.001}, "student")
    assert doctor.spec.optimizer.lr == 0.01 and doctor.spec.optimizer.momentum == 0.5
    doctor.control.stop()

    grandchild = manager.branch(child.id, later, "student", start)  # nothing changed
    assert grandchild.wait(120) and grandchild.status == "finished", grandchild.message
    mine, theirs = losses(grandchild), losses(child)
    assert min(mine) == later + 1 and mine == {s: theirs[s] for s in mine}
    assert branch.spec_at(grandchild.spec, grandchild.frame(later)["changes"]) == start

    # back to the grandparent's rate: the script must still make that change at the step
    back = manager.branch(child.id, later, "student",
                          branch.branch_spec(start, {"optimizer.lr": 0.05}))
    assert back.wait(120) and back.status == "finished", back.message
    spec, changes, switches = branch.exported(back.spec, back.changes, back.origin)
    assert switches == [] and changes[-1] == SettingChange(step=later + 1,
                                                           setting="optimizer.lr", value=0.05)
    path = tmp_path / "back.py"
    path.write_text(codegen.script(spec, changes=changes))
    script = [e for e in script_evaluations(path) if e["step"] > later]
    assert len(script) == len(back.evals) >= 3
    for ours, theirs in zip(script, back.evals):
        assert int(ours["step"]) == theirs["step"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert abs(ours[key] - theirs[key]) <= TOLERANCE, (key, ours, theirs)


def test_an_origin_recorded_with_the_grandparents_changes_still_exports_the_branch():
    """Origins stored before a branch's own changes were told apart list its parent's changes
    up to its step too: the script still makes the grandchild's own rate change."""
    lr = lambda step, v: SettingChange(step=step, setting="optimizer.lr", value=v)  # noqa: E731
    decay = SettingChange(step=50, setting="optimizer.weight_decay", value=0.01)
    child = SPEC.with_changes({"optimizer.lr": 0.001})
    first = {"parent": "p", "step": 40, "spec": SPEC.to_json(),
             "changes": [lr(10, 0.05).model_dump()]}
    origin = {"parent": "c", "step": 60, "spec": child.to_json(), "origin": first,
              "changes": [lr(10, 0.05).model_dump(), decay.model_dump()]}
    grandchild = child.with_changes({"optimizer.weight_decay": 0.01, "optimizer.lr": 0.05})
    assert branch.made(origin) == [decay]
    spec, changes = branch.replay(grandchild, origin)
    assert spec == SPEC and changes == [lr(10, 0.05), lr(41, 0.001), decay, lr(61, 0.05)]
