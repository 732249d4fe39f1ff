"""Exported scripts of branches that change what a script cannot change between two steps with
a param_groups assignment: the optimiser itself, Adam's betas, the batch size, dropout's p and
early stopping. The script replays the parent up to the branch's step, goes on with the
branch's settings there, and reproduces the branch's evaluations to 1e-5 on CPU."""

from __future__ import annotations

import pytest
import torch

from nnplay import branch, codegen, keyframes, presets
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store
from tests.test_codegen_changes import TOLERANCE, script_evaluations

torch.set_num_threads(1)

DROPOUT = [{"type": "linear", "units": 16}, {"type": "activation", "name": "ReLU"},
           {"type": "dropout", "p": 0.1}, {"type": "linear", "units": 16},
           {"type": "activation", "name": "ReLU"}]
SPEC = presets.load("spiral").spec.with_changes(
    {"train.device": "cpu", "data.n_samples": 300, "train.max_steps": 150,
     "train.eval_every": 10, "model.layers": DROPOUT})
CASES = {  # the branch's edits, and the steps its parent trains (None: SPEC's)
    "adam-to-sgd": {"optimizer.name": "SGD", "optimizer.lr": 0.1, "optimizer.momentum": 0.9},
    "adam-betas": {"optimizer.beta1": 0.5, "optimizer.beta2": 0.9},
    "batch-size": {"train.batch_size": 40},
    "dropout-p": {"dropout": 0.4},
    "patience": {"train.patience": 1, "optimizer.lr": 0.08},
}  # fmt: skip


@pytest.fixture
def manager(tmp_path):
    m = RunManager(max_runs=2, threads=1, store=Store(tmp_path / "home"), limits=Limits())
    yield m
    m.close()


def branched(manager: RunManager, edits: dict, step_at_least: int = 40,
             spec: ExperimentSpec = SPEC, parent=None):
    """A finished parent (or the one given) and its branch with edits from a keyframe."""
    if parent is None:
        parent = manager.start(spec, owner="teacher")
        assert parent.wait(120) and parent.status == "finished", parent.message
        keyframes.WRITER.drain()
    step = next(s for s in parent.frames() if s >= step_at_least)
    start = branch.spec_at(parent.spec, parent.frame(step)["changes"])
    child = manager.branch(parent.id, step, "student", branch.branch_spec(start, edits))
    assert child.wait(120) and child.status == "finished", child.message
    keyframes.WRITER.drain()
    return parent, child, step


def assert_script_reproduces(child, step: int, tmp_path, least: int = 3) -> str:
    """The branch's exported script, run, prints the branch's evaluations after its step."""
    spec, changes, switches = branch.exported(child.spec, child.changes, child.origin)
    assert switches, "a switch at the branch's step"
    text = codegen.script(spec, "branch", changes, switches)
    path = tmp_path / "branch.py"
    path.write_text(text)
    script = [e for e in script_evaluations(path) if e["step"] > step]
    assert len(script) == len(child.evals) >= least
    for mine, theirs in zip(script, child.evals):
        assert int(mine["step"]) == theirs["step"]
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert abs(mine[key] - theirs[key]) <= TOLERANCE, (key, mine, theirs)
    return text


@pytest.mark.parametrize("name", list(CASES))
def test_a_branch_script_reproduces_the_branch(name, manager, tmp_path):
    parent, child, step = branched(manager, CASES[name])
    text = assert_script_reproduces(child, step, tmp_path, 1 if name == "patience" else 3)
    assert f"if step == {step}:" in text
    if name == "adam-to-sgd":
        assert "another optimiser: its state starts empty" in text
    if name == "adam-betas":
        assert "betas=(0.5, 0.9)" in text and "moments go on" in text
    if name == "batch-size":
        assert "batch_size = 40" in text
    if name == "dropout-p":
        assert "module.p = 0.4" in text
    if name == "patience":
        assert "patience = 1" in text and "Stopped early" in child.message, child.message
        assert max(child.steps["step"]) < 150  # it stopped early, and so did the script


def test_a_branch_of_a_branch_switches_twice(manager, tmp_path):
    parent, child, step = branched(manager, {"train.batch_size": 24})
    _, grandchild, later = branched(manager, {"optimizer.name": "SGD", "optimizer.lr": 0.05,
                                              "dropout": 0.3}, step + 10, parent=child)
    text = assert_script_reproduces(grandchild, later, tmp_path)
    assert f"if step == {step}:" in text and f"if step == {later}:" in text
