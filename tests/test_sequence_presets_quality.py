"""The quality bars of the sequence presets, as the issue states them: full default runs, so
marked slow (about half a minute together on one CPU thread)."""

from __future__ import annotations

import pytest
import torch

from nnplay import presets, train

torch.set_num_threads(1)

pytestmark = pytest.mark.slow


def full_run(name: str) -> train.Result:
    result = train.run_spec(presets.load(name).spec, device=torch.device("cpu"))
    assert result.status == "finished", result.message
    return result


def test_sentiment_bilstm_reads_negation() -> None:
    record = full_run("sentiment-bilstm").record
    assert record["test_acc"] >= 0.95 and record["test_acc_negation"] >= 0.90, record


def test_sine_lstm_beats_repeating_the_last_value_five_times() -> None:
    result = full_run("sine-lstm")
    assert result.record["test_loss"] * 5 <= result.extra["baseline_test_loss"], result.extra


def test_parity_gru_at_length_ten() -> None:
    result = full_run("parity-gru")
    assert presets.load("parity-gru").spec.data.length == 10
    assert result.record["test_acc"] >= 0.95, result.record


def test_vanishing_rnn_stays_at_the_baseline_where_an_lstm_learns() -> None:
    rnn = full_run("vanishing-rnn")
    baseline = rnn.extra["baseline_test_loss"]
    assert rnn.record["test_loss"] >= 0.8 * baseline, (rnn.record, baseline)
    spec = presets.load("vanishing-rnn").spec.with_changes({"model.recurrent.cell": "LSTM"})
    lstm = train.run_spec(spec, device=torch.device("cpu"))
    assert lstm.record["test_loss"] * 20 <= baseline, (lstm.record, baseline)
