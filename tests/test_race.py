"""The optimiser race: fairness (same weights, same batches), validation, the summary table and
the learning-rate sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnplay import presets, race, train
from nnplay.limits import LimitExceeded, Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec, SpecError

torch.set_num_threads(1)

BASE = ExperimentSpec().with_changes({"data.n_samples": 200, "train.epochs": 3})
THREE = [{"name": "SGD", "lr": 0.1}, {"name": "Adam", "lr": 0.01},
         {"name": "RMSprop", "lr": 0.01, "momentum": 0.5}]  # fmt: skip


def three(base: ExperimentSpec = BASE) -> race.RaceSpec:
    return race.parse_race({"base": base.model_dump(), "contenders": THREE})


class Orders(train.Callback):
    """Records every epoch's batch order."""

    def __init__(self) -> None:
        self.orders: list[torch.Tensor] = []

    def on_epoch(self, epoch: int, order: torch.Tensor) -> None:
        self.orders.append(order.cpu().clone())


def test_contenders_start_from_copies_of_one_state_dict():
    spec = three()
    shared = race.SharedStart(spec.base)
    models = [shared(s)[1] for s in spec.specs()]
    first = models[0].state_dict()
    for model in models[1:]:
        for key, value in model.state_dict().items():
            assert torch.equal(value, first[key])
            assert value.data_ptr() != first[key].data_ptr()  # a copy, not shared storage
    with torch.no_grad():
        next(models[0].parameters()).add_(1.0)
    assert not torch.equal(next(models[0].parameters()), next(models[1].parameters()))
    # the race's data is built once and shared
    assert shared(spec.specs()[0])[0] is shared(spec.specs()[1])[0]


def test_contenders_see_the_same_batches_in_the_same_order():
    spec = three()
    shared = race.SharedStart(spec.base)
    recorded = []
    for s in spec.specs():
        rec = Orders()
        ds, model, device = shared(s)
        train.fit(model, ds, s, device, [rec])
        recorded.append(rec.orders)
    assert len(recorded[0]) == 3  # one order per epoch
    assert not torch.equal(recorded[0][0], recorded[0][1])  # reshuffled each epoch
    for orders in recorded[1:]:
        assert all(torch.equal(a, b) for a, b in zip(orders, recorded[0], strict=True))
    # another seed is another order, so the check above can fail
    other = BASE.with_changes({"seed": 1})
    rec = Orders()
    train.run_spec(other, [rec])
    assert not torch.equal(rec.orders[0], recorded[0][0])


def test_race_through_the_manager_has_identical_step_one_losses():
    manager = RunManager(max_runs=2)  # three contenders: one waits in the queue
    started = race.start(manager, three(), owner="t")
    for run in started.runs(manager):
        assert run.wait(60)
    assert started.done(manager)
    snaps = started.snapshots(manager)
    assert list(snaps) == ["SGD lr=0.1", "Adam lr=0.01", "RMSprop lr=0.01 momentum=0.5"]
    first = [s["steps"]["loss"][0] for s in snaps.values()]
    assert first[0] == first[1] == first[2]  # the same weights on the same first batch
    finals = {s["evals"]["test_loss"][-1] for s in snaps.values()}
    assert len(finals) == 3  # the optimisers really differ
    assert all(s["status"] == "finished" for s in snaps.values())


def test_race_curves_share_their_step_zero_test_loss():
    spec = three()
    manager = RunManager(max_runs=3)
    started = race.start(manager, spec, owner="t")
    for run in started.runs(manager):
        assert run.wait(60)
    # step 0 is the shared initial weights' evaluation, the same as a fresh model's
    ds, model, device = train.prepare(spec.base)
    info = train.loss_info(spec.base.loss.name, spec.base.task)
    target = train.TARGETS[info.target]
    model.eval()
    with torch.no_grad():
        loss, acc, _ = train.evaluate(model, ds.x_test, target(ds.y_test, ds.n_classes),
                                      ds.y_test, train.LOSS_MODULES[spec.base.loss.name](), info)
    assert started.start["step"] == 0
    assert started.start["test_loss"] == pytest.approx(loss.item(), rel=1e-6)
    assert started.start["test_acc"] == pytest.approx(acc.item())
    snaps, curves = started.snapshots(manager), started.curves(manager)
    for title, snap in snaps.items():
        evals = curves[title]["evals"]
        assert evals["step"] == [0, *snap["evals"]["step"]]
        assert evals["test_loss"] == [started.start["test_loss"], *snap["evals"]["test_loss"]]
        assert evals["train_acc"][0] == started.start["train_acc"]
        assert snap["evals"]["step"][0] > 0  # the runs themselves record no step 0
    assert race.with_start(curves, started.start) == curves  # step 0 is added once
    assert race.with_start(snaps, {}) == snaps  # nothing known yet: nothing added
    manager.close()


def test_a_race_a_limit_refuses_leaves_no_runs_behind():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=2))
    with pytest.raises(LimitExceeded, match="2 runs queued or training"):
        race.start(manager, three(), owner="t")  # the third contender is one too many
    assert manager.runs("t") == [] and manager.active("t") == 0
    manager.close()


def test_a_contender_reproduces_the_same_spec_run_alone():
    spec = three()
    snaps = race.run_race(spec)
    alone = train.run_spec(spec.specs()[1])
    assert snaps["Adam lr=0.01"]["evals"]["test_loss"] == [r["test_loss"] for r in alone.history]
    # the shared start's step-0 evaluation draws no random numbers: the same training losses
    recorder = train.Callback()
    losses: list[float] = []
    recorder.on_flush = lambda chunk: losses.extend(np.asarray(chunk["loss"]).tolist())
    train.run_spec(spec.specs()[1], [recorder])
    assert list(snaps["Adam lr=0.01"]["steps"]["loss"]) == losses


@pytest.mark.parametrize(("contenders", "words"), [
    ([{"name": "SGD"}], "contenders: a race needs 2 to 6 contenders, not 1"),
    ([{"name": "SGD"}] * 7, "a race needs 2 to 6 contenders, not 7"),
    ([{"name": "SGD", "lr": 100.0}, {"name": "Adam"}], "contender 1: optimizer.lr"),
    ([{"name": "SGD"}, {"name": "Adam", "nesterov": True}], "contender 2"),
    ([{"name": "SGD"}, {"name": "Nadam"}], "contenders.1.name"),
    ([{"name": "SGD"}, {"epochs": 3}], "contenders.1.epochs"),
])  # fmt: skip
def test_bad_contenders_are_sentences(contenders, words):
    with pytest.raises(SpecError, match=words):
        race.parse_race({"base": BASE.model_dump(), "contenders": contenders})


def test_titles_are_labels_or_settings_and_unique():
    spec = race.parse_race({"contenders": [
        {"name": "SGD", "lr": 0.1}, {"name": "SGD", "lr": 0.1}, {"label": "mine", "name": "Adam"},
        {"name": "AdamW", "lr": 0.01, "weight_decay": 0.01, "beta1": 0.8}]})  # fmt: skip
    assert spec.titles() == ["SGD lr=0.1", "SGD lr=0.1 #2", "mine",
                             "AdamW lr=0.01 betas=(0.8, 0.999) wd=0.01"]


def fake(status: str, steps: list[int], losses: list[float], elapsed: float = 1.0) -> dict:
    adam = ExperimentSpec().with_changes({"optimizer.name": "Adam", "optimizer.lr": 0.03})
    return {"status": status, "task": "classification", "spec": adam.model_dump(),
            "evals": {"step": steps, "test_loss": losses, "test_acc": [0.5] * len(steps)},
            "progress": {"step": steps[-1] if steps else 0, "elapsed_s": elapsed}}  # fmt: skip


def test_summary_ranks_by_final_loss_with_failures_last():
    snaps = {
        "slow": fake("finished", [10, 20, 30], [0.9, 0.6, 0.5]),
        "blew up": fake("diverged", [10], [0.3]),
        "fast": fake("finished", [10, 20, 30], [0.4, 0.3, 0.35], elapsed=2.5),
        "stopped": fake("stopped", [10], [0.8]),
    }
    table = race.ranking(snaps, target=0.6)
    assert list(table["contender"]) == ["fast", "slow", "stopped", "blew up"]
    assert list(table["rank"]) == [1, 2, 3, 4]
    fast = table.iloc[0]
    assert fast["final test loss"] == 0.35 and fast["best test loss"] == 0.3
    assert fast["steps to test loss ≤ 0.6"] == 10
    assert fast["wall time (s)"] == 2.5
    assert table.iloc[1]["steps to test loss ≤ 0.6"] == 20
    assert math.isnan(table.iloc[2]["steps to test loss ≤ 0.6"])
    header = table.to_csv(index=False).splitlines()[0]
    assert header.startswith("rank,contender,optimizer,status,final test loss,best test loss")
    named = race.ranking({"Adam lr=0.03": fake("finished", [1], [0.5])})
    assert "optimizer" not in named.columns  # no column repeating the contender's name


def test_default_target_is_the_level_every_healthy_contender_reached():
    snaps = {"a": fake("finished", [1, 2], [0.9, 0.5]), "b": fake("finished", [1, 2], [0.7, 0.2]),
             "c": fake("diverged", [1], [5.0])}  # fmt: skip
    assert race.default_target(snaps) == 0.5
    assert race.default_target({"c": fake("diverged", [], [])}) is None
    assert race.ranking({}).empty


def test_log_grid_and_sweep():
    assert race.log_grid(1e-4, 1.0, 5) == [1e-4, 1e-3, 1e-2, 0.1, 1.0]
    grid = race.log_grid(1e-3, 0.3, 6)
    assert len(grid) == 6 and grid[0] == 1e-3 and grid[-1] == 0.3
    assert np.allclose(np.diff(np.log(grid)), np.log(300) / 5, rtol=0.1)
    for bad in ((0.0, 1.0, 3), (1.0, 0.1, 3), (1e-3, 1.0, 1)):
        with pytest.raises(SpecError):
            race.log_grid(*bad)
    sweep = race.sweep(BASE, 1e-3, 1.0, 4, "SGD")
    assert sweep.titles() == ["lr=0.001", "lr=0.01", "lr=0.1", "lr=1"]
    assert {s.optimizer.name for s in sweep.specs()} == {"SGD"}
    with pytest.raises(SpecError, match="not 7"):
        race.sweep(BASE, 1e-4, 1.0, 7)
    snaps = {"lr=0.01": fake("finished", [1], [0.4]), "lr=0.001": fake("finished", [1], [0.6]),
             "lr=1": fake("diverged", [], [])}  # fmt: skip
    points = race.sweep_points(sweep, snaps)
    assert points["lr"] == [0.001, 0.01, 1.0] and points["loss"][:2] == [0.6, 0.4]
    assert math.isnan(points["loss"][2]) and points["status"][2] == "diverged"


def test_race_presets_are_valid_races():
    found = [p for p in presets.all_presets() if p.race is not None]
    assert found, "at least one preset is a race"
    for preset in found:
        spec = race.parse_race({"base": preset.spec.model_dump(), **preset.race})
        assert preset.page == "Compare"
        assert race.MIN_CONTENDERS <= len(spec.contenders) <= race.MAX_CONTENDERS
        assert spec.base == preset.spec


def test_race_command_prints_the_ranking(capsys, tmp_path):
    from nnplay.__main__ import main

    csv = tmp_path / "race.csv"
    code = main(["race", "--preset", "xor", "--steps", "20", "--contender", "name=SGD,lr=0.1",
                 "--contender", "name=Adam,lr=0.01", "--csv", str(csv)])
    out = capsys.readouterr().out
    assert code == 0
    assert "SGD lr=0.1" in out and "Adam lr=0.01" in out and "final test loss" in out
    assert len(csv.read_text().splitlines()) == 3
    assert main(["race", "--preset", "xor", "--contender", "nameSGD"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_from_settings_gives_a_race_a_sweep_or_one_sentence():
    got, problem = race.from_settings(BASE, THREE)
    assert problem is None and got == three()
    swept, problem = race.from_settings(BASE, lr_range=(0.001, 1.0, 4, "SGD"))
    assert problem is None and [s.optimizer.lr for s in swept.specs()] == [0.001, 0.01, 0.1, 1.0]
    none, problem = race.from_settings(BASE, THREE[:1])
    assert none is None and "a race needs 2 to 6 contenders, not 1" in problem
    none, problem = race.from_settings(BASE, lr_range=(1.0, 0.1, 4, None))
    assert none is None and "lowest < highest" in problem


def test_a_race_is_paused_when_every_contender_still_going_is():
    manager = RunManager(max_runs=3)
    started = race.start(manager, race.parse_race({
        "base": BASE.with_changes({"data.n_samples": 1000, "train.epochs": 500}).model_dump(),
        "contenders": THREE}), owner="t")
    try:
        assert not started.paused(manager)
        first, *others = started.run_ids
        manager.control(first, "t", "pause")
        assert not started.paused(manager)  # two still train
        for run_id in others:
            manager.control(run_id, "t", "pause")
        assert started.paused(manager)
        manager.control(first, "t", "stop")
        assert manager.get(first).wait(30) and started.paused(manager)  # the rest are paused
    finally:
        started.stop(manager)
        manager.close()
