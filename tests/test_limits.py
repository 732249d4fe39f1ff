"""Server limits: each from its NNPLAY_ variable, each refusal one sentence naming it."""

from __future__ import annotations

import time

import pytest

from nnplay.limits import LimitExceeded, Limits, total_steps
from nnplay.presets import all_presets
from nnplay.runs import RunManager
from nnplay.sizes import estimated_train_size
from nnplay.spec import ExperimentSpec, Linear

BASE = ExperimentSpec().with_changes({"data.n_samples": 500, "train.epochs": 5})


def test_from_env_reads_each_variable_and_ignores_garbage():
    limits = Limits.from_env({"NNPLAY_MAX_STEPS": "123", "NNPLAY_MAX_UPLOAD_MB": "2.5",
                              "NNPLAY_MAX_WIDTH": "lots", "NNPLAY_MAX_LAYERS": "-4"})
    assert limits.max_steps == 123 and limits.max_upload_mb == 2.5
    assert limits.max_width == Limits().max_width  # malformed: the default stays
    assert limits.max_layers == Limits().max_layers  # negative: the default, never "off"


def test_every_preset_fits_the_default_limits():
    for preset in all_presets():
        Limits().check(preset.spec, estimated_train_size(preset.spec))


@pytest.mark.parametrize(("limits", "changes", "words"), [
    (Limits(max_layers=2), {"model.layers": [Linear(units=4)] * 3}, "3 layers"),
    (Limits(max_width=64), {"model.layers": [Linear(units=65)]}, "65 units"),
    (Limits(max_samples=100), {"data.n_samples": 1000}, "500 training samples"),
    (Limits(max_epochs=10), {"train.epochs": 11}, "11 epochs"),
    (Limits(max_steps=1000), {"train.epochs": 100}, "1,600 steps"),
])
def test_each_refusal_is_one_sentence_naming_the_limit(limits, changes, words):
    spec = BASE.with_changes({k: [x.model_dump() for x in v] if k == "model.layers" else v
                              for k, v in changes.items()})
    with pytest.raises(LimitExceeded) as err:
        limits.check(spec, estimated_train_size(spec))
    text = str(err.value)
    assert words in text and "NNPLAY_MAX_" in text
    assert text.endswith(".") and text.count(". ") == 0 and "\n" not in text


def test_step_limit_counts_a_step_cap():
    spec = BASE.with_changes({"train.epochs": 100, "train.max_steps": 500})
    assert total_steps(spec, estimated_train_size(spec)) == 500
    Limits(max_steps=500).check(spec, estimated_train_size(spec))
    unlimited = spec.with_changes({"train.max_steps": 0})
    with pytest.raises(LimitExceeded):
        Limits(max_steps=499).check(unlimited, estimated_train_size(unlimited))


def test_a_model_without_hidden_layers_is_within_every_limit():
    """Logistic regression (no hidden layers) has no width to measure; it must not crash."""
    spec = BASE.with_changes({"model.layers": []})
    Limits().check(spec, estimated_train_size(spec))


def test_image_sets_count_their_subset():
    spec = BASE.with_changes({"data.name": "mnist", "data.subset": 3000})
    assert estimated_train_size(spec) == 3000
    assert estimated_train_size(spec.with_changes({"data.subset": 0})) == 60000


def test_manager_refuses_before_queueing_and_per_session():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=2, max_epochs=5))
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_EPOCHS"):
        manager.start(BASE.with_changes({"train.epochs": 6}), owner="a")
    assert manager.runs() == []
    held = [manager.start(BASE, owner="a", paused=True) for _ in range(2)]
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_SESSION_RUNS") as err:
        manager.start(BASE, owner="a")
    assert "2 runs" in str(err.value)
    other = manager.start(BASE, owner="b")  # b has a limit of its own
    assert [r.ahead for r in held + [other]] == [None, 0, 1]
    manager.stop(held[0].id)
    held[0].wait(30)
    manager.start(BASE, owner="a", paused=True)  # room again
    manager.close()


def test_out_of_gpu_memory_ends_that_run_only():
    import torch
    from torch import nn

    from nnplay import train

    class Greedy(nn.Module):
        """Runs out of (GPU) memory on its fourth training batch."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def forward(self, x):
            self.calls += self.training
            if self.calls > 3:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20 GiB")
            return x

    def greedy(spec, device):
        ds, model, device = train.prepare(spec, device)
        model.add_module("greedy", Greedy())
        return ds, model, device

    manager = RunManager(max_runs=2, threads=1, limits=Limits())
    spec = BASE.with_changes({"train.device": "cpu"})
    bad, good = manager.start(spec, setup=greedy), manager.start(spec)
    assert bad.wait(60) and good.wait(60)
    assert bad.status == "failed"
    assert bad.message == "failed: out of GPU memory. Try a smaller batch size or a smaller model."
    assert good.status == "finished" and good.snapshot()["progress"]["step"] == 80
    manager.close()


def test_recurrent_models_count_their_layers_width_and_sequence_length():
    from nnplay.presets import load

    spec = load("sine-lstm").spec
    rnn = spec.model.recurrent
    Limits().check(spec, estimated_train_size(spec))
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_SEQ_LEN"):
        Limits(max_seq_len=spec.data.length - 1).check(spec, estimated_train_size(spec))
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_WIDTH"):
        Limits(max_width=rnn.hidden_size - 1).check(spec, estimated_train_size(spec))
    linear = sum(1 for x in spec.model.layers if x.type == "linear")
    with pytest.raises(LimitExceeded, match="NNPLAY_MAX_LAYERS"):
        Limits(max_layers=linear + rnn.num_layers - 1).check(spec, estimated_train_size(spec))


def test_a_run_paused_too_long_gives_its_slot_to_the_queue():
    manager = RunManager(max_runs=1, threads=1, limits=Limits(max_pause_minutes=0.002))
    idle = manager.start(BASE, owner="a", paused=True)
    deadline = time.monotonic() + 30
    while idle.status != "paused" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert manager.get(idle.id) is idle and idle.status == "paused"  # nobody waits: it stays
    time.sleep(0.2)
    assert idle.status == "paused"
    waiting = manager.start(BASE, owner="b")
    assert waiting.ahead == 0
    manager.get(waiting.id)  # the waiting page polls: the paused run's clock starts
    time.sleep(0.2)
    manager.get(waiting.id)  # ... and at the next poll the pause has lasted too long
    assert idle.wait(30) and idle.status == "stopped"
    assert "paused for 0.002 minutes while others waited" in idle.message
    assert waiting.wait(60) and waiting.status == "finished"
    manager.close()
