"""Tests for nnplay.keyframes and resuming a fit from one: the schedule and its bounds, and the
key property, that a run resumed from any keyframe trains on with the same losses, bit for bit,
as the run that was never interrupted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnplay import keyframes, train
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec, SettingChange
from nnplay.store import Store

torch.set_num_threads(1)

CPU = torch.device("cpu")
SMALL = {"data.n_samples": 120, "train.batch_size": 16, "train.max_steps": 90}


class Frames(train.Callback):
    """Keeps every step loss, and every keyframe as the store would read it back."""

    def __init__(self, count: int = 8) -> None:
        self.count = count
        self.losses: dict[int, float] = {}
        self.frames: dict[int, dict] = {}

    def keyframe_steps(self, total_steps: int, size: int) -> list[int]:
        return keyframes.schedule(total_steps, self.count)

    def on_keyframe(self, copied: dict) -> None:
        data = keyframes.serialise(keyframes.finish(copied))
        self.frames[copied["step"]] = keyframes.deserialise(data)

    def on_flush(self, chunk: dict) -> None:
        self.losses.update(zip(chunk["step"], chunk["loss"]))


def resumed_spec(spec: ExperimentSpec, frame: dict) -> ExperimentSpec:
    """The spec with the keyframe's changes made so far, as a run resumed from it trains."""
    values = {c["setting"]: c["value"] for c in frame["changes"]}
    return spec.with_changes(values) if values else spec


def fit(spec: ExperimentSpec, changes=(), resume: dict | None = None,
        count: int = 8) -> tuple[Frames, train.Result]:
    frames = Frames(count)
    if resume is not None:
        spec = resumed_spec(spec, resume)
    ds, model, device = train.prepare(spec, CPU)
    result = train.fit(model, ds, spec, device, [frames], changes=changes, resume=resume)
    return frames, result


CASES = {
    "adam, fused": {},
    "sgd momentum, dropout": {"optimizer.name": "SGD", "optimizer.lr": 0.1,
                              "optimizer.momentum": 0.9,
                              "model.layers": [{"type": "linear", "units": 8},
                                               {"type": "activation", "name": "Tanh"},
                                               {"type": "dropout", "p": 0.3}]},
    "l2 penalty, eager adam": {"train.l2": 0.001},
    "regression": {"data.name": "sine", "loss.name": "MSELoss"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_resuming_from_any_keyframe_gives_the_unbroken_runs_losses_bit_for_bit(case):
    spec = ExperimentSpec().with_changes({**SMALL, **CASES[case]})
    whole, result = fit(spec)
    assert result.status == "finished"
    assert len(whole.frames) >= 5 and max(whole.frames) == 90  # the final step's included
    for step, frame in whole.frames.items():
        if step == 90:
            continue
        part, _ = fit(spec, resume=frame)
        assert min(part.losses) == step + 1
        expected = [whole.losses[s] for s in sorted(part.losses)]
        assert [part.losses[s] for s in sorted(part.losses)] == expected, (case, step)


def test_changes_made_mid_run_and_early_stopping_counters_carry_over():
    spec = ExperimentSpec().with_changes({**SMALL, "train.max_steps": 120, "train.eval_every": 5,
                                          "train.patience": 6, "optimizer.lr": 0.3})
    changes = [SettingChange(step=12, setting="optimizer.lr", value=0.05),
               SettingChange(step=25, setting="train.l1", value=0.001)]
    whole, result = fit(spec, changes, count=16)
    assert result.message.startswith("Stopped early at step")  # the counters matter
    later = [f for s, f in whole.frames.items() if 25 < s < max(whole.losses)]
    assert later and later[0]["changes"] == [c.model_dump() for c in changes]
    for frame in [f for s, f in whole.frames.items() if 0 < s < max(whole.losses)]:
        part, end = fit(spec, changes, resume=frame, count=16)
        assert [part.losses[s] for s in sorted(part.losses)] == \
            [whole.losses[s] for s in sorted(part.losses)]
        assert (end.status, end.message) == (result.status, result.message)


def test_a_keyframe_at_an_epochs_end_starts_the_next_epoch_with_its_own_shuffle():
    spec = ExperimentSpec().with_changes({**SMALL, "train.batch_size": 20})  # 3 steps an epoch
    whole, _ = fit(spec, count=30)
    frame = whole.frames[3]
    assert frame["offset"] == 0
    part, _ = fit(spec, resume=frame)
    assert [part.losses[s] for s in sorted(part.losses)] == \
        [whole.losses[s] for s in range(4, 91)]


def test_the_schedule_is_bounded_log_spaced_and_starts_at_the_initial_weights():
    steps = keyframes.schedule(20_000, 64)
    assert len(steps) == 64 and steps == sorted(set(steps))
    assert steps[0] == 0 and steps[1:4] == [1, 2, 3] and steps[-1] < 20_000
    gaps = np.diff(steps)
    assert gaps[:10].max() < gaps[-10:].min()  # denser early
    assert keyframes.schedule(10, 64) == list(range(10))
    assert keyframes.schedule(0, 64) == []


def test_bigger_models_keep_fewer_keyframes():
    fashion = 784 * 128 + 128 + 128 * 10 + 10  # the FashionMNIST MLP's parameters
    spiral = 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    assert keyframes.budget(spiral * 12) == keyframes.MAX_KEYFRAMES
    big = keyframes.budget(fashion * 12)
    assert keyframes.MIN_KEYFRAMES <= big < 64
    assert big * fashion * 12 <= keyframes.RUN_BYTES
    assert keyframes.budget(10**12) == keyframes.MIN_KEYFRAMES


def test_memory_keeps_at_most_its_bytes_dropping_the_oldest_runs_first():
    memory = keyframes.Memory(max_bytes=250)
    memory.put("a", 1, b"x" * 100)
    memory.put("b", 1, b"x" * 100)
    memory.put("c", 1, b"x" * 100)
    assert memory.steps("a") == [] and memory.get("c", 1) == b"x" * 100
    memory.delete("c")
    assert memory.steps("c") == []


def test_the_writer_stores_off_the_training_thread_and_reports_a_failure():
    stored, errors = [], []
    copied = {"step": 3, "optimizer": {"state": {}}, "model": {"w": torch.ones(2)}}
    keyframes.WRITER.put(copied, lambda step, data: stored.append((step, data)), errors.append)
    keyframes.WRITER.put(copied, lambda step, data: 1 / 0, errors.append)
    keyframes.WRITER.drain()
    assert stored[0][0] == 3 and torch.equal(keyframes.deserialise(stored[0][1])["model"]["w"],
                                             torch.ones(2))
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


# --- kept by the run store, or in memory --------------------------------------------------


STORED = ExperimentSpec().with_changes({**SMALL, "train.max_steps": 200})


def test_a_stored_runs_keyframes_survive_a_restart_and_resume_it_exactly(tmp_path):
    manager = RunManager(max_runs=1, threads=1, store=Store(tmp_path), limits=Limits())
    run = manager.start(STORED, owner="a")
    assert run.wait(120) and run.status == "finished"
    manager.close()  # every keyframe written
    losses = dict(zip(run.steps["step"], run.steps["loss"]))
    files = sorted((tmp_path / "keyframes" / run.id).glob("*.kf"))
    assert 5 <= len(files) <= keyframes.MAX_KEYFRAMES + 1

    again = RunManager(max_runs=1, threads=1, store=Store(tmp_path), limits=Limits())
    stored = again.get(run.id)
    steps = stored.frames()
    assert steps[0] == 0 and steps[-1] == 200 and len(steps) == len(files)
    frame = stored.frame(steps[len(steps) // 2])
    part, _ = fit(STORED, resume=frame)
    assert [part.losses[s] for s in sorted(part.losses)] == \
        [losses[s] for s in sorted(part.losses)]
    again.delete(run.id, "a")
    assert not (tmp_path / "keyframes" / run.id).exists()
    again.close()


def test_without_a_store_keyframes_are_kept_in_memory():
    manager = RunManager(max_runs=1, threads=1, store=None, limits=Limits())
    run = manager.start(STORED, owner="a")
    assert run.wait(120) and run.status == "finished"
    keyframes.WRITER.drain()
    assert run.frames()[0] == 0 and run.frames()[-1] == 200
    assert run.frame(run.frames()[3])["step"] == run.frames()[3]
    manager.delete(run.id, "a")
    assert keyframes.MEMORY.steps(run.id) == []
    manager.close()


def test_switched_off_no_keyframe_is_taken(tmp_path):
    manager = RunManager(max_runs=1, threads=1, store=Store(tmp_path), limits=Limits(),
                         keep_keyframes=False)
    run = manager.start(STORED, owner="a")
    assert run.wait(120) and run.status == "finished"
    manager.close()
    assert run.frames() == []


def test_the_servers_keyframes_are_bounded_the_oldest_runs_pruned_first(tmp_path):
    store = Store(tmp_path)
    manager = RunManager(max_runs=1, threads=1, store=store, limits=Limits())
    ids = []
    for seed in range(3):
        run = manager.start(STORED.with_changes({"seed": seed}), owner="a")
        assert run.wait(120)
        ids.append(run.id)
    keyframes.WRITER.drain()
    one = sum(f.stat().st_size for f in store.keyframe_dir(ids[0]).glob("*.kf"))
    total = sum(f.stat().st_size for f in store.keyframes.glob("*/*.kf"))
    assert store.prune_keyframes(total - one // 2) == [ids[0]]
    assert store.keyframe_steps(ids[0]) == [] and store.keyframe_steps(ids[2])
    assert store.load_state_dict(ids[0]) is not None  # its final weights stay
    manager.close()
