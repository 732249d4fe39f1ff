"""Tests for nnplay.comparisons: which comparison a task offers, its variants, and its group of
runs, started all or none."""

from __future__ import annotations

from nnplay import comparisons, presets
from nnplay.limits import Limits
from nnplay.runs import RunManager
from nnplay.spec import DATASETS

SENTIMENT = presets.load("sentiment-bilstm").spec.with_changes({"train.epochs": 1})
PARITY = presets.load("parity-gru").spec.with_changes({"train.epochs": 1})


def test_each_task_offers_the_comparison_its_record_fits():
    assert comparisons.offered(SENTIMENT).kind == "subset"
    assert comparisons.offered(PARITY).kind == "grow"
    sine = {"data.name": "sine-forecast", "data.seq_len": 30, "loss.name": "MSELoss"}
    assert comparisons.offered(SENTIMENT.with_changes(sine)) is None
    sentence = comparisons.offered_for()
    assert all(DATASETS[n].label in sentence for n in ("sentiment", "parity", "adding"))
    assert DATASETS["sine-forecast"].label not in sentence


def test_the_variants_differ_only_in_the_model_and_length():
    subset = comparisons.COMPARISONS["subset"].variants(())
    assert [label["name"] for label, _ in subset] == ["Bag of words", "LSTM", "bidirectional LSTM"]
    grow = comparisons.COMPARISONS["grow"].variants([20, 5])
    assert [(label["cell"], label["seq_len"]) for label, _ in grow] == [
        ("RNN", 5), ("RNN", 20), ("LSTM", 5), ("LSTM", 20), ("GRU", 5), ("GRU", 20)]
    assert comparisons.COMPARISONS["grow"].note.format(runs=len(grow)).startswith("6 runs")
    assert comparisons.metric(PARITY) == ("test_acc", "test accuracy")
    assert comparisons.metric(PARITY.with_changes({"data.name": "adding", "data.seq_len": 20,
                                                   "loss.name": "MSELoss"}))[0] == "test_loss"


def test_a_refused_comparison_leaves_no_run_behind():
    manager = RunManager(max_runs=1, limits=Limits(max_session_runs=2))
    try:
        rows, refused = comparisons.start(manager, SENTIMENT, comparisons.offered(SENTIMENT),
                                          owner="t")
        assert rows == [] and "2 runs queued or training" in refused
        assert manager.runs() == []
    finally:
        manager.close()


def test_a_variant_that_does_not_validate_starts_nothing():
    manager = RunManager(max_runs=1)
    try:
        rows, refused = comparisons.start(manager, PARITY, comparisons.COMPARISONS["grow"],
                                          lengths=[5, 10_000], owner="t")
        assert rows == [] and refused and manager.runs() == []
    finally:
        manager.close()


def test_a_started_comparison_has_one_row_per_run_and_its_latest_values():
    manager = RunManager(max_runs=2)
    try:
        rows, refused = comparisons.start(manager, SENTIMENT, comparisons.offered(SENTIMENT),
                                          owner="t")
        assert refused is None and len(rows) == 3
        for row in rows:
            assert manager.get(row["id"]).wait(120)
        assert comparisons.done(manager, rows)
        got = comparisons.rows(manager, rows, ("test_acc", "test_acc_negation"))
        cells = [manager.get(r["id"]).spec.model.recurrent.cell for r in rows]
        assert cells == ["BagOfWords", "LSTM", "LSTM"]
        assert all(0.0 <= r["test_acc"] <= 1.0 and r["test_acc_negation"] is not None
                   for r in got)
    finally:
        manager.close()
