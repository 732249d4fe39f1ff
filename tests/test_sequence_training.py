"""Sequence tasks through the one engine: fit() with padded batches and lengths, determinism,
baselines and the negation subset in the records, the sequence view, runs and their snapshot,
the CLI summary line, and each sequence preset learning beyond chance in a short run."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch

from nnplay import presets, recurrent, sequences, train
from nnplay.__main__ import main
from nnplay.runs import RunManager
from nnplay.spec import ExperimentSpec, parse
from nnplay.store import Store

torch.set_num_threads(1)
CPU = torch.device("cpu")


def make(name: str, loss: str = "CrossEntropyLoss", steps: int = 40, **rec) -> ExperimentSpec:
    return parse({
        "data": {"name": name, "n_samples": 120},
        "model": {"layers": [], "recurrent": {"hidden_size": 8, **rec}},
        "loss": {"name": loss}, "train": {"batch_size": 16, "max_steps": steps},
    })  # fmt: skip


class Recorder(train.Callback):
    """Keeps the start info, every evaluation and the last sequence view."""

    def __init__(self) -> None:
        self.info: dict = {}
        self.evals: list[dict] = []
        self.view: dict | None = None

    def on_start(self, info: dict) -> None:
        self.info = info

    def on_flush(self, chunk: dict) -> None:
        self.view = chunk["view"] or self.view

    def on_eval(self, record: dict) -> None:
        self.evals.append(record)


@pytest.mark.parametrize("cell", ["LSTM", "LSTMCell", "BagOfWords"])
def test_padded_batches_train_deterministically(cell: str) -> None:
    spec = make("sentiment", cell=cell, bidirectional=cell == "LSTM")
    a, b = train.run_spec(spec, device=CPU), train.run_spec(spec, device=CPU)
    assert a.status == "finished", a.message
    assert a.history == b.history and a.record["step"] == 40
    assert {"test_acc", "test_acc_negation"} <= set(a.record)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_is_the_runs_own(cell: str) -> None:
    """nn.LSTM/GRU/RNN draw dropout between layers from torch's global RNG: two runs training at
    once took each other's draws. Each now draws from its own generator, so runs side by side
    give what the same run gives alone."""
    spec = make("sentiment", cell=cell, num_layers=2, dropout=0.5, steps=30)
    alone = [r["train_loss"] for r in train.run_spec(spec).history]
    results: list[list[float]] = [[], []]

    def run(i: int) -> None:
        results[i] = [r["train_loss"] for r in train.run_spec(spec).history]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1] == alone


def test_dropout_between_layers_draws_what_nn_lstm_draws_after_manual_seed() -> None:
    """On the CPU the run's generator stands in for the global RNG during the forward pass: the
    masks are nn.LSTM's after torch.manual_seed, and the global RNG is left as it was."""
    x = torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    plain = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5, batch_first=True)
    after_init = torch.get_rng_state()
    expected = plain(x)[0]  # masks drawn from the global RNG, after the initialisation's draws
    mine = recurrent.LSTM(3, 4, num_layers=2, dropout=0.5, batch_first=True)
    mine.load_state_dict(plain.state_dict())
    mine.generator = torch.Generator()
    mine.generator.set_state(after_init)
    torch.manual_seed(99)
    before = torch.get_rng_state()
    assert torch.equal(mine(x)[0], expected)
    assert torch.equal(torch.get_rng_state(), before)
    assert not torch.equal(mine(x)[0], expected)  # the generator moved on: new masks


def test_negation_accuracy_is_measured_on_its_subset() -> None:
    spec = make("sentiment", cell="GRU")
    ds, model, device = train.prepare(spec, CPU)
    rec = Recorder()
    result = train.fit(model, ds, spec, device, [rec])
    model.eval()
    with torch.no_grad():
        pred = model(ds.x_test, ds.lengths_test).argmax(1)
    idx = ds.subsets["negation"]
    expected = (pred[idx] == ds.y_test[idx]).float().mean().item()
    assert result.record["test_acc_negation"] == pytest.approx(expected)
    assert rec.info["eval_extra"] == ["test_acc_negation"]


def test_baseline_loss_reaches_result_and_info() -> None:
    spec = make("sine-forecast", "MSELoss", cell="GRU")
    rec = Recorder()
    result = train.run_spec(spec, [rec], device=CPU)
    ds = train.datasets.build(spec.data, spec.seed)
    expected = torch.nn.functional.mse_loss(ds.x_test[:, -1], ds.y_test).item()
    assert result.extra["baseline_test_loss"] == pytest.approx(expected)
    assert rec.info["baseline"] == ("repeat the last value", pytest.approx(expected))
    no_baseline = train.run_spec(make("parity", cell="GRU", steps=5), device=CPU)
    assert no_baseline.extra == {}


@pytest.mark.parametrize("cell, gates", [("LSTM", {"input", "forget", "output"}),
                                         ("GRU", {"reset", "update"}), ("RNN", set())])
def test_sequence_view_shows_hidden_states_and_gates(cell: str, gates: set) -> None:
    rec = Recorder()
    train.run_spec(make("sentiment", cell=cell, bidirectional=True), [rec], device=CPU)
    view = rec.view
    assert view["kind"] == "sequence" and view["cell"] == cell
    assert len(view["inputs"]) == len(view["hidden"]) == 8
    for words, n, hidden, g, sal in zip(view["inputs"], view["lengths"], view["hidden"],
                                        view["gates"], view["saliency"]):  # fmt: skip
        assert len(words) == n and all(w in sequences.VOCAB[2:] for w in words)
        assert hidden.shape == (16, n)  # (2 directions x 8 units, steps)
        assert set(g) == gates and all(v.shape == (8, n) for v in g.values())
        assert sal.shape == (n,) and (sal >= 0).all() and sal.max() > 0
    assert view["pred"].shape == (60, 2) and np.allclose(view["pred"].sum(1), 1, atol=1e-5)
    assert view["truth"].shape == (60,) and view["rollout"] is None


def test_forecast_view_has_a_rollout_against_the_truth() -> None:
    rec = Recorder()
    train.run_spec(make("sine-forecast", "MSELoss", cell="LSTM"), [rec], device=CPU)
    view = rec.view
    assert view["rollout"].shape == view["future"].shape == (8, 40)
    assert np.isfinite(view["rollout"]).all()
    assert view["inputs"][0].shape == (30, 1)


def test_every_step_forecast_trains() -> None:
    spec = make("sine-forecast", "MSELoss", cell="GRU").with_changes(
        {"data.per_step": True, "data.horizon": 2})
    rec = Recorder()
    result = train.run_spec(spec, [rec], device=CPU)
    assert result.status == "finished" and np.isfinite(result.record["test_loss"])
    assert rec.view["rollout"].shape == (8, 40)
    assert rec.view["pred"].shape == rec.view["truth"].shape == (60, 30, 2)


def test_run_snapshot_and_checkpoint_for_try_it(tmp_path) -> None:
    manager = RunManager(max_runs=1, store=Store(tmp_path))
    spec = make("sentiment", cell="LSTM", steps=30)
    run = manager.start(spec)
    assert run.wait(120) and run.status == "finished", run.message
    snap = run.snapshot()
    assert snap["view"]["kind"] == "sequence" and "train" not in snap["view"]
    assert len(snap["evals"]["test_acc_negation"]) == len(snap["evals"]["step"]) > 0
    assert [n for n in snap["grads"]["names"]] == ["embedding", "LSTM layer 1", "head.out"]
    assert snap["grads"]["norm"].shape[1] == 3
    state = manager.store.load_state_dict(run.id)
    model = recurrent.restore(spec, state)
    got = recurrent.read_sentence(model, sequences.VOCAB, "it was good", CPU, "logits")
    assert got["probs"].shape == (2,)
    restored = RunManager(store=Store(tmp_path)).get(run.id).snapshot()
    assert restored["view"]["kind"] == "sequence"
    assert len(restored["view"]["hidden"]) == 8


def test_cli_summary_carries_the_baseline(capsys) -> None:
    code = main(["train", "--preset", "sine-lstm", "--steps", "30",
                 "--set", "data.n_samples=200"])  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    summary = lines[-1]
    assert {"step", "epoch", "train_loss", "test_loss", "baseline_test_loss"} <= set(summary)
    assert summary["status"] == "finished" and summary["step"] == 30
    assert set(lines[0]) == {"step", "epoch", "train_loss", "test_loss"}


# --- each preset learns something in a short run (the full runs are in the report) ------------


def short(name: str, **changes) -> train.Result:
    spec = presets.load(name).spec.with_changes(changes)
    result = train.run_spec(spec, device=CPU)
    assert result.status == "finished", result.message
    return result


def test_sentiment_bilstm_learns_negation_quickly() -> None:
    result = short("sentiment-bilstm", **{"data.n_samples": 600, "train.max_steps": 150})
    assert result.record["test_acc"] > 0.8 and result.record["test_acc_negation"] > 0.7


def test_sine_lstm_beats_repeating_the_last_value() -> None:
    result = short("sine-lstm", **{"data.n_samples": 600, "train.max_steps": 300})
    assert result.record["test_loss"] < 0.7 * result.extra["baseline_test_loss"]


def test_parity_gru_learns_short_strings() -> None:
    result = short("parity-gru", **{"data.n_samples": 600, "data.seq_len": 4,
                                    "train.max_steps": 400})
    assert result.record["test_acc"] >= 0.9


def test_a_blown_up_sequence_run_is_diverged_with_a_sentence() -> None:
    spec = make("adding", "MSELoss", steps=200, cell="GRU").with_changes({
        "model.layers": [{"type": "linear", "units": 32}, {"type": "activation", "name": "ReLU"}],
        "optimizer.name": "SGD", "optimizer.lr": 10.0})  # fmt: skip
    result = train.run_spec(spec, device=CPU)
    assert result.status == "diverged" and "lower learning rate" in result.message


def test_l1_l2_penalties_reach_recurrent_weights() -> None:
    spec = make("parity", cell="LSTM").with_changes({"train.l1": 1e-3, "train.l2": 1e-2})
    chunks = []

    class Penalties(train.Callback):
        def on_flush(self, chunk: dict) -> None:
            chunks.extend(chunk["penalty"])

    ds, model, device = train.prepare(spec, CPU)
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    expected = 1e-3 * flat.abs().sum() + 1e-2 * flat.norm()
    train.fit(model, ds, spec, device, [Penalties()])
    assert chunks[0] == pytest.approx(expected.item(), rel=1e-5)
