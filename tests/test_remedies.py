"""The doctor's remedy as a branch (nnplay.remedies): each diagnosis says from which step the run
was in trouble, the offer picks the last keyframe at or before it with the remedy's setting,
remedies that change the layers stay fresh runs, and a diverged run's branch starts from that
keyframe with the fix and trains better."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnplay import doctor, keyframes, presets, remedies
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec
from nnplay.store import Store
from tests.test_doctor import falling, snap, spec_dict

torch.set_num_threads(1)


def test_divergence_began_after_the_lowest_loss_before_the_blow_up() -> None:
    loss = np.concatenate([falling(n=200), np.geomspace(0.1, 50, 200)])
    s = snap(loss=loss, spec=spec_dict(**{"optimizer.name": "SGD", "optimizer.lr": 5.0}))
    found = doctor.divergence(s)
    low = int(np.argmin(loss))
    assert found is not None and found.since == low  # loss index i is step i + 1
    assert found.remedy.fix == "the learning rate at 0.5"


def test_divergence_reads_the_steps_a_branch_counts_from() -> None:
    loss = np.concatenate([np.full(5, 0.7), np.geomspace(0.7, 80, 60)])
    s = snap(loss=loss)
    s["steps"]["step"] = list(range(101, 101 + len(loss)))  # a branch from step 100
    assert doctor.divergence(s).since == 100 + int(np.argmin(loss))


def test_a_run_that_went_nan_at_once_was_sound_only_at_its_start() -> None:
    s = snap(loss=[0.69, np.nan], status="diverged")
    assert doctor.divergence(s).since == 0


def test_dead_units_began_after_the_last_sample_with_few_dead() -> None:
    s = snap(stats=[("relu2 (ReLU)", "relu", 0.2, np.nan)],
             spec=spec_dict(**{"optimizer.name": "SGD", "optimizer.lr": 2.0}))
    s["activations"]["step"] = [10 * i for i in range(10)]
    s["activations"]["dead"] = np.array([[0.1], [0.3], [0.7], [0.2], [0.4], [0.6], [0.9],
                                         [1.0], [1.0], [1.0]])
    found = doctor.dead_relu(s)
    assert found.since == 40 and found.remedy.fix == "the learning rate at 0.2"


def test_units_dead_from_the_first_sample_were_sound_only_at_step_0() -> None:
    s = snap(stats=[("relu2 (ReLU)", "relu", 0.9, np.nan)])
    s["activations"]["step"] = [5 + 10 * i for i in range(10)]
    assert doctor.dead_relu(s).since == 0


def test_overfitting_began_at_the_best_test_loss_and_a_rate_too_low_at_once() -> None:
    train = np.geomspace(0.6, 0.005, 40)
    test = np.concatenate([np.linspace(0.6, 0.12, 12), np.linspace(0.13, 0.45, 28)])
    found = doctor.overfitting(snap(train=train, test=test))
    assert found.since in (120, 130, 140) and "lowest (0.1" in found.text  # smoothed: 3 evals
    assert f"at step {found.since}" in found.text and found.remedy.fix == "an L2 penalty of 0.01"
    flat = doctor.lr_too_low(snap(loss=np.full(400, 0.69)))
    assert flat.since == 0 and flat.remedy.fix.startswith("the learning rate at")


def test_the_offer_takes_the_last_keyframe_at_or_before_the_trouble() -> None:
    found = doctor.Diagnosis("divergence", "", doctor.Remedy(
        "Lower the learning rate to 1", {"optimizer.lr": 1.0}, "the learning rate at 1"), 45)
    offer = remedies.offer(found, [0, 1, 2, 4, 8, 16, 32, 45, 64, 128])
    assert offer == remedies.Offer(45, {"optimizer.lr": 1.0},
                                   "Branch from step 45 with the learning rate at 1")
    assert remedies.offer(found, [0, 8, 32, 64]).step == 32
    assert remedies.offer(found, [50, 64]) is None  # nothing kept before the trouble


@pytest.mark.parametrize("rule", ["vanishing_gradients", "underfitting", "dead_relu"])
def test_remedies_that_change_the_layers_stay_fresh_runs(rule: str) -> None:
    changes = {"model.layers": [{"type": "linear", "units": 32}]}
    found = doctor.Diagnosis(rule, "", doctor.Remedy("Use ReLU", changes), 10)
    assert remedies.offer(found, [0, 4, 8]) is None
    s = snap(stats=[("relu2 (ReLU)", "relu", 0.9, np.nan)])  # the usual rate: LeakyReLU
    assert remedies.offer(doctor.dead_relu(s), [0, 4, 8]) is None
    unknown = doctor.Diagnosis("divergence", "", doctor.Remedy(
        "Lower", {"optimizer.lr": 1.0}, "the learning rate at 1"))
    assert remedies.offer(unknown, [0, 4, 8]) is None  # no known start


def test_a_diverged_spiral_run_branches_from_its_keyframe_with_the_fix(tmp_path) -> None:
    manager = RunManager(max_runs=2, threads=1, store=Store(tmp_path), limits=Limits())
    try:
        spec = presets.load("spiral").spec.with_changes(
            {"optimizer.name": "SGD", "optimizer.lr": 10.0, "train.epochs": 3})
        parent = manager.start(spec, owner="teacher")
        assert parent.wait(300) and parent.status == "diverged", parent.message
        keyframes.WRITER.drain()
        lead = doctor.diagnose(parent.snapshot())[0]
        assert lead.id == "divergence" and lead.since is not None
        offer = remedies.offer(lead, parent.frames())
        assert offer is not None and offer.step <= lead.since and offer.step in parent.frames()
        assert offer.label == f"Branch from step {offer.step:,} with the learning rate at 1"
        child = remedies.start(manager, parent.id, offer.step, offer.edits, "student")
        assert child.wait(300) and child.status == "finished", child.message
        assert child.origin["parent"] == parent.id and child.origin["step"] == offer.step
        assert child.spec.optimizer.lr == 1.0 and child.owner == "student"
        assert min(child.steps["step"]) == offer.step + 1
        ends = [float(np.mean(r.steps["loss"][-20:])) for r in (parent, child)]
        assert ends[1] < ends[0]  # the measure the doctor named: the loss no longer blows up
        assert "divergence" not in doctor.ids(child.snapshot())
    finally:
        manager.close()


def test_starting_from_a_keyframe_that_is_gone_is_a_sentence(tmp_path) -> None:
    manager = RunManager(max_runs=2, threads=1, store=Store(tmp_path), limits=Limits())
    try:
        with pytest.raises(remedies.branch.BranchError, match="no state at step 7"):
            remedies.start(manager, "nope", 7, {"optimizer.lr": 1.0}, "student")
    finally:
        manager.close()


def test_a_branch_that_lowered_the_rate_is_not_sent_back_up_to_its_parents() -> None:
    parent = ExperimentSpec().with_changes({"optimizer.name": "SGD", "optimizer.lr": 10.0})
    s = snap(loss=np.full(400, 0.69), spec=spec_dict(**{"optimizer.name": "SGD",
                                                          "optimizer.lr": 1.0}))
    s["origin"] = {"parent": "p", "step": 0, "spec": parent.to_json()}
    found = doctor.lr_too_low(s)
    assert found.remedy.changes == {"optimizer.lr": 3.2} and "parent's rate (10)" in found.text
    s["origin"] = None  # not a branch: the usual tenfold
    assert doctor.lr_too_low(s).remedy.changes == {"optimizer.lr": 10.0}
